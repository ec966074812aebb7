// The chat engine shared by text-chat and vision-chat. Two steps, so that everything that can be
// refused is refused before a stream starts (a plain JSON error):
//   prepareChat: checks the conversation, claims the Idempotency-Key, and stores the
//                question (before any model call, so nothing the user wrote is lost) with an answer
//                row in status `streaming`;
//   runChat:     sends meta, asks the model (unless triage answered), streams deltas to a sink,
//                and finishes the answer row as complete / incomplete / error.
import { eq } from 'drizzle-orm';
import {
  attachFiles,
  finishAnswer,
  insertMessage,
  type PublicMessage,
  recentMessages,
  savePartialAnswer,
  toPublicMessage,
} from '../conversations/messages.js';
import { createConversation, getConversationOrThrow, touchConversation } from '../conversations/service.js';
import { retryWhileUnavailable } from '../db/errors.js';
import type { Db } from '../db/index.js';
import { type HealthProfile, type Message, type Triage, users } from '../db/schema.js';
import { AppError, type ErrorCode } from '../errors.js';
import { estimatePromptTokens, estimateTokens } from '../llm/tokens.js';
import { type ChatMessage, type ImagePart, LlmError } from '../llm/types.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { AI_DISCLAIMER, buildSystemPrompt } from '../safety/index.js';
import { contentCheckEnabled } from '../wechat/content.js';
import { buildModelMessages, historyWindow, questionMessage } from './history.js';
import { claimKey, type IdempotencyScope, releaseKey, requestHash, storeResult } from './idempotency.js';
import { titleFromQuestion } from './title.js';
import { addDailyUsage } from './usage.js';

/** The answer to text WeChat content security refused (shown to the user in the mini-program). */
export const BLOCKED_NOTICE =
  '抱歉，这条内容未通过内容安全检查，无法回答。请修改后重试；如有身体不适，请及时就医。';

async function isRisky(rt: Runtime, openid: string, content: string): Promise<boolean> {
  const { checkText } = await import('../wechat/content.js');
  return (await checkText(rt, { content, openid, scene: 2 })) === 'risky';
}

/** How many earlier messages are read to fill the history budget. */
const HISTORY_SCAN = 100;
/** How often the text streamed so far is saved, so a crashed process still leaves it. */
const PARTIAL_SAVE_MS = 2_000;

export type Usage = { promptTokens: number; completionTokens: number };
export type MetaEvent = { conversationId: string; userMessageId: string; assistantMessageId: string };
export type DoneEvent = {
  assistantMessageId: string;
  finishReason: string;
  usage: Usage;
  disclaimer?: string;
};
/** ABORTED (the client went away) is never sent: nobody is listening. */
export type FailureCode = ErrorCode | 'ABORTED';
export type ErrorEvent = { code: ErrorCode; message: string; assistantMessageId?: string };

/** Where the events of one answer go: an SSE stream, or nowhere for a JSON answer. */
export interface ChatSink {
  meta(e: MetaEvent): Promise<void>;
  triage(t: Triage): Promise<void>;
  delta(text: string): Promise<void>;
  done(e: DoneEvent): Promise<void>;
  error(e: ErrorEvent): Promise<void>;
}

export const silentSink: ChatSink = {
  meta: async () => {},
  triage: async () => {},
  delta: async () => {},
  done: async () => {},
  error: async () => {},
};

/** The JSON answer of stream=false, and what an Idempotency-Key replays. */
export type ChatResult = {
  conversationId: string;
  userMessage: PublicMessage;
  assistantMessage: PublicMessage;
};

export type ChatOutcome = {
  response: ChatResult;
  finishReason: string | null;
  failure: { code: FailureCode; message: string } | null;
};

export type ChatRequest = {
  userId: string;
  /** For WeChat content security (msg_sec_check is per openid). */
  openid: string;
  /** The function's name: scopes Idempotency-Keys and labels logs. */
  route: string;
  conversationId?: string;
  content: string;
  /** Uploaded images (already checked by the caller) stored on the question and tied to the conversation. */
  imageIds?: string[];
  idempotencyKey?: string;
  /** The validated request body, hashed to tell a retry from a different request under the same key. */
  body: unknown;
  /** The caller's triage of `content` (it decides on limits before this runs): null when none. */
  triage: Triage | null;
};

