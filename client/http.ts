// The request under every call: the URL under /api/v1, the headers, the access token, the JSON
// answer, and the ApiError of a refused one (the server's envelope, else a code from the status).
// Tokens are not kept here: the session (session.ts) hands in the access token.
import { ApiError, ERROR_STATUS } from './errors.js';
import {
  type AbortSignalLike,
  abortedError,
  type HttpMethod,
  type Transport,
  type TransportResponse,
} from './transport.js';
import type { ErrorCode, ErrorDetail } from './types.js';

/** Every call takes these last. */
export type CallOptions = { signal?: AbortSignalLike };

export type Query = Record<string, string | number | boolean | undefined>;

/** One call, relative to /api/v1. */
export type CallSpec = {
  method: HttpMethod;
  path: string;
  query?: Query;
  body?: unknown;
  signal?: AbortSignalLike;
  headers?: Record<string, string>;
};

/** How an area's calls reach the server: JSON answers and empty ones. */
export type Caller = {
  json<T>(spec: CallSpec): Promise<T>;
  empty(spec: CallSpec): Promise<void>;
};

/** One request with this access token (undefined: none); an answer of 400 or more throws its ApiError. */
export type Exchange = (spec: CallSpec, token: string | undefined) => Promise<TransportResponse>;

/** A path segment. */
export const seg = (id: string) => encodeURIComponent(id);

/** The call's signal, if it has one (spread into a CallSpec). */
export const signalOf = (o: CallOptions | undefined) => (o?.signal ? { signal: o.signal } : {});

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value !== undefined) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isDetails(v: unknown): v is ErrorDetail[] {
  return Array.isArray(v) && v.every((d) => isRecord(d) && typeof d.path === 'string');
}

function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERROR_STATUS, v);
}

/** A code for an answer without the envelope (a proxy's page, say), from its status. */
function codeForStatus(status: number): ErrorCode {
  for (const code of Object.keys(ERROR_STATUS)) {
    if (isErrorCode(code) && ERROR_STATUS[code] === status && code !== 'CONSENT_REQUIRED') return code;
  }
  return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
}

/** The ApiError of an HTTP error answer. */
export function errorFrom(status: number, headers: Record<string, string>, text: string): ApiError {
  const headerId = headers['x-request-id'] ?? '';
  const retry = Number(headers['retry-after']);
  const retryAfter = headers['retry-after'] !== undefined && Number.isFinite(retry) ? retry : undefined;
  const body = parseJson(text);
  const e = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (e && isErrorCode(e.code) && typeof e.message === 'string') {
    return new ApiError({
      status,
      code: e.code,
      message: e.message,
      requestId: typeof e.requestId === 'string' ? e.requestId : headerId,
      ...(isDetails(e.details) ? { details: e.details } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  return new ApiError({
    status,
    code: codeForStatus(status),
    message: `HTTP ${status}`,
    requestId: headerId,
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}

/** Requests to `base` (`…/api/v1`) through the transport. */
export function createExchange(base: string, transport: Transport): Exchange {
  return async (spec, token) => {
    if (spec.signal?.aborted) throw abortedError();
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await transport.request({
      method: spec.method,
      url: base + spec.path + queryString(spec.query),
      headers,
      ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    if (res.status >= 400) throw errorFrom(res.status, res.headers, res.text);
    return res;
  };
}

/** JSON and empty calls over `send` (with or without the session's token). */
export function caller(send: (spec: CallSpec) => Promise<TransportResponse>): Caller {
  return {
    async json<T>(spec: CallSpec): Promise<T> {
      const res = await send(spec);
      const body = parseJson(res.text);
      if (body === undefined) {
        throw new ApiError({
          status: res.status,
          code: 'INVALID_RESPONSE',
          message: 'expected a JSON body',
          requestId: res.headers['x-request-id'] ?? '',
        });
      }
      // The contract's shape; the tests validate the server's answers against it.
      return body as T;
    },
    async empty(spec: CallSpec): Promise<void> {
      await send(spec);
    },
  };
}
