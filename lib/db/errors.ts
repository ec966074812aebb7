// Telling a database outage (refused, reset, timed out, shutting down, too many connections) from a
// bug: an outage answers 503 with Retry-After, a bug a plain 500. Drivers wrap errors differently
// (drizzle's query error, pg, the Neon WebSocket), so the whole cause chain is inspected.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout)
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /websocket/i,
  /connect ECONNREFUSED/i,
  /Client has encountered a connection error/i,
  /pglite is closed/i,
];

export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e; depth++) {
    if (typeof e === 'object' && e !== null) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
      const message = (e as { message?: unknown }).message;
      if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((r) => r.test(message))) return true;
      // An ErrorEvent from the WebSocket of the Neon driver carries the error under `error`.
      e = (e as { cause?: unknown; error?: unknown }).cause ?? (e as { error?: unknown }).error;
    } else break;
  }
  return false;
}

/**
 * Runs a write again while the database is briefly unavailable (a pool that is full, a dropped
 * connection): for writes that must not be lost, such as an answer the user has already seen.
 */
export async function retryWhileUnavailable<T>(
  write: () => Promise<T>,
  delaysMs = [200, 800, 2_000],
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isDatabaseUnavailable(err)) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** PostgreSQL refuses NUL characters in text and jsonb (22P05, 22021): the request's fault, a 400. */
export function isUnstorableText(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '22P05' || code === '22021') return true;
    const message = (e as { message?: unknown }).message;
    // PGlite and the drivers word it differently; the code is not always carried over.
    if (
      typeof message === 'string' &&
      /unsupported Unicode escape sequence|invalid byte sequence|\\u0000/i.test(message)
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