export type ChatTurn = {
  userId: string;
  route: string;
  conversationId: string;
  userMessage: Message;
  assistantMessage: Message;
  /** Set when the question showed emergency signs: the fixed guidance is the whole answer. */
  triage: Triage | null;
  /** Set when WeChat content security refused the question: the notice is the whole answer. */
  blocked: boolean;
  openid: string;
  systemPrompt: string;
  /** Earlier messages within the history budget, oldest first. */
  history: ChatMessage[];
  idempotency: IdempotencyScope | undefined;
};

export type Prepared = { kind: 'turn'; turn: ChatTurn } | { kind: 'replay'; outcome: ChatOutcome };

async function healthProfileOf(db: Db, userId: string): Promise<HealthProfile | null> {
  const [row] = await db.select({ p: users.healthProfile }).from(users).where(eq(users.id, userId));
  return row?.p ?? null;
}

export function isOutcome(v: Record<string, unknown>): v is ChatOutcome & Record<string, unknown> {
  const r = v.response as Partial<ChatResult> | undefined;
  return typeof r?.conversationId === 'string' && !!r.userMessage && !!r.assistantMessage;
}

export async function prepareChat(rt: Runtime, req: ChatRequest): Promise<Prepared> {
  const db = await rt.db();
  const now = rt.now();
  if (req.conversationId) await getConversationOrThrow(db, req.userId, req.conversationId);

  let scope: IdempotencyScope | undefined;
  if (req.idempotencyKey) {
    scope = { userId: req.userId, route: req.route, key: req.idempotencyKey };
    const claim = await claimKey(db, scope, requestHash(req.body), now);
    if (!claim.claimed) {
      if (!isOutcome(claim.result)) throw new AppError('CONFLICT', 'stored result unreadable; use a new key');
      return { kind: 'replay', outcome: claim.result };
    }
  }

  try {
    const found = req.triage;
    // Content security only for what would reach the model: emergency guidance is never withheld.
    const blocked = !found && contentCheckEnabled(rt) && (await isRisky(rt, req.openid, req.content));
    // Consent is required on chat routes, so the profile may be part of the model's context.
    const [profile, earlier] = await Promise.all([
      found ? null : healthProfileOf(db, req.userId),
      found || !req.conversationId ? [] : recentMessages(db, req.userId, req.conversationId, HISTORY_SCAN),
    ]);
    const imageIds = req.imageIds ?? [];
    const stored = await db.transaction(async (tx) => {
      const conversationId =
        req.conversationId ??
        (await createConversation(tx, req.userId, { title: titleFromQuestion(req.content), now })).id;
      const userMessage = await insertMessage(tx, req.userId, conversationId, {
        role: 'user',
        content: req.content,
        status: blocked ? 'blocked' : 'complete',
        imageIds,
        createdAt: now,
      });
      const assistantMessage = await insertMessage(
        tx,
        req.userId,
        conversationId,
        found
          ? { role: 'assistant', content: found.message, status: 'complete', triage: found, createdAt: now }
          : blocked
            ? { role: 'assistant', content: BLOCKED_NOTICE, status: 'blocked', createdAt: now }
            : { role: 'assistant', content: '', status: 'streaming', aiGenerated: true, createdAt: now },
      );
      await attachFiles(tx, req.userId, conversationId, imageIds);
      await touchConversation(tx, req.userId, conversationId, now);
      return { conversationId, userMessage, assistantMessage };
    });
    return {
      kind: 'turn',
      turn: {
        userId: req.userId,
        route: req.route,
        ...stored,
        triage: found,
        blocked,
        openid: req.openid,
        systemPrompt: buildSystemPrompt({
          healthProfile: profile,
          now,
          emergencyNumber: rt.config.EMERGENCY_NUMBER,
          crisisLine: rt.config.CRISIS_LINE,
        }),
        history: historyWindow(earlier, rt.config.HISTORY_TOKEN_BUDGET),
        idempotency: scope,
      },
    };
  } catch (err) {
    if (scope) await releaseKey(db, scope).catch(() => undefined);
    throw err;
  }
}

