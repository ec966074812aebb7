// Writing an answer. The answer belongs to the server, not to the connection: it is written in the
// background (Runtime.background: waitUntil on Vercel) to its end, whoever is listening. Its
// events go to followers in this process at once and to the answer bus in small batches; it ends
// early only when stopped (POST …/stop, from any instance), at shutdown, at its deadline, or when a
// guard replaces it (a model-judged emergency, content security): then the model request is
// aborted and what stands is stored.
import { finishAnswer, isStopRequested, savePartialAnswer } from '../conversations/messages.js';
import { retryWhileUnavailable } from '../db/errors.js';
import type { Db } from '../db/index.js';
import type { Message, Triage } from '../db/schema.js';
import { AppError, type ErrorCode } from '../errors.js';
import type { ModelLease } from '../limits.js';
import { estimatePromptTokens, estimateTokens } from '../llm/tokens.js';
import { type ChatMessage, type ImagePart, LlmError } from '../llm/types.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import type { AnswerBus, AnswerEvent } from './bus.js';
import { doneEventOf } from './follow.js';
import { buildModelMessages, questionMessage } from './history.js';
import type { LiveAnswer } from './live.js';
import { type ChatOutcome, type ChatTurn, remember, toOutcome } from './outcome.js';
import { addDailyUsage } from './usage.js';

/** The answer to text WeChat content security refused (shown to the user in the mini-program). */
export const BLOCKED_NOTICE =
  '抱歉，这条内容未通过内容安全检查，无法回答。请修改后重试；如有身体不适，请及时就医。';

/** How often the text streamed so far is saved, so a crashed process still leaves it. */
const PARTIAL_SAVE_MS = 2_000;
/** How often new events go to the bus (and the stop key is looked at). */
export const BUS_FLUSH_MS = 100;
/** While nothing is written, how often the bus (or, without one, the row) is asked about a stop. */
const STOP_LOOK_MS = 500;
const ROW_STOP_LOOK_MS = 1_000;

export type AnswerOptions = {
  /** CHAT_MODEL for text, VISION_MODEL for images. */
  model: string;
  /**
   * The image_url parts sent with the new question (vision; earlier images are not resent), read
   * once the answer is under way so reading them does not delay `meta`.
   */
  imageParts?: () => Promise<ImagePart[]>;
  requestId?: string;
  /** Given back when the answer ends, with the tokens it used. */
  lease: ModelLease;
};

/** What replaces an answer while it is written. */
export type Replacement = { text: string; triage?: Triage };

/**
 * Watches an answer as it is written and may replace it: the model-judgement triage layer and
 * content security both work through `replace`.
 */
export interface AnswerGuard {
  /** Starts with the answer; resolves (or never does) with a replacement. */
  start?(signal: AbortSignal): Promise<Replacement | null>;
  /** Sees every piece of text as it is written. */
  delta?(text: string, all: string): void;
  /** Sees the whole text once the model finished; may still replace it. */
  finish?(all: string): Promise<Replacement | null>;
}

type Failure = { code: ErrorCode; message: string };

function toFailure(err: unknown): Failure {
  // ABORTED comes only from our own abort, which sets the ending first.
  if (err instanceof LlmError && err.code !== 'ABORTED') return { code: err.code, message: err.message };
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: 'internal error' };
}

/** Sends events to the bus in batches and hears stop requests; without a bus, reads the row. */
class Publisher {
  private pending: AnswerEvent[] = [];
  private busy: Promise<void> = Promise.resolve();
  private looked = 0;
  private busFailed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rt: Runtime,
    private readonly db: Db,
    private readonly bus: AnswerBus | null,
    private readonly answer: Pick<Message, 'id' | 'userId'>,
    private readonly onStop: () => void,
  ) {
    this.timer = setInterval(() => void this.tick(), BUS_FLUSH_MS);
  }

  push(e: AnswerEvent): void {
    this.pending.push(e);
  }

  private tick(): Promise<void> {
    const since = Date.now() - this.looked;
    const useBus = this.bus && !this.busFailed;
    if (this.pending.length === 0 && since < (useBus ? STOP_LOOK_MS : ROW_STOP_LOOK_MS)) return this.busy;
    this.busy = this.busy.then(() => this.flush());
    return this.busy;
  }

  private async flush(): Promise<void> {
    this.looked = Date.now();
    const batch = this.pending;
    this.pending = [];
    if (this.bus && !this.busFailed) {
      try {
        if ((await this.bus.publish(this.answer.id, batch)).stop) this.onStop();
        return;
      } catch (err) {
        // Followers elsewhere fall back to the row; stops are then heard there.
        this.busFailed = true;
        this.rt.log.warn(
          { assistantMessageId: this.answer.id, ...errorFields(err) },
          'answer bus unavailable',
        );
      }
    }
    if (await isStopRequested(this.db, this.answer.userId, this.answer.id).catch(() => false)) this.onStop();
  }

  /** Sends what is left; the last events of an answer must reach the bus. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
    if (this.pending.length && this.bus && !this.busFailed) {
      await this.bus.publish(this.answer.id, this.pending).catch(() => undefined);
    }
  }
}

type Ending = { kind: 'stopped' } | { kind: 'shutdown' } | { kind: 'replaced'; replacement: Replacement };

/**
 * Starts writing the answer of a stored turn and returns at once; `done` settles with the outcome
 * once the answer is stored (never rejects). The writing is the runtime's background work.
 */
