// Rate limits, stream slots and the daily token quota as HTTP answers: 429 with Retry-After and
// RateLimit-* headers, QUOTA_EXCEEDED with its reset time, 503 when a fail-closed limiter cannot
// answer. One assertRateLimit for every policy in lib/ratelimit/policies.ts.
// The limiter and its Redis clients load on first use, not when a function is imported.
import type { MiddlewareHandler } from 'hono';
import type { PolicyName, QuotaReservation, SlotLease } from '../ratelimit/index.js';
import type { AppContext, AppEnv } from './app.js';
import { currentUser } from './auth.js';
import { AppError } from './errors.js';

const unavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', 'service temporarily unavailable, please retry', {
    headers: { 'Retry-After': '1' },
  });

/** The caller's address as the platform reports it (Vercel and most proxies set these). */
export function clientIp(c: AppContext): string {
  const real = c.req.header('x-real-ip');
  if (real) return real.trim();
  const forwarded = c.req.header('x-forwarded-for');
  return forwarded?.split(',')[0]?.trim() || 'unknown';
}

export async function assertRateLimit(c: AppContext, policy: PolicyName, key: string): Promise<void> {
  const rt = c.get('rt');
  if (rt.config.RATE_LIMITS_DISABLED) return;
  const { checkLimit } = await import('../ratelimit/index.js');
  const r = await checkLimit(await rt.limits(), policy, key);
  const resetSeconds = Math.max(1, Math.ceil((r.resetMs - rt.now().getTime()) / 1000));
  if (!r.allowed) {
    if (r.unavailable) throw unavailable();
    throw new AppError('RATE_LIMITED', 'too many requests, please slow down', {
      headers: {
        'Retry-After': String(resetSeconds),
        'RateLimit-Limit': String(r.limit),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(resetSeconds),
      },
    });
  }
  // Several policies guard one route: the headers describe the one closest to its limit.
  const shown = c.res.headers.get('RateLimit-Remaining');
  if (!r.unavailable && (shown === null || r.remaining < Number(shown))) {
    c.header('RateLimit-Limit', String(r.limit));
    c.header('RateLimit-Remaining', String(r.remaining));
    c.header('RateLimit-Reset', String(resetSeconds));
  }
}

/** Middleware form: the key is derived from the request (user id, IP, …). */
export function rateLimit(policy: PolicyName, key: (c: AppContext) => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await assertRateLimit(c, policy, key(c));
    await next();
  };
}

export const byUser = (c: AppContext) => currentUser(c).id;
export const byIp = (c: AppContext) => clientIp(c);

/** A chat turn's hold on the user's stream slot and token budget; `finish` is safe to call twice. */
export type ModelLease = { finish(actualTokens: number): Promise<void> };

/**
 * Before a model call: a concurrent-stream slot and a reservation of the estimated tokens.
 * Both are given back by `finish` on every exit path (done, error, abort).
 */
export async function acquireModelLease(c: AppContext, estimateTokens: number): Promise<ModelLease> {
  const rt = c.get('rt');
  if (rt.config.RATE_LIMITS_DISABLED) return { finish: async () => {} };
  const user = currentUser(c);
  const { acquireSlot, reserveQuota, settleQuota } = await import('../ratelimit/index.js');
  const store = await rt.limits();
  const ttl = rt.config.LLM_TIMEOUT_MS + 60_000;
  const slot: SlotLease = await acquireSlot(store, user.id, rt.config.MAX_CONCURRENT_STREAMS, ttl);
  if (!slot.ok) {
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
  const limit = user.role === 'admin' ? rt.config.DAILY_TOKEN_QUOTA_ADMIN : rt.config.DAILY_TOKEN_QUOTA_USER;
  const q = await reserveQuota(store, user.id, estimateTokens, limit, rt.now());
  if (!q.ok || !q.reservation) {
    await slot.release();
    if (q.unavailable) throw unavailable();
    const reset = Math.max(1, Math.ceil((q.resetAt.getTime() - rt.now().getTime()) / 1000));
    throw new AppError(
      'QUOTA_EXCEEDED',
      `daily model quota used up; it resets at ${q.resetAt.toISOString()}`,
      {
        headers: {
          'Retry-After': String(reset),
          'RateLimit-Limit': String(q.limit),
          'RateLimit-Remaining': '0',
          'RateLimit-Reset': String(reset),
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