export type RunChatOptions = {
  /** CHAT_MODEL for text, VISION_MODEL for images. */
  model: string;
  /** OpenAI image_url parts sent with the new question (vision-chat); earlier images are not resent. */
  imageParts?: ImagePart[];
  /** Fires when the client goes away: the upstream request is aborted at once. */
  signal: AbortSignal;
  sink: ChatSink;
  requestId?: string;
};

function toFailure(err: unknown): { code: FailureCode; message: string } {
  if (err instanceof LlmError) return { code: err.code, message: err.message };
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: 'internal error' };
}

type AnswerStatus = 'complete' | 'incomplete' | 'error' | 'blocked';

/** Stopped short: incomplete with some text, error without; the provider's filter: blocked. */
function answerStatus(failed: boolean, text: string, finishReason: string | null): AnswerStatus {
  if (failed) return text ? 'incomplete' : 'error';
  return finishReason === 'content_filter' ? 'blocked' : 'complete';
}

/** Never throws for model failures: they end the answer (error event) and are in the outcome. */
export async function runChat(rt: Runtime, turn: ChatTurn, o: RunChatOptions): Promise<ChatOutcome> {
  const started = performance.now();
  const db = await rt.db();
  const { sink } = o;
  const assistantMessageId = turn.assistantMessage.id;
  await sink.meta({
    conversationId: turn.conversationId,
    userMessageId: turn.userMessage.id,
    assistantMessageId,
  });

  if (turn.triage || turn.blocked) {
    const finishReason = turn.triage ? 'triage' : 'blocked';
    if (turn.triage) await sink.triage(turn.triage);
    await sink.delta(turn.assistantMessage.content);
    const outcome: ChatOutcome = {
      response: {
        conversationId: turn.conversationId,
        userMessage: toPublicMessage(turn.userMessage),
        assistantMessage: toPublicMessage(turn.assistantMessage),
      },
      finishReason,
      failure: null,
    };
    await remember(rt, db, turn, outcome);
    await sink.done({
      assistantMessageId,
      finishReason,
      usage: { promptTokens: 0, completionTokens: 0 },
    });
    logTurn(rt, turn, o, outcome, started);
    return outcome;
  }

  const messages = buildModelMessages({
    systemPrompt: turn.systemPrompt,
    history: turn.history,
    question: questionMessage(turn.userMessage.content, o.imageParts),
  });
  let text = '';
  let usage: Usage | undefined;
  let finishReason: string | null = null;
  let failure: { code: FailureCode; message: string } | null = null;
  let lastSave = Date.now();
  let saving: Promise<void> = Promise.resolve();
  try {
    const llm = await rt.llm();
    for await (const ev of llm.streamChat({ model: o.model, messages, signal: o.signal })) {
      if (ev.type === 'text') {
        text += ev.text;
        await sink.delta(ev.text);
        if (Date.now() - lastSave >= PARTIAL_SAVE_MS) {
          lastSave = Date.now();
          const snapshot = text;
          // Chained, never overlapping, and awaited before the final write so it cannot land after it.
          saving = saving
            .then(() => savePartialAnswer(db, turn.userId, assistantMessageId, snapshot))
            .catch((err: unknown) =>
              rt.log.warn({ requestId: o.requestId, ...errorFields(err) }, 'partial save'),
            );
        }
      } else if (ev.type === 'usage') {
        usage = { promptTokens: ev.promptTokens, completionTokens: ev.completionTokens };
      } else {
        finishReason = ev.reason;
      }
    }
  } catch (err) {
    failure = toFailure(err);
    if (failure.code === 'INTERNAL')
      rt.log.error({ requestId: o.requestId, ...errorFields(err) }, 'chat failed');
  }

  let status = answerStatus(failure !== null, text, finishReason);
  // The model's words go through the same check: a refused answer is kept out of the history and
  // replaced by the notice for every later read (the stream already shown ends with finishReason
  // `blocked`, which tells the client to replace it too).
  if (status === 'complete' && contentCheckEnabled(rt) && (await isRisky(rt, turn.openid, text))) {
    status = 'blocked';
    finishReason = 'blocked';
    text = BLOCKED_NOTICE;
  }
  // Providers bill what they generated; when the usage chunk is missing, count it ourselves.
  if (status !== 'error') {
    usage ??= { promptTokens: estimatePromptTokens(messages), completionTokens: estimateTokens(text) };
  }
  await saving;
  const now = rt.now();
  const aiGenerated = status !== 'error';
  const errorCode = failure?.code ?? null;
  // The user has seen this text: a busy pool or a dropped connection must not lose it.
  const stored = await retryWhileUnavailable(() =>
    finishAnswer(db, turn.userId, assistantMessageId, {
      content: text,
      status,
      aiGenerated,
      finishReason,
      errorCode,
      usage: usage ?? null,
      model: o.model,
      now,
    }),
  );
  const row: Message = stored ?? {
    // The conversation was deleted meanwhile: answer with what was streamed.
    ...turn.assistantMessage,
    content: text,
    status,
    aiGenerated,
    finishReason,
    errorCode,
    model: o.model,
    promptTokens: usage?.promptTokens ?? null,
    completionTokens: usage?.completionTokens ?? null,
    updatedAt: now,
  };
  if (usage) {
    await addDailyUsage(db, turn.userId, now, usage).catch((err: unknown) =>
      rt.log.warn({ requestId: o.requestId, ...errorFields(err) }, 'usage not recorded'),
    );
  }

  const outcome: ChatOutcome = {
    response: {
      conversationId: turn.conversationId,
      userMessage: toPublicMessage(turn.userMessage),
      assistantMessage: toPublicMessage(row),
    },
    finishReason,
    failure,
  };
  await remember(rt, db, turn, outcome);
  await finishEvents(sink, outcome);
  logTurn(rt, turn, o, outcome, started);
  return outcome;
}

