// Following an answer from any instance (GET …/messages/:id/stream) and stopping it (POST …/stop).
// The writer's own process follows its in-memory events; another process reads the answer bus
// (Redis) a few times a second, and without a bus the answer row (saved every 2 s). A finished
// answer is sent from its row at once.

import { and, eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { getConversationOrThrow } from '../conversations/service.js';
import type { Db } from '../db/index.js';
import { type Message, messages } from '../db/schema.js';
import { AppError, ERROR_CODES, notFound } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { AI_DISCLAIMER } from '../safety/index.js';
import type { AnswerEvent } from './bus.js';
import { Cursor, type EventSink, type LiveAnswer } from './live.js';

/** How often a follower on another instance reads the bus. */
export const BUS_POLL_MS = 100;
/** How long a follower waits for an answer's first events on the bus before reading the row. */
const BUS_GRACE_MS = 3_000;
/** How often a follower reads the row when there is no bus. */
const ROW_POLL_MS = 1_000;
/** While following the bus, how often the row is checked in case the writer died. */
const ROW_CHECK_MS = 5_000;
/** How long a stop request waits for the writer to store the answer. */
const STOP_WAIT_MS = 3_000;

/**
 * The text is not the one first streamed (a model-judged emergency, or content security refused
 * it): a client holding any of it must replace it, whatever its offset.
 */
export function wasReplaced(row: Pick<Message, 'triage' | 'status' | 'model'>): boolean {
  // A refused question's notice was never anything else: no model was asked for it.
  return row.triage?.source === 'model' || (row.status === 'blocked' && row.model !== null);
}

/** Still being written: `streaming`, and younger than any answer may run (else its writer died). */
export function isWriting(rt: Runtime, row: Pick<Message, 'status' | 'createdAt'>): boolean {
  if (row.status !== 'streaming' && row.status !== 'pending') return false;
  return rt.now().getTime() - row.createdAt.getTime() < rt.config.LLM_TIMEOUT_MS + 60_000;
}

const ERROR_MESSAGES: Record<string, string> = {
  UPSTREAM_TIMEOUT: 'the model did not answer in time',
  UPSTREAM_ERROR: 'the model failed to answer',
  SERVICE_UNAVAILABLE: 'the answer was interrupted; please ask again',
};

/** The last event a finished answer's stream ended with. */
export function endEventOf(row: Message): AnswerEvent {
  const unfinished = row.status === 'streaming' || row.status === 'pending';
  const stored = ERROR_CODES.find((c) => c === row.errorCode) ?? (row.errorCode ? 'UPSTREAM_ERROR' : null);
  const code = unfinished ? 'SERVICE_UNAVAILABLE' : stored;
  if (code && row.status !== 'complete' && row.status !== 'blocked') {
    const message = ERROR_MESSAGES[code] ?? 'the answer failed';
    return { t: 'error', error: { code, message, assistantMessageId: row.id } };
  }
  return doneEventOf(row);
}

/** `done` for a stored answer: its finish reason, usage, and the disclaimer when AI-generated. */
export function doneEventOf(
  row: Pick<Message, 'id' | 'finishReason' | 'promptTokens' | 'completionTokens' | 'aiGenerated'>,
): AnswerEvent {
  return {
    t: 'done',
    done: {
      assistantMessageId: row.id,
      finishReason: row.finishReason ?? 'stop',
      usage: { promptTokens: row.promptTokens ?? 0, completionTokens: row.completionTokens ?? 0 },
      ...(row.aiGenerated ? { disclaimer: AI_DISCLAIMER } : {}),
    },
  };
}

/** A finished answer as the events of its stream (deltas coalesced). */
export function eventsOfRow(row: Message): AnswerEvent[] {
  const out: AnswerEvent[] = [];
  if (row.triage) out.push({ t: 'triage', triage: row.triage });
  if (wasReplaced(row)) out.push({ t: 'replace', text: row.content });
  else if (row.content) out.push({ t: 'delta', text: row.content });
  out.push(endEventOf(row));
  return out;
}

async function readAnswer(db: Db, userId: string, id: string): Promise<Message | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.id, id)));
  return row;
}

/** The caller's assistant message in that conversation; anything else is 404. */
export async function getAnswerOrThrow(
  db: Db,
  userId: string,
  conversationId: string,
  messageId: string,
): Promise<Message> {
  await getConversationOrThrow(db, userId, conversationId);
  const row = await readAnswer(db, userId, messageId);
  if (!row || row.conversationId !== conversationId || row.role !== 'assistant') throw notFound('message');
  return row;
}

