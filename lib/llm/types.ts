// The model client's interface, free of the openai SDK so callers can import it without loading
// the SDK (it is loaded lazily by Runtime.llm()).

/** An OpenAI `image_url` content part: an https URL the provider can fetch, or a data: URL. */
export type ImagePart = { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };
export type TextPart = { type: 'text'; text: string };

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'assistant'; content: string }
  | { role: 'user'; content: string | (TextPart | ImagePart)[] };

export type LlmEvent =
  /**
   * First event, once the model started answering: which model answers (the configured one, or
   * an LLM_FALLBACKS model when the configured one failed before its first token).
   */
  | { type: 'model'; model: string }
  | { type: 'text'; text: string }
  | { type: 'usage'; promptTokens: number; completionTokens: number }
  /** Last event of a stream that ended normally. */
  | { type: 'finish'; reason: string };

export type StreamChatOptions = {
  model: string;
  messages: ChatMessage[];
  /** Aborting it aborts the upstream request at once (the client went away). */
  signal: AbortSignal;
  maxOutputTokens?: number;
  /** From the request until the first token; defaults to LLM_FIRST_TOKEN_TIMEOUT_MS. */
  firstTokenTimeoutMs?: number;
  /** Longest silence between chunks once text flows; defaults to LLM_FIRST_TOKEN_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** The whole answer; defaults to LLM_TIMEOUT_MS. */
  totalTimeoutMs?: number;
};

export type CompleteJsonOptions = {
  model: string;
  messages: ChatMessage[];
  /** Aborting it aborts the request at once. */
  signal: AbortSignal;
  maxOutputTokens?: number;
  /** The whole request, no retries; defaults to LLM_TIMEOUT_MS. */
  timeoutMs?: number;
};

export interface Llm {
  /**
   * Streams one chat completion: a `model` event first, then text and usage. Ends with a `finish`
   * event, or throws an LlmError: ABORTED when
   * `signal` fired, UPSTREAM_TIMEOUT when a timer ran out, UPSTREAM_ERROR for anything else
   * (HTTP errors after the SDK's retries, refused connections, a stream cut mid-way).
   */
  streamChat(opts: StreamChatOptions): AsyncIterable<LlmEvent>;
  /**
   * One non-streaming completion with `response_format: json_object` and temperature 0, for small
   * classification requests. Returns the message content (JSON text, not yet validated). Throws an
   * LlmError like streamChat; never retries (the caller has a deadline).
   */
  completeJson(opts: CompleteJsonOptions): Promise<string>;
}

export type LlmErrorCode = 'UPSTREAM_ERROR' | 'UPSTREAM_TIMEOUT' | 'ABORTED';

export class LlmError extends Error {
  readonly status: number | undefined;

  constructor(
    readonly code: LlmErrorCode,
    message: string,
    opts: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'LlmError';
    this.status = opts.status;
  }
}
