// The OpenAI-compatible model client (DashScope/Qwen, DeepSeek, Zhipu, Moonshot, OpenAI, the local
// stand-in). The only module that imports the openai SDK; Runtime.llm() loads it on first use.
//
// Timers: the SDK's `timeout` only covers the wait for response headers, so a provider that sends
// headers and then stalls would hang the stream. A first-token timer (from the request to the first
// token, retries included) and an idle timer (between chunks) abort the request instead.
//
// Fallback: LLM_FALLBACKS are tried in order when a provider fails before its first token
// (connection error, 429, 5xx, first-token timeout). Once a token came, the answer is that
// provider's to the end: a failure then ends it (no mixed answers). A provider that failed
// LLM_BREAKER_FAILURES times in a row is skipped for LLM_BREAKER_COOLDOWN_MS (per process).
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Config } from '../config/index.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type ChatMessage,
  type CompleteJsonOptions,
  type Llm,
  LlmError,
  type LlmEvent,
  type StreamChatOptions,
} from './types.js';

type StopReason = 'client' | 'first-token' | 'idle' | 'total';

/** True when a chunk carries generated text or reasoning (DeepSeek-R1, QwQ stream that first). */
function hasProgress(delta: ChatCompletionChunk.Choice.Delta | undefined): boolean {
  if (!delta) return false;
  if (delta.content) return true;
  const reasoning: unknown = (delta as Record<string, unknown>).reasoning_content;
  return typeof reasoning === 'string' && reasoning.length > 0;
}

type Usage = { prompt_tokens: number; completion_tokens: number };

/** Moonshot (Kimi) streams usage inside choices[0].usage of the finishing chunk, not top-level. */
function choiceUsage(choice: ChatCompletionChunk.Choice | undefined): Usage | undefined {
  const u: unknown = (choice as Record<string, unknown> | undefined)?.usage;
  if (typeof u !== 'object' || u === null) return undefined;
  const { prompt_tokens: p, completion_tokens: c } = u as Record<string, unknown>;
  return typeof p === 'number' && typeof c === 'number'
    ? { prompt_tokens: p, completion_tokens: c }
    : undefined;
}

function hasImages(messages: readonly ChatMessage[]): boolean {
  return messages.some(
    (m) =>
      m.role === 'user' && typeof m.content !== 'string' && m.content.some((p) => p.type === 'image_url'),
  );
}

/** Consecutive failures open it; after the cooldown one request may try again (half-open). */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  allows(): boolean {
    return this.clock() >= this.openUntil;
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  failure(): void {
    this.failures += 1;
    if (this.failures >= this.threshold) this.openUntil = this.clock() + this.cooldownMs;
  }
}

type Provider = {
  /** 0 for the configured model, then the fallbacks' positions (for logs: never URLs or keys). */
  index: number;
  client: OpenAI;
  /** The model this provider answers with; undefined when it cannot serve the request. */
  modelFor(requested: string, vision: boolean): string | undefined;
  breaker: CircuitBreaker;
};

