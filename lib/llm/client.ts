// The OpenAI-compatible model client (DashScope/Qwen, DeepSeek, Zhipu, Moonshot, OpenAI, the local
// stand-in). The only module that imports the openai SDK; Runtime.llm() loads it on first use.
//
// Timers: the SDK's `timeout` only covers the wait for response headers, so a provider that sends
// headers and then stalls would hang the stream. A first-token timer (from the request to the first
// token, retries included) and an idle timer (between chunks) abort the request instead.
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Config } from '../config/index.js';
import { AppError } from '../errors.js';
import {
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

export function createLlm(config: Config): Llm {
  if (!config.OPENAI_BASE_URL) {
    throw new AppError('SERVICE_UNAVAILABLE', 'the model is not configured');
  }
  const client = new OpenAI({
    baseURL: config.OPENAI_BASE_URL,
    // Local OpenAI-compatible servers accept any key; real providers answer 401 (an upstream error).
    apiKey: config.OPENAI_API_KEY ?? 'not-set',
    organization: null,
    project: null,
    timeout: config.LLM_TIMEOUT_MS,
    // Retries happen before any token streams (429 and 5xx answers), so they never repeat text.
    maxRetries: config.LLM_MAX_RETRIES,
    // The SDK's own logging could print request details; our logs carry codes only.
    logLevel: 'off',
  });

  async function* streamChat(o: StreamChatOptions): AsyncGenerator<LlmEvent> {
    const firstTokenMs = o.firstTokenTimeoutMs ?? config.LLM_FIRST_TOKEN_TIMEOUT_MS;
    const idleMs = o.idleTimeoutMs ?? config.LLM_FIRST_TOKEN_TIMEOUT_MS;
    const ctrl = new AbortController();
    let stopped: StopReason | undefined;
    const stop = (why: StopReason) => {
      stopped ??= why;
      ctrl.abort();
    };
    const onClientGone = () => stop('client');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number, why: StopReason) => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(why), ms);
    };

    const failure = (err?: unknown): LlmError => {
      if (stopped === 'client') return new LlmError('ABORTED', 'the client went away', { cause: err });
      if (stopped === 'first-token') {
        return new LlmError('UPSTREAM_TIMEOUT', 'the model did not start answering in time', { cause: err });
      }
      if (stopped === 'idle')
        return new LlmError('UPSTREAM_TIMEOUT', 'the model stopped sending', { cause: err });
      if (stopped === 'total')
        return new LlmError('UPSTREAM_TIMEOUT', 'the answer took too long', { cause: err });
      if (err instanceof APIConnectionTimeoutError) {
        return new LlmError('UPSTREAM_TIMEOUT', 'the model did not answer in time', { cause: err });
      }
      if (err instanceof APIError && err.status !== undefined) {
        return new LlmError('UPSTREAM_ERROR', `the model answered HTTP ${err.status}`, {
          status: err.status,
          cause: err,
        });
      }
      // Refused connections, and a socket cut mid-stream (undici's TypeError('terminated')).
      return new LlmError('UPSTREAM_ERROR', 'the connection to the model failed', { cause: err });
    };

    if (o.signal.aborted) throw failure();
    o.signal.addEventListener('abort', onClientGone, { once: true });
    arm(firstTokenMs, 'first-token');
    // The whole answer has a deadline too: a provider trickling text forever must not outlive the
    // function (whose kill would skip storing the answer and giving back its slot and quota).
    const deadline = setTimeout(() => stop('total'), o.totalTimeoutMs ?? config.LLM_TIMEOUT_MS);
    try {
      let stream: AsyncIterable<ChatCompletionChunk>;
      try {
        stream = await client.chat.completions.create(
          {
            model: o.model,
            messages: o.messages,
            stream: true,
            stream_options: { include_usage: true },
            max_tokens: o.maxOutputTokens ?? config.LLM_MAX_OUTPUT_TOKENS,
          },
          { signal: ctrl.signal },
        );
      } catch (err) {
        throw failure(err);
      }

      let flowing = false;
      let finish: string | undefined;
      try {
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (hasProgress(choice?.delta)) flowing = true;
          const text = choice?.delta?.content;
          if (text) yield { type: 'text', text };
          if (choice?.finish_reason) finish = choice.finish_reason;
          const usage = chunk.usage ?? choiceUsage(choice);
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
        throw failure(err);
      }
      // The SDK ends iteration quietly when its request is aborted.
      if (ctrl.signal.aborted) throw failure();
      yield { type: 'finish', reason: finish ?? 'stop' };
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
      o.signal.removeEventListener('abort', onClientGone);
      // Leaving early (the consumer stopped iterating) must not leave the request running.
      ctrl.abort();
    }
  }

  async function completeJson(o: CompleteJsonOptions): Promise<string> {
    const timeout = AbortSignal.timeout(o.timeoutMs ?? config.LLM_TIMEOUT_MS);
    const signal = AbortSignal.any([o.signal, timeout]);
    try {
      const res = await client.chat.completions.create(
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
