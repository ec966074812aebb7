// The HTTP side of a chat route, shared by text-chat and vision-chat: JSON (stream=false) or an SSE
// stream with meta / triage / delta / done / error events and `: ping` comments while idle.
import type { SSEStreamingApi } from 'hono/streaming';
import { streamSSE } from 'hono/streaming';
import type { AppContext } from '../http/app.js';
import { currentUser } from '../http/auth.js';
import { AppError } from '../http/errors.js';
import type { ImagePart } from '../llm/types.js';
import { errorFields } from '../logger.js';
import { type ChatOutcome, type ChatSink, prepareChat, replayChat, runChat, silentSink } from './engine.js';

/** Keeps proxies and the mini-program from closing a stream while the model thinks. */
export const SSE_PING_MS = 15_000;

export function sseSink(stream: SSEStreamingApi): ChatSink {
  const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
  return {
    meta: (e) => send('meta', e),
    triage: (t) => send('triage', t),
    delta: (text) => send('delta', { text }),
    done: (e) => send('done', e),
    error: (e) => send('error', e),
  };
}

export type ChatRouteInput = {
  /** The function's name (Idempotency-Keys are per user and route). */
  route: string;
  /** The validated body; hashed for Idempotency-Key. */
  body: { conversationId?: string; content: string; imageIds?: string[] };
  model: string;
  stream: boolean;
  idempotencyKey: string | undefined;
  /** vision-chat: the checked images as image_url parts, sent with this question only. */
  imageParts?: ImagePart[];
};

function jsonAnswer(c: AppContext, outcome: ChatOutcome): Response {
  const f = outcome.failure;
  // Without any text there is no answer to show: the failure is the answer (502/504 envelope).
  if (f && f.code !== 'ABORTED' && outcome.response.assistantMessage.status === 'error') {
    throw new AppError(f.code, f.message);
  }
  return c.json(outcome.response, 200);
}

function sse(c: AppContext, run: (sink: ChatSink, signal: AbortSignal) => Promise<unknown>): Response {
  const rt = c.get('rt');
  const requestId = c.get('requestId');
  const requestSignal = c.req.raw.signal;
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    // Either notice may come first: the response stream being cancelled, or the request's signal.
    const gone = new AbortController();
    stream.onAbort(() => gone.abort());
    const onGone = () => gone.abort();
    requestSignal.addEventListener('abort', onGone, { once: true });
    const ping = setInterval(() => void stream.write(': ping\n\n'), SSE_PING_MS);
    try {
      await run(sseSink(stream), gone.signal);
    } catch (err) {
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

export async function respondChat(c: AppContext, input: ChatRouteInput): Promise<Response> {
  const rt = c.get('rt');
  const requestId = c.get('requestId');
  const prepared = await prepareChat(rt, {
    userId: currentUser(c).id,
    route: input.route,
    conversationId: input.body.conversationId,
    content: input.body.content,
    imageIds: input.body.imageIds,
    idempotencyKey: input.idempotencyKey,
    body: input.body,
  });
  if (prepared.kind === 'replay') {
    const { outcome } = prepared;
    return input.stream ? sse(c, (sink) => replayChat(outcome, sink)) : jsonAnswer(c, outcome);
  }
  const { turn } = prepared;
  const options = { model: input.model, imageParts: input.imageParts, requestId };
  if (!input.stream) {
    const outcome = await runChat(rt, turn, { ...options, signal: c.req.raw.signal, sink: silentSink });
    return jsonAnswer(c, outcome);
  }
  return sse(c, (sink, signal) => runChat(rt, turn, { ...options, signal, sink }));
}
