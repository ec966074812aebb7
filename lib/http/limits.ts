// Rate limits as HTTP: the refusal is the domain's (lib/limits.ts); a route that passes carries the
// RateLimit-* headers of the policy closest to its limit.
import type { MiddlewareHandler } from 'hono';
import { enforceLimit, secondsUntil } from '../limits.js';
import type { LimitResult, PolicyName } from '../ratelimit/index.js';
import type { AppContext, AppEnv } from './app.js';
import { currentUser } from './auth.js';

/** The caller's address as the platform reports it (Vercel and most proxies set these). */
export function clientIp(c: AppContext): string {
  const real = c.req.header('x-real-ip');
  if (real) return real.trim();
  const forwarded = c.req.header('x-forwarded-for');
  return forwarded?.split(',')[0]?.trim() || 'unknown';
}

/** Several policies guard one route: the headers describe the one closest to its limit. */
export function showLimit(c: AppContext, r: LimitResult | null): void {
  if (!r) return;
  const shown = c.res.headers.get('RateLimit-Remaining');
  if (shown === null || r.remaining < Number(shown)) {
    const reset = String(secondsUntil(c.get('rt'), r.resetMs));
    c.header('RateLimit-Limit', String(r.limit));
    c.header('RateLimit-Remaining', String(r.remaining));
    c.header('RateLimit-Reset', reset);
  }
}

export async function assertRateLimit(c: AppContext, policy: PolicyName, key: string): Promise<void> {
  showLimit(c, await enforceLimit(c.get('rt'), policy, key));
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
