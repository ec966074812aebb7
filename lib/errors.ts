// The one error type of the service, with the closed set of codes from the contract (API.md).
// Domain code throws these; only the HTTP layer (lib/http/errors.ts) turns a code into a status.
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'CONSENT_REQUIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNPROCESSABLE',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'INTERNAL',
  'UPSTREAM_ERROR',
  'SERVICE_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export type ErrorDetail = { path: string; code: string };

export class AppError extends Error {
  readonly details: ErrorDetail[] | undefined;
  /** Extra answer headers a refusal needs (Retry-After and RateLimit-* on a 429). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.details = opts.details;
    this.headers = opts.headers;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

/** No token, a bad one, or one whose sign-in has ended (the account gone or the session revoked). */
export const unauthorized = () => new AppError('UNAUTHORIZED', 'missing or invalid access token');

/** Chat and uploads process health data: only after the current consent version is accepted. */
export const consentRequired = () =>
  new AppError('CONSENT_REQUIRED', 'please accept the current privacy consent first');
