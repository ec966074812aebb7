// Where error codes become HTTP: the one code → status table and the envelope every error answers.
import type { AppError, ErrorCode } from '../errors.js';
// Type only: openapi.ts builds its ErrorSchema from CODE_TO_STATUS below.
import type { ErrorEnvelope } from './openapi.js';

export { AppError, type ErrorCode, type ErrorDetail, notFound } from '../errors.js';

export const CODE_TO_STATUS = {
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
} as const satisfies Record<ErrorCode, number>;

export type ErrorStatus = (typeof CODE_TO_STATUS)[ErrorCode];

export const statusOf = (err: AppError): ErrorStatus => CODE_TO_STATUS[err.code];

export type { ErrorEnvelope };

export function envelope(err: AppError, requestId: string): ErrorEnvelope {
  return {
    error: {
      code: err.code,
      message: err.message,
      requestId,
      ...(err.details ? { details: err.details } : {}),
    },
  };
}
