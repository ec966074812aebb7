// Idempotency-Key for chat (per user and route, kept 24 h): the first request claims the key
// atomically (insert … on conflict do nothing); a retry with the same body gets the stored result,
// a different body 422, and a retry while the first still runs 409.
import { createHash } from 'node:crypto';
import { and, eq, lt, or } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { idempotencyKeys } from '../db/schema.js';
import { AppError } from '../errors.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** Longer than any chat may run (maxDuration 300 s): a claim this old belongs to a dead process. */
export const STALE_CLAIM_MS = 10 * 60_000;
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:+/=-]{1,128}$/;

export type IdempotencyScope = { userId: string; route: string; key: string };

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  }
  return value;
}

/** The same body in any key order hashes the same. */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}

const where = (s: IdempotencyScope) =>
  and(
    eq(idempotencyKeys.userId, s.userId),
    eq(idempotencyKeys.route, s.route),
    eq(idempotencyKeys.key, s.key),
  );

/**
 * Claims the key for this request. Answers `{ claimed: true }` to go ahead, or the stored result
 * of the finished first request; throws 422 for another body and 409 while the first still runs.
 */
export async function claimKey(
  db: Db,
  s: IdempotencyScope,
  hash: string,
  now: Date,
): Promise<{ claimed: true } | { claimed: false; result: Record<string, unknown> }> {
  const fresh = {
    requestHash: hash,
    status: 'running' as const,
    result: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
  };
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ userId: s.userId, route: s.route, key: s.key, ...fresh })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return { claimed: true };

  // Taken: an expired record, or a claim left by a process that died, may be taken over.
  const takenOver = await db
    .update(idempotencyKeys)
    .set(fresh)
    .where(
      and(
        where(s),
        or(
          lt(idempotencyKeys.expiresAt, now),
          and(
            eq(idempotencyKeys.status, 'running'),
            lt(idempotencyKeys.createdAt, new Date(now.getTime() - STALE_CLAIM_MS)),
          ),
        ),
      ),
    )
    .returning({ key: idempotencyKeys.key });
  if (takenOver.length > 0) return { claimed: true };

  const [row] = await db.select().from(idempotencyKeys).where(where(s));
  // Released between our insert and this read: the caller may simply retry.
  if (!row) throw new AppError('CONFLICT', 'request with this Idempotency-Key changed state; retry');
  if (row.requestHash !== hash) {
    throw new AppError('UNPROCESSABLE', 'Idempotency-Key was already used with a different request body');
  }
  if (row.status === 'running' || !row.result) {
    throw new AppError('CONFLICT', 'a request with this Idempotency-Key is still running');
  }
  return { claimed: false, result: row.result };
}

/**
 * Looks the key up without claiming it, so a retry is answered before limits and checks that the
 * first request already passed: the stored result, 422 for another body, 409 while it still runs.
 * Null when the key is free (or expired, or left by a dead process): go ahead and claim it.
 */
export async function peekKey(
  db: Db,
  s: IdempotencyScope,
  hash: string,
  now: Date,
): Promise<Record<string, unknown> | null> {
  const [row] = await db.select().from(idempotencyKeys).where(where(s));
  if (!row || row.expiresAt < now) return null;
  if (row.requestHash !== hash) {
    throw new AppError('UNPROCESSABLE', 'Idempotency-Key was already used with a different request body');
  }
  if (row.status === 'running' || !row.result) {
    if (row.createdAt.getTime() < now.getTime() - STALE_CLAIM_MS) return null;
    throw new AppError('CONFLICT', 'a request with this Idempotency-Key is still running');
  }
  return row.result;
}

export async function storeResult(
  db: Db,
  s: IdempotencyScope,
  result: Record<string, unknown>,
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ status: 'done', result })
    .where(and(where(s), eq(idempotencyKeys.status, 'running')));
}

/** Frees the key so a retry asks again (the first request produced no answer). */
export async function releaseKey(db: Db, s: IdempotencyScope): Promise<void> {
  await db.delete(idempotencyKeys).where(and(where(s), eq(idempotencyKeys.status, 'running')));
}