export function startAnswer(
  rt: Runtime,
  turn: ChatTurn,
  o: AnswerOptions,
  guards: readonly AnswerGuard[] = [],
): Promise<ChatOutcome> {
  const id = turn.assistantMessage.id;
  const live = rt.answers.open(id);
  const done = writeAnswer(rt, turn, o, guards, live)
    .catch(async (err: unknown) => {
      // Only an outage before the model was asked gets here (the database, say): give back the
      // slot and reservation, and end the followers' streams.
      await o.lease.finish(0);
      live.push({
        t: 'error',
        error: { code: 'INTERNAL', message: 'internal error', assistantMessageId: id },
      });
      throw err;
    })
    .finally(() => rt.answers.forget(id));
  rt.background(done);
  return done;
}

async function writeAnswer(
  rt: Runtime,
  turn: ChatTurn,
  o: AnswerOptions,
  guards: readonly AnswerGuard[],
  live: LiveAnswer,
): Promise<ChatOutcome> {
  const started = performance.now();
  const answer = turn.assistantMessage;
  const db = await rt.db();
  const bus = await rt.bus().catch(() => null);
  const upstream = new AbortController();
  let ending: Ending | undefined;
  const end = (e: Ending) => {
    if (ending) return;
    ending = e;
    upstream.abort();
  };
  live.stop.signal.addEventListener('abort', () =>
    end({ kind: live.stop.signal.reason === 'shutdown' ? 'shutdown' : 'stopped' }),
  );
  const publisher = new Publisher(rt, db, bus, answer, () => live.stop.abort('stopped'));
  const emit = (e: AnswerEvent) => {
    live.push(e);
    publisher.push(e);
  };
  const replace = (r: Replacement | null) => {
    if (r && !ending) end({ kind: 'replaced', replacement: r });
  };
  const guardsDone = new AbortController();
  for (const g of guards) {
    g.start?.(guardsDone.signal).then(replace, (err: unknown) =>
      rt.log.warn({ requestId: o.requestId, ...errorFields(err) }, 'answer guard failed'),
    );
  }

  let messages: ChatMessage[] = [];
  let images = 0;
  let text = '';
  let usage: { promptTokens: number; completionTokens: number } | undefined;
  let finishReason: string | null = null;
  let failure: Failure | null = null;
  // The model that answered: the configured one, or a fallback (the stream's `model` event).
  let model = o.model;
  let lastSave = Date.now();
  let saving: Promise<void> = Promise.resolve();
  try {
    const parts = o.imageParts ? await o.imageParts() : undefined;
    images = parts?.length ?? 0;
    messages = buildModelMessages({
      systemPrompt: turn.systemPrompt,
      history: turn.history,
      question: questionMessage(turn.userMessage.content, parts),
    });
    const llm = await rt.llm();
    for await (const ev of llm.streamChat({ model: o.model, messages, signal: upstream.signal })) {
      if (ev.type === 'text') {
        text += ev.text;
        emit({ t: 'delta', text: ev.text });
        for (const g of guards) g.delta?.(ev.text, text);
        if (Date.now() - lastSave >= PARTIAL_SAVE_MS) {
          lastSave = Date.now();
          const snapshot = text;
          // Chained, never overlapping, and awaited before the final write so it cannot land after it.
          saving = saving
            .then(() => savePartialAnswer(db, turn.userId, answer.id, snapshot))
            .catch((err: unknown) =>
              rt.log.warn({ requestId: o.requestId, ...errorFields(err) }, 'partial save'),
            );
        }
      } else if (ev.type === 'usage') {
        usage = { promptTokens: ev.promptTokens, completionTokens: ev.completionTokens };
      } else if (ev.type === 'model') {
        model = ev.model;
      } else {
        finishReason = ev.reason;
      }
    }
  } catch (err) {
    if (!ending) {
      failure = toFailure(err);
      if (failure.code === 'INTERNAL')
        rt.log.error({ requestId: o.requestId, ...errorFields(err) }, 'chat failed');
    }
  }
  if (!ending && !failure) {
    for (const g of guards) {
      if (ending) break;
      replace((await g.finish?.(text).catch(() => null)) ?? null);
    }
  }
  guardsDone.abort();

  // Providers bill what they generated; when the usage chunk is missing, count it ourselves.
  const generated = text;
  let status: 'complete' | 'incomplete' | 'error' | 'blocked';
  let triage: Triage | null = null;
  let aiGenerated = true;
  if (ending?.kind === 'replaced') {
    const r = ending.replacement;
    text = r.text;
    triage = r.triage ?? null;
    status = triage ? 'complete' : 'blocked';
    finishReason = triage ? 'triage' : 'blocked';
    // Fixed guidance or a fixed notice: not AI-generated (no disclaimer, no implicit label).
    aiGenerated = false;
  } else if (ending?.kind === 'stopped') {
    status = 'incomplete';
    finishReason = 'stopped';
  } else if (ending?.kind === 'shutdown') {
    failure = { code: 'SERVICE_UNAVAILABLE', message: 'the answer was interrupted; please ask again' };
    status = text ? 'incomplete' : 'error';
  } else if (failure) {
    status = text ? 'incomplete' : 'error';
  } else {
    status = finishReason === 'content_filter' ? 'blocked' : 'complete';
    if (status === 'blocked') {
      text = BLOCKED_NOTICE;
      aiGenerated = false;
    }
  }
  if (status === 'error') aiGenerated = false;
  else
    usage ??= { promptTokens: estimatePromptTokens(messages), completionTokens: estimateTokens(generated) };

  await saving;
  const now = rt.now();
  const stored = await retryWhileUnavailable(() =>
    finishAnswer(db, turn.userId, answer.id, {
      content: text,
      status,
      aiGenerated,
      triage,
      finishReason,
      errorCode: failure?.code ?? null,
      usage: usage ?? null,
      model,
      prices: rt.config.MODEL_PRICES,
      now,
    }),
  ).catch((err: unknown) => {
    rt.log.error({ requestId: o.requestId, ...errorFields(err) }, 'answer not stored');
    return undefined;
  });
  // The conversation was deleted meanwhile (or the write failed): answer with what was written.
  const row: Message = stored ?? {
    ...answer,
    content: text,
    status,
    aiGenerated,
    triage,
    finishReason,
    errorCode: failure?.code ?? null,
    model,
    promptTokens: usage?.promptTokens ?? null,
    completionTokens: usage?.completionTokens ?? null,
    updatedAt: now,
  };
  if (usage) {
    await addDailyUsage(db, turn.userId, now, usage).catch((err: unknown) =>
      rt.log.warn({ requestId: o.requestId, ...errorFields(err) }, 'usage not recorded'),
    );
  }
  await o.lease.finish(usage ? usage.promptTokens + usage.completionTokens : 0);

  const outcome = toOutcome(turn, row, failure);
  await remember(rt, db, turn, outcome);
  if (ending?.kind === 'replaced') {
    if (triage) emit({ t: 'triage', triage });
    emit({ t: 'replace', text });
  }
  emit(endEvent(row, failure));
  await publisher.close();
  logAnswer(rt, turn, o, row, failure, images, started);
  return outcome;
}

function endEvent(row: Message, failure: Failure | null): AnswerEvent {
  if (failure) {
    return {
      t: 'error',
      error: { code: failure.code, message: failure.message, assistantMessageId: row.id },
    };
  }
  return doneEventOf(row);
}

function logAnswer(
  rt: Runtime,
  turn: ChatTurn,
  o: AnswerOptions,
  row: Message,
  failure: Failure | null,
  images: number,
  started: number,
): void {
  // Ids, codes and counts only: never the question or the answer.
  rt.log.info(
    {
      requestId: o.requestId,
      fn: turn.route,
      userId: turn.userId,
      conversationId: turn.conversationId,
      assistantMessageId: row.id,
      status: row.status,
      triage: row.triage?.category,
      errorCode: failure?.code,
      finishReason: row.finishReason,
      model: row.model,
      promptTokens: row.promptTokens,
      completionTokens: row.completionTokens,
      images,
      latencyMs: Math.round(performance.now() - started),
    },
    'chat',
  );
}