/** The last event of an answer: done, or error when it stopped short. */
async function finishEvents(sink: ChatSink, outcome: ChatOutcome): Promise<void> {
  const answer = outcome.response.assistantMessage;
  const f = outcome.failure;
  if (f) {
    if (f.code !== 'ABORTED')
      await sink.error({ code: f.code, message: f.message, assistantMessageId: answer.id });
    return;
  }
  await sink.done({
    assistantMessageId: answer.id,
    finishReason: outcome.finishReason ?? 'stop',
    usage: answer.usage ?? { promptTokens: 0, completionTokens: 0 },
    ...(answer.aiGenerated ? { disclaimer: AI_DISCLAIMER } : {}),
  });
}

/** The stored result of an Idempotency-Key, sent again: meta, triage?, the whole text, done (or error). */
export async function replayChat(outcome: ChatOutcome, sink: ChatSink): Promise<void> {
  const r = outcome.response;
  await sink.meta({
    conversationId: r.conversationId,
    userMessageId: r.userMessage.id,
    assistantMessageId: r.assistantMessage.id,
  });
  if (r.assistantMessage.triage) await sink.triage(r.assistantMessage.triage);
  if (r.assistantMessage.content) await sink.delta(r.assistantMessage.content);
  await finishEvents(sink, outcome);
}

/** Keeps the outcome for retries under the same key; an answer that never started frees the key. */
async function remember(rt: Runtime, db: Db, turn: ChatTurn, outcome: ChatOutcome): Promise<void> {
  const scope = turn.idempotency;
  if (!scope) return;
  try {
    if (outcome.response.assistantMessage.status === 'error') await releaseKey(db, scope);
    else await storeResult(db, scope, outcome);
  } catch (err) {
    rt.log.warn({ ...errorFields(err) }, 'idempotency result not stored');
  }
}

function logTurn(
  rt: Runtime,
  turn: ChatTurn,
  o: RunChatOptions,
  outcome: ChatOutcome,
  started: number,
): void {
  const a = outcome.response.assistantMessage;
  // Ids, codes and counts only: never the question or the answer.
  rt.log.info(
    {
      requestId: o.requestId,
      fn: turn.route,
      userId: turn.userId,
      conversationId: turn.conversationId,
      assistantMessageId: a.id,
      status: a.status,
      triage: turn.triage?.category,
      errorCode: outcome.failure?.code,
      finishReason: outcome.finishReason,
      model: a.model,
      promptTokens: a.usage?.promptTokens,
      completionTokens: a.usage?.completionTokens,
      images: o.imageParts?.length ?? 0,
      latencyMs: Math.round(performance.now() - started),
    },
    'chat',
  );
}
