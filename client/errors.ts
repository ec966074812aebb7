// The one error type every call rejects with: the server's envelope when there is one, otherwise a
// client-side code (the network failed, the call was aborted, the answer was not what the contract says).
import type { ChatMeta, ErrorCode, ErrorDetail } from './types.js';

export type ClientErrorCode =
  /** No HTTP answer: offline, DNS, TLS, a domain missing from the mini-program's legal domains. */
  | 'NETWORK_ERROR'
  /** The caller aborted (signal). */
  | 'ABORTED'
  /** An answer the contract does not allow (not JSON, no event stream where one was asked for). */
  | 'INVALID_RESPONSE'
  /** A chat stream that ended without `done` or `error` (and, after `meta`, could not be resumed). */
  | 'STREAM_INTERRUPTED'
  /** Object storage refused the upload form (its status is kept). */
  | 'UPLOAD_FAILED';

/** Statuses of the contract's codes (API.md). */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  CONSENT_REQUIRED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  UPSTREAM_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
};

export type ApiErrorInit = {
  /** The HTTP status; 0 when there was no HTTP answer. */
  status: number;
  code: ErrorCode | ClientErrorCode;
  message: string;
  /** The server's request id (X-Request-Id), '' when there was no answer. */
  requestId: string;
  details?: ErrorDetail[];
  /** Seconds, from Retry-After on a 429. */
  retryAfter?: number;
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | ClientErrorCode;
  readonly requestId: string;
  readonly details: ErrorDetail[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message);
    // Mini-program builds compile classes to ES5, where extending Error loses the prototype (and
    // with it instanceof) unless it is put back.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.retryAfter = init.retryAfter;
  }
}

/** What a chat stream had delivered before it failed: the question is stored, and so is this text. */
export type ChatPartial = ChatMeta & { text: string };

/** A chat stream that failed after `meta`: an `error` event, a cut connection or an abort. */
export class ChatStreamError extends ApiError {
  readonly partial: ChatPartial;

  constructor(init: ApiErrorInit, partial: ChatPartial) {
    super(init);
    this.name = 'ChatStreamError';
    this.partial = partial;
  }
}

export const isApiError = (err: unknown): err is ApiError => err instanceof ApiError;
