// Rate limits, stream slots and the daily token quota as domain rules: a refusal is an AppError
// (RATE_LIMITED / QUOTA_EXCEEDED with Retry-After and RateLimit-* headers, SERVICE_UNAVAILABLE when a
// fail-closed limiter cannot answer). lib/http/limits.ts adds the success headers for HTTP routes.
// The limiter and its Redis clients load on first use, not when a function is imported.
import { AppError } from './errors.js';
import type { LimitResult, PolicyName, QuotaReservation, SlotLease } from './ratelimit/index.js';
import type { Runtime } from './runtime.js';

const unavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', 'service temporarily unavailable, please retry', {
    headers: { 'Retry-After': '1' },
  });

export const secondsUntil = (rt: Runtime, epochMs: number) =>
  Math.max(1, Math.ceil((epochMs - rt.now().getTime()) / 1000));

/** Checks one policy for `key`: the result when allowed, else the refusal. */
export async function enforceLimit(
  rt: Runtime,
  policy: PolicyName,
  key: string,
): Promise<LimitResult | null> {
  if (rt.config.RATE_LIMITS_DISABLED) return null;
  const { checkLimit } = await import('./ratelimit/index.js');
  const r = await checkLimit(await rt.limits(), policy, key);
  if (!r.allowed) {
    if (r.unavailable) throw unavailable();
    const reset = String(secondsUntil(rt, r.resetMs));
    throw new AppError('RATE_LIMITED', 'too many requests, please slow down', {
      headers: {
        'Retry-After': reset,
        'RateLimit-Limit': String(r.limit),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': reset,
      },
    });
  }
  return r.unavailable ? null : r;
}

/** Gives back requests that passed their limits but were refused right after (best effort). */
export async function refundLimits(rt: Runtime, counted: readonly { policy: PolicyName; key: string }[]) {
  if (rt.config.RATE_LIMITS_DISABLED || counted.length === 0) return;
  const { refundLimit } = await import('./ratelimit/index.js');
  const store = await rt.limits();
  await Promise.all(counted.map((c) => refundLimit(store, c.policy, c.key)));
}

/** A chat turn's hold on the user's stream slot and token budget; `finish` is safe to call twice. */
export type ModelLease = { finish(actualTokens: number): Promise<void> };

export const NO_LEASE: ModelLease = { finish: async () => {} };

/**
 * Before a model call: a concurrent-stream slot and a reservation of the estimated tokens, asked
 * for together (one round trip to Redis). Both are given back by `finish` on every exit path, and
 * at once when either is refused.
 */
export async function acquireModelLease(
  rt: Runtime,
  user: { id: string; role: 'user' | 'admin' },
  estimateTokens: number,
): Promise<ModelLease> {
  if (rt.config.RATE_LIMITS_DISABLED) return NO_LEASE;
  const { acquireSlot, reserveQuota, settleQuota } = await import('./ratelimit/index.js');
  const store = await rt.limits();
  const ttl = rt.config.LLM_TIMEOUT_MS + 60_000;
  const limit = user.role === 'admin' ? rt.config.DAILY_TOKEN_QUOTA_ADMIN : rt.config.DAILY_TOKEN_QUOTA_USER;
  const [slot, q]: [SlotLease, Awaited<ReturnType<typeof reserveQuota>>] = await Promise.all([
    acquireSlot(store, user.id, rt.config.MAX_CONCURRENT_STREAMS, ttl),
    reserveQuota(store, user.id, estimateTokens, limit, rt.now()),
  ]);
  const refund = async () => {
    await Promise.allSettled([
      slot.release(),
      q.reservation ? settleQuota(store, q.reservation, 0) : Promise.resolve(),
    ]);
  };
  if (!slot.ok) {
    await refund();
    if (slot.unavailable) throw unavailable();
    throw new AppError('RATE_LIMITED', 'too many answers in progress; wait for one to finish', {
      headers: {
        'Retry-After': '5',
        'RateLimit-Limit': String(rt.config.MAX_CONCURRENT_STREAMS),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': '5',
      },
    });
  }
  if (!q.ok || !q.reservation) {
    await refund();
    if (q.unavailable) throw unavailable();
    const reset = String(secondsUntil(rt, q.resetAt.getTime()));
    throw new AppError(
      'QUOTA_EXCEEDED',
      `daily model quota used up; it resets at ${q.resetAt.toISOString()}`,
      {
        headers: {
          'Retry-After': reset,
          'RateLimit-Limit': String(q.limit),
          'RateLimit-Remaining': '0',
          'RateLimit-Reset': reset,
        },
      },
    );
  }
  const reservation: QuotaReservation = q.reservation;
  let finished = false;
  return {
    finish: async (actualTokens) => {
      if (finished) return;
      finished = true;
      await Promise.allSettled([settleQuota(store, reservation, actualTokens), slot.release()]);
    },
  };
}