/** An offset past a finished answer's text is a 400; one ahead of an answer still written waits. */
export function checkOffset(rt: Runtime, row: Message, after: number): void {
  if (isWriting(rt, row) || wasReplaced(row)) return;
  if (after > row.content.length) throw new AppError('BAD_REQUEST', 'offset is past the end of the answer');
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The writer's next event, or the follower leaving. */
function nextOrGone(local: LiveAnswer, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const gone = () => resolve();
    signal.addEventListener('abort', gone, { once: true });
    void local.next().then(() => {
      signal.removeEventListener('abort', gone);
      resolve();
    });
  });
}

async function sendEvents(cursor: Cursor, events: readonly AnswerEvent[], sink: EventSink): Promise<boolean> {
  for (const e of events) if (await cursor.apply(e, sink)) return true;
  return false;
}

/** The rest of a finished row, for a follower whose cursor already has part of its text. */
function restOfRow(row: Message, cursor: Cursor): AnswerEvent[] {
  const out: AnswerEvent[] = [];
  if (wasReplaced(row)) out.push({ t: 'replace', text: row.content });
  else if (row.content.length > cursor.position)
    out.push({ t: 'delta', text: row.content.slice(cursor.position) });
  out.push(endEventOf(row));
  return out;
}

/**
 * Sends the answer from `after` on until it ends or `signal` fires (the client went away: only the
 * following stops, never the writing).
 */
export async function followAnswer(
  rt: Runtime,
  row: Message,
  after: number,
  sink: EventSink,
  signal: AbortSignal,
): Promise<void> {
  const cursor = new Cursor(after);
  const local = rt.answers.get(row.id);
  if (local) {
    let i = 0;
    while (!signal.aborted) {
      while (i < local.events.length) {
        const e = local.events[i++];
        if (e && (await cursor.apply(e, sink))) return;
      }
      if (local.ended) return;
      await nextOrGone(local, signal);
    }
    return;
  }
  if (!isWriting(rt, row)) {
    await sendEvents(cursor, eventsOfRow(row), sink);
    return;
  }
  const db = await rt.db();
  const bus = await rt.bus();
  // The triage event comes first whatever the source (rule hits are never written here).
  if (bus) {
    let i = 0;
    let checked = Date.now();
    const since = Date.now();
    while (!signal.aborted) {
      let got: AnswerEvent[] | null = null;
      try {
        got = await bus.read(row.id, i);
      } catch {
        break; // the bus is down: follow the row instead
      }
      // No log yet: the writer's first batch may still be on its way; past the grace period it
      // is not publishing here (no bus where it runs, or the log expired): follow the row.
      if (got === null && i === 0 && Date.now() - since > BUS_GRACE_MS) break;
      if (got) {
        i += got.length;
        if (await sendEvents(cursor, got, sink)) return;
      }
      if (Date.now() - checked >= ROW_CHECK_MS) {
        checked = Date.now();
        const now = await readAnswer(db, row.userId, row.id);
        if (!now) return;
        if (!isWriting(rt, now)) {
          // The writer ended (or died) without its last events reaching the bus: the row has them.
          const tail = await bus.read(row.id, i).catch(() => null);
          if (tail?.length && (await sendEvents(cursor, tail, sink))) return;
          await sendEvents(cursor, restOfRow(now, cursor), sink);
          return;
        }
      }
      await pause(BUS_POLL_MS, signal);
    }
  }
  while (!signal.aborted) {
    const now = await readAnswer(db, row.userId, row.id);
    if (!now) return;
    if (!isWriting(rt, now)) {
      await sendEvents(cursor, restOfRow(now, cursor), sink);
      return;
    }
    if (now.content.length > cursor.position) {
      await cursor.apply({ t: 'delta', text: now.content.slice(cursor.position) }, sink);
    }
    await pause(ROW_POLL_MS, signal);
  }
}

/**
 * Stops an answer wherever it is written: in this process directly, elsewhere through the bus and
 * the row (the writer watches one of them), then waits briefly for the writer to store it.
 */
export async function stopAnswer(
  ctx: Ctx,
  input: { conversationId: string; messageId: string },
): Promise<Message> {
  const { rt, userId } = ctx;
  const { conversationId, messageId } = input;
  const db = await rt.db();
  const row = await getAnswerOrThrow(db, userId, conversationId, messageId);
  if (!isWriting(rt, row)) return row;
  const local = rt.answers.get(row.id);
  if (local) {
    local.stop.abort('stopped');
  } else {
    await db
      .update(messages)
      .set({ stopRequestedAt: rt.now() })
      .where(and(eq(messages.userId, userId), eq(messages.id, row.id)));
    const bus = await rt.bus();
    await bus?.requestStop(row.id).catch(() => undefined);
  }
  const until = Date.now() + STOP_WAIT_MS;
  let now: Message | undefined = row;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    now = await readAnswer(db, userId, row.id);
    if (!now || !isWriting(rt, now)) break;
  }
  return now ?? row;
}
