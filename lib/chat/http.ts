// The HTTP side of a chat route, shared by text-chat and vision-chat: JSON (stream=false) or an SSE
// stream with meta / triage / delta / done / error events and `: ping` comments while idle.
import type { SSEStreamingApi } from 'hono/streaming';
import { streamSSE } from 'hono/streaming';
import { AppError } from '../errors.js';
import type { AppContext } from '../http/app.js';
import { currentUser } from '../http/auth.js';
import { acquireModelLease, assertRateLimit, type ModelLease } from '../http/limits.js';
import { estimateTokens } from '../llm/tokens.js';
import type { ImagePart } from '../llm/types.js';
import { errorFields } from '../logger.js';
import { triage } from '../safety/index.js';
import {
  type ChatOutcome,
  type ChatSink,
  isOutcome,
  prepareChat,
  replayChat,
  runChat,
  silentSink,
} from './engine.js';
import { peekKey, requestHash } from './idempotency.js';

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
  /**
   * vision-chat: the images (already checked) as image_url parts, sent with this question only.
   * Read only once the turn will reach the model: not for a 429, nor for an emergency answer.
   */
  images?: {
    count: number;
    /** Refuses images that are not the caller's or not ready (404/422), before any limit is spent. */
    check: () => Promise<void>;
    parts: () => Promise<ImagePart[]>;
  };
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

/** Tokens a turn may use at most, reserved from the daily quota before the model is asked. */
function estimateTurnTokens(c: AppContext, input: ChatRouteInput): number {
  const { config } = c.get('rt');
  const images = (input.images?.count ?? 0) * IMAGE_TOKEN_ESTIMATE;
  return (
    SYSTEM_PROMPT_ESTIMATE +
    estimateTokens(input.body.content) +
    images +
    config.HISTORY_TOKEN_BUDGET +
    config.LLM_MAX_OUTPUT_TOKENS
  );
}
const SYSTEM_PROMPT_ESTIMATE = 800;
const IMAGE_TOKEN_ESTIMATE = 1_000;

const usedTokens = (outcome: ChatOutcome) => {
  const u = outcome.response.assistantMessage.usage;
  return u ? u.promptTokens + u.completionTokens : 0;
};

export async function respondChat(c: AppContext, input: ChatRouteInput): Promise<Response> {
  const rt = c.get('rt');
  const requestId = c.get('requestId');
  const user = currentUser(c);
  // A retry under the same Idempotency-Key is answered from what the first request stored, before
  // limits and image checks that request already passed (its images now belong to its conversation).
  if (input.idempotencyKey) {
    const scope = { userId: user.id, route: input.route, key: input.idempotencyKey };
    const stored = await peekKey(await rt.db(), scope, requestHash(input.body), rt.now());
    if (stored && isOutcome(stored)) {
      return input.stream ? sse(c, (sink) => replayChat(stored, sink)) : jsonAnswer(c, stored);
    }
  }
  await input.images?.check();
  // Warning signs are answered whatever the limits say: that answer costs no model call.
  const emergency = triage(input.body.content, {
    emergencyNumber: rt.config.EMERGENCY_NUMBER,
    crisisLine: rt.config.CRISIS_LINE,
  });
  let lease: ModelLease = { finish: async () => {} };
  if (!emergency) {
    await assertRateLimit(c, 'chat:user:minute', user.id);
    await assertRateLimit(c, 'chat:user:day', user.id);
    await assertRateLimit(c, 'global', 'all');
    lease = await acquireModelLease(c, estimateTurnTokens(c, input));
  }
  let prepared: Awaited<ReturnType<typeof prepareChat>>;
  let imageParts: ImagePart[] | undefined;
  try {
    if (input.images && !emergency) imageParts = await input.images.parts();
    prepared = await prepareChat(rt, {
      userId: user.id,
      openid: user.openid,
      route: input.route,
      conversationId: input.body.conversationId,
      content: input.body.content,
      imageIds: input.body.imageIds,
      idempotencyKey: input.idempotencyKey,
      body: input.body,
      triage: emergency,
    });
  } catch (err) {
    await lease.finish(0);
    throw err;
  }
  if (prepared.kind === 'replay') {
    await lease.finish(0);
    const { outcome } = prepared;
    return input.stream ? sse(c, (sink) => replayChat(outcome, sink)) : jsonAnswer(c, outcome);
  }
  const { turn } = prepared;
  const options = { model: input.model, imageParts, requestId };
  // The slot and the reservation are given back on every way out: done, error, abort, crash.
  const run = (sink: ChatSink, signal: AbortSignal) =>
    // Tracked, so a shutdown waits for the answer to be stored before closing the database.
    rt.track(
      (async () => {
        let outcome: ChatOutcome | undefined;
        try {
          outcome = await runChat(rt, turn, { ...options, signal, sink });
          return outcome;
        } finally {
          await lease.finish(outcome ? usedTokens(outcome) : 0);
        }
      })(),
    );
  if (!input.stream) return jsonAnswer(c, await run(silentSink, c.req.raw.signal));
  return sse(c, run);
}
