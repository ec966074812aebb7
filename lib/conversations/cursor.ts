// Opaque list cursors: base64url JSON that clients pass back unchanged. Anything else is a 400.
import { AppError } from '../errors.js';

export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string, parse: (v: Record<string, unknown>) => T | undefined): T {
  let value: T | undefined;
  try {
    const raw: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      value = parse(raw as Record<string, unknown>);
    }
  } catch {
    value = undefined;
  }
  if (value === undefined) throw new AppError('BAD_REQUEST', 'invalid cursor');
  return value;
}

/** `limit` is clamped, never refused: 0 gives 1 and 1000 gives 100. */
export function clampLimit(limit: number | undefined, def = 20, max = 100): number {
  if (limit === undefined || !Number.isFinite(limit)) return def;
  return Math.min(max, Math.max(1, Math.trunc(limit)));
}
