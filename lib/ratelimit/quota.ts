import { randomUUID } from 'node:crypto';
import { RESERVE_QUOTA, SETTLE_QUOTA } from './scripts.js';
import type { LimitStore } from './store.js';

const DAY_MS = 86_400_000;
/** Asia/Shanghai is UTC+8 all year (no DST), so plain arithmetic gives the local day. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
/** Long enough to outlive the day plus late settlements, short enough not to pile up. */
export const QUOTA_KEY_TTL_MS = 2 * DAY_MS;

export interface QuotaReservation {
  readonly id: string;
  readonly userId: string;
  /** Shanghai day the tokens were charged to, `YYYY-MM-DD`; settling always adjusts that same day. */
  readonly day: string;
  readonly estimate: number;
}

export interface QuotaReserveResult {
  ok: boolean;
  /** Tokens counted for the day after this call (including open reservations). */
  used: number;
  limit: number;
  /** Next midnight in Asia/Shanghai. */
  resetAt: Date;
  /** Present when ok; hand it to settleQuota once the real usage is known. */
  reservation?: QuotaReservation;
  /** The backend failed or timed out; the reservation is then refused (fail closed). */
  unavailable: boolean;
}

export interface QuotaSettleResult {
  /** False when already settled, the day's key expired, or the backend was unavailable. */
  settled: boolean;
  used: number;
  unavailable: boolean;
}

export function shanghaiDay(now: Date | number): { day: string; resetAt: Date } {
  const ms = typeof now === 'number' ? now : now.getTime();
  const localDayStart = Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS;
  return {
    day: new Date(localDayStart).toISOString().slice(0, 10),
    resetAt: new Date(localDayStart + DAY_MS - SHANGHAI_OFFSET_MS),
  };
}

function tokenCount(n: number, what: string): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what} must be a non-negative number`);
  return Math.ceil(n);
}

function quotaKey(store: LimitStore, userId: string, day: string): string {
  return `${store.prefix}quota:${userId}:${day}`;
}

/**
 * Atomically charges `estimate` tokens against the user's Shanghai-day budget before a model call.
 * Refused (ok: false) when the day is spent or the estimate does not fit; no overdraft.
 */
export async function reserveQuota(
  store: LimitStore,
  userId: string,
  estimate: number,
  dailyLimit: number,
  now: Date | number = Date.now(),
): Promise<QuotaReserveResult> {
  const tokens = tokenCount(estimate, 'estimate');
  const limit = tokenCount(dailyLimit, 'dailyLimit');
  const { day, resetAt } = shanghaiDay(now);
  const id = randomUUID();
  let result: number[];
  try {
    result = await store.run(
      RESERVE_QUOTA,
      [quotaKey(store, userId, day)],
      [tokens, limit, id, QUOTA_KEY_TTL_MS],
    );
  } catch {
    return { ok: false, used: 0, limit, resetAt, unavailable: true };
  }
  const [reserved, used = 0] = result;
  if (reserved !== 1) return { ok: false, used, limit, resetAt, unavailable: false };
  return {
    ok: true,
    used,
    limit,
    resetAt,
    reservation: { id, userId, day, estimate: tokens },
    unavailable: false,
  };
}

/**
 * Replaces the reservation's estimate by the actual usage (refunds when lower; pass 0 for a call that
 * failed or was aborted before any tokens were billed). Idempotent per reservation; never throws for
 * backend trouble (an unsettled reservation simply stays charged at its estimate).
 */
export async function settleQuota(
  store: LimitStore,
  reservation: QuotaReservation,
  actualTokens: number,
): Promise<QuotaSettleResult> {
  const actual = tokenCount(actualTokens, 'actualTokens');
  try {
    const [settled, used = 0] = await store.run(
      SETTLE_QUOTA,
      [quotaKey(store, reservation.userId, reservation.day)],
      [reservation.id, actual],
    );
    return { settled: settled === 1, used, unavailable: false };
  } catch {
    return { settled: false, used: 0, unavailable: true };
  }
}
