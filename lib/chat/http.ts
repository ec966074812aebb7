// The HTTP side of chat: an answer as JSON (stream=false) or as server-sent events with `id:` lines
// (the answer's offset), `: ping` comments while idle. The stream only follows the answer: a client
// going away ends the following, never the writing (lib/chat/writer.ts).

import { and, desc, eq, lt } from 'drizzle-orm';
import { streamSSE } from 'hono/streaming';
import { messages } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AppContext } from '../http/app.js';
import { accessClaims, authorize, currentUser } from '../http/auth.js';
import { requestCtx } from '../http/context.js';
import { showLimit } from '../http/limits.js';
import { errorFields } from '../logger.js';
import { type ChatCtx, type ChatInput, type ChatStart, startChat } from './flow.js';
import { checkOffset, followAnswer, getAnswerOrThrow } from './follow.js';
import { Cursor, type EventSink } from './live.js';
import { type ChatOutcome, eventsOfOutcome, type MetaEvent, metaOf } from './outcome.js';

/** Keeps proxies and the mini-program from closing a stream while the model thinks. */
export const SSE_PING_MS = 15_000;

function jsonAnswer(c: AppContext, outcome: ChatOutcome): Response {
  const f = outcome.failure;
  // Without any text there is no answer to show: the failure is the answer (502/504 envelope).
  if (f && f.code !== 'ABORTED' && outcome.response.assistantMessage.status === 'error') {
    throw new AppError(f.code, f.message);
  }
  return c.json(outcome.response, 200);
}

/** An SSE answer: `meta` (id 0), then what `follow` sends, until it ends or the client leaves. */
function sse(
  c: AppContext,
  meta: MetaEvent,
  follow: (sink: EventSink, signal: AbortSignal) => Promise<void>,
) {
  const rt = c.get('rt');
  const requestId = c.get('requestId');
  const requestSignal = c.req.raw.signal;
  c.header('Cache-Control', 'no-cache, no-transform');
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    // Either notice may come first: the response stream being cancelled, or the request's signal.
    const gone = new AbortController();
    stream.onAbort(() => gone.abort());
    const onGone = () => gone.abort();
    requestSignal.addEventListener('abort', onGone, { once: true });
    const ping = setInterval(() => void stream.write(': ping\n\n'), SSE_PING_MS);
    const sink: EventSink = {
      send: (event, data, id) => stream.writeSSE({ event, data: JSON.stringify(data), id: String(id) }),
    };
    try {
      await stream.writeSSE({ event: 'meta', data: JSON.stringify(meta), id: '0' });
      await follow(sink, gone.signal);
    } catch (err) {
      if (gone.signal.aborted) return;
      // After meta the status is sent: failures can only be an error event now.
      rt.log.error({ requestId, ...errorFields(err) }, 'chat stream failed');
      await stream.writeSSE({
        event: 'error',
        data: JSON.stringify({ code: 'INTERNAL', message: 'internal error' }),
      });
    } finally {
      clearInterval(ping);
      requestSignal.removeEventListener('abort', onGone);
    }
  });
}

function replay(c: AppContext, outcome: ChatOutcome, stream: boolean): Response {
  if (!stream) return jsonAnswer(c, outcome);
  return sse(c, metaOf(outcome.response), async (sink) => {
    const cursor = new Cursor(0);
    for (const e of eventsOfOutcome(outcome)) if (await cursor.apply(e, sink)) return;
  });
}

/** Who asks, for the chat flow. */
export function chatCtx(c: AppContext): ChatCtx {
  return { ...requestCtx(c), claims: accessClaims(c) };
}

/** A started turn as JSON (stream=false) or as a stream that follows the answer. */
export async function respondTurn(c: AppContext, start: ChatStart, stream: boolean): Promise<Response> {
  const rt = c.get('rt');
  // The account came with the turn's first statement (the route checked only the token).
  authorize(c, start.account);
  if (start.kind === 'replay') return replay(c, start.outcome, stream);
  for (const l of start.limits) showLimit(c, l);
  // The answer is written to its end whoever waits for it: a client leaving changes nothing here.
  if (!stream) return jsonAnswer(c, await start.outcome);
  const { turn } = start;
  const meta = {
    conversationId: turn.conversationId,
    userMessageId: turn.userMessage.id,
    assistantMessageId: turn.assistantMessage.id,
  };
  return sse(c, meta, (sink, signal) => followAnswer(rt, turn.assistantMessage, 0, sink, signal));
}

/** POST /text-chat and /vision-chat: the flow decides, this answers as JSON or as a stream. */
export async function respondChat(c: AppContext, input: ChatInput & { stream: boolean }): Promise<Response> {
  return respondTurn(c, await startChat(chatCtx(c), input), input.stream);
}

/** GET /conversations/:id/messages/:messageId/stream: the answer from `after` on, from any instance. */
export async function respondResume(
  c: AppContext,
  conversationId: string,
  messageId: string,
  after: number,
): Promise<Response> {
  const rt = c.get('rt');
  const user = currentUser(c);
  const db = await rt.db();
  const row = await getAnswerOrThrow(db, user.id, conversationId, messageId);
  checkOffset(rt, row, after);
  const [question] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.userId, user.id),
        eq(messages.conversationId, conversationId),
        eq(messages.role, 'user'),
        lt(messages.seq, row.seq),
      ),
    )
    .orderBy(desc(messages.seq))
    .limit(1);
  const meta = { conversationId, userMessageId: question?.id ?? '', assistantMessageId: row.id };
  return sse(c, meta, (sink, signal) => followAnswer(rt, row, after, sink, signal));
}