export function createLlm(config: Config, log?: Logger): Llm {
  if (!config.OPENAI_BASE_URL) {
    throw new AppError('SERVICE_UNAVAILABLE', 'the model is not configured');
  }
  const sdk = (baseURL: string, apiKey: string | undefined) =>
    new OpenAI({
      baseURL,
      // Local OpenAI-compatible servers accept any key; real providers answer 401 (an upstream error).
      apiKey: apiKey ?? 'not-set',
      organization: null,
      project: null,
      timeout: config.LLM_TIMEOUT_MS,
      // Retries happen before any token streams (429 and 5xx answers), so they never repeat text.
      maxRetries: config.LLM_MAX_RETRIES,
      // The SDK's own logging could print request details; our logs carry codes only.
      logLevel: 'off',
    });
  const primary = sdk(config.OPENAI_BASE_URL, config.OPENAI_API_KEY);
  const breaker = () => new CircuitBreaker(config.LLM_BREAKER_FAILURES, config.LLM_BREAKER_COOLDOWN_MS);
  const providers: Provider[] = [
    {
      index: 0,
      client: primary,
      modelFor: (requested) => requested,
      breaker: breaker(),
    },
    ...config.LLM_FALLBACKS.map(
      (f, i): Provider => ({
        index: i + 1,
        client: sdk(f.baseURL, f.apiKey),
        // A fallback without a vision model sits out image questions.
        modelFor: (_requested, vision) => (vision ? f.visionModel : f.model),
        breaker: breaker(),
      }),
    ),
  ];

  async function* streamChat(o: StreamChatOptions): AsyncGenerator<LlmEvent> {
    const firstTokenMs = o.firstTokenTimeoutMs ?? config.LLM_FIRST_TOKEN_TIMEOUT_MS;
    const idleMs = o.idleTimeoutMs ?? config.LLM_FIRST_TOKEN_TIMEOUT_MS;
    if (o.signal.aborted) throw new LlmError('ABORTED', 'the client went away');

    // One attempt at one provider: its own request, stop reason and timers.
    let ctrl = new AbortController();
    let stopped: StopReason | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const stop = (why: StopReason) => {
      stopped ??= why;
      ctrl.abort();
    };
    const arm = (ms: number, why: StopReason) => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(why), ms);
    };
    const onClientGone = () => stop('client');

    /** The error of the current attempt, and whether another provider may be tried instead. */
    const failure = (err?: unknown): { error: LlmError; retryable: boolean } => {
      if (stopped === 'client') {
        return { error: new LlmError('ABORTED', 'the client went away', { cause: err }), retryable: false };
      }
      if (stopped === 'first-token') {
        const error = new LlmError('UPSTREAM_TIMEOUT', 'the model did not start answering in time', {
          cause: err,
        });
        return { error, retryable: true };
      }
      if (stopped === 'idle') {
        return {
          error: new LlmError('UPSTREAM_TIMEOUT', 'the model stopped sending', { cause: err }),
          retryable: true,
        };
      }
      if (stopped === 'total') {
        return {
          error: new LlmError('UPSTREAM_TIMEOUT', 'the answer took too long', { cause: err }),
          retryable: false,
        };
      }
      if (err instanceof APIConnectionTimeoutError) {
        return {
          error: new LlmError('UPSTREAM_TIMEOUT', 'the model did not answer in time', { cause: err }),
          retryable: true,
        };
      }
      if (err instanceof APIError && err.status !== undefined) {
        const error = new LlmError('UPSTREAM_ERROR', `the model answered HTTP ${err.status}`, {
          status: err.status,
          cause: err,
        });
        // Other 4xx (a bad request, a provider's own content refusal) would fail the same elsewhere.
        return { error, retryable: err.status === 429 || err.status >= 500 };
      }
      // Refused connections, and a socket cut mid-stream (undici's TypeError('terminated')).
      return {
        error: new LlmError('UPSTREAM_ERROR', 'the connection to the model failed', { cause: err }),
        retryable: true,
      };
    };

    o.signal.addEventListener('abort', onClientGone, { once: true });
    // The whole answer has a deadline too, across every provider tried: a provider trickling text
    // forever must not outlive the function (whose kill would skip storing the answer and giving
    // back its slot and quota).
    const deadline = setTimeout(() => {
      timedOut = true;
      stop('total');
    }, o.totalTimeoutMs ?? config.LLM_TIMEOUT_MS);
    const vision = hasImages(o.messages);
    const able = providers.filter((p) => p.modelFor(o.model, vision) !== undefined);
    const closed = able.filter((p) => p.breaker.allows());
    // Every provider tripped: trying them beats refusing outright.
    const order = closed.length > 0 ? closed : able;
    try {
      for (const [i, p] of order.entries()) {
        const model = p.modelFor(o.model, vision) ?? o.model;
        const last = i === order.length - 1;
        if (i > 0) {
          ctrl = new AbortController();
          stopped = undefined;
          // The client left or the deadline passed while the previous provider failed.
          if (o.signal.aborted) stop('client');
          else if (timedOut) stop('total');
          if (stopped) throw failure().error;
        }
        arm(firstTokenMs, 'first-token');

        // Until the first token: a failure here may move on to the next provider.
        let it: AsyncIterator<ChatCompletionChunk>;
        const held: ChatCompletionChunk[] = [];
        try {
          const stream = await p.client.chat.completions.create(
            {
              model,
              messages: o.messages,
              stream: true,
              stream_options: { include_usage: true },
              max_tokens: o.maxOutputTokens ?? config.LLM_MAX_OUTPUT_TOKENS,
            },
            { signal: ctrl.signal },
          );
          it = stream[Symbol.asyncIterator]();
          for (;;) {
            const r = await it.next();
            if (r.done) {
              // The SDK ends iteration quietly when its request is aborted.
              if (ctrl.signal.aborted) throw new Error('aborted');
              break;
            }
            held.push(r.value);
            if (hasProgress(r.value.choices[0]?.delta)) break;
          }
        } catch (err) {
          ctrl.abort();
          const f = failure(err);
          if (f.retryable) p.breaker.failure();
          if (!f.retryable || last) throw f.error;
          log?.warn(
            { provider: p.index, errorCode: f.error.code, upstreamStatus: f.error.status },
            'model failed before its first token; trying the next one',
          );
          continue;
        }
        p.breaker.success();
        yield { type: 'model', model };

        let flowing = false;
        let finish: string | undefined;
        try {
          for (;;) {
            const next = held.shift() ?? (await nextChunk(it));
            if (next === undefined) break;
            const choice = next.choices[0];
            if (hasProgress(choice?.delta)) flowing = true;
            const text = choice?.delta?.content;
            if (text) yield { type: 'text', text };
            if (choice?.finish_reason) finish = choice.finish_reason;
            const usage = next.usage ?? choiceUsage(choice);
            if (usage) {
              yield {
                type: 'usage',
                promptTokens: usage.prompt_tokens,
                completionTokens: usage.completion_tokens,
              };
            }
            // Re-armed after the consumer took the chunk: a slow reader is not a silent model.
            if (flowing) arm(idleMs, 'idle');
          }
        } catch (err) {
          throw failure(err).error;
        }
        if (ctrl.signal.aborted) throw failure().error;
        yield { type: 'finish', reason: finish ?? 'stop' };
        return;
      }
      // Not reached: the last provider's failure is thrown above.
      throw new LlmError('UPSTREAM_ERROR', 'no model could answer');
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
      o.signal.removeEventListener('abort', onClientGone);
      // Leaving early (the consumer stopped iterating) must not leave the request running.
      ctrl.abort();
    }
  }

  // Small classification requests (triage) have their own short deadline: the configured provider
  // only, no fallback and no retries.
  async function completeJson(o: CompleteJsonOptions): Promise<string> {
    const timeout = AbortSignal.timeout(o.timeoutMs ?? config.LLM_TIMEOUT_MS);
    const signal = AbortSignal.any([o.signal, timeout]);
    try {
      const res = await primary.chat.completions.create(
        {
          model: o.model,
          messages: o.messages,
          stream: false,
          response_format: { type: 'json_object' },
          temperature: 0,
          max_tokens: o.maxOutputTokens ?? 64,
        },
        { signal, maxRetries: 0 },
      );
      return res.choices[0]?.message?.content ?? '';
    } catch (err) {
      if (o.signal.aborted) throw new LlmError('ABORTED', 'the caller gave up', { cause: err });
      if (timeout.aborted || err instanceof APIConnectionTimeoutError) {
        throw new LlmError('UPSTREAM_TIMEOUT', 'the model did not answer in time', { cause: err });
      }
      if (err instanceof APIError && err.status !== undefined) {
        throw new LlmError('UPSTREAM_ERROR', `the model answered HTTP ${err.status}`, {
          status: err.status,
          cause: err,
        });
      }
      throw new LlmError('UPSTREAM_ERROR', 'the connection to the model failed', { cause: err });
    }
  }

  return { streamChat, completeJson };
}

async function nextChunk(it: AsyncIterator<ChatCompletionChunk>): Promise<ChatCompletionChunk | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}
