// Rate limits as HTTP: the refusal is the domain's (lib/limits.ts); a route that passes carries the
// RateLimit-* headers of the policy closest to its limit.
import type { MiddlewareHandler } from 'hono';
import { enforceLimit, secondsUntil } from '../limits.js';
import type { LimitResult, PolicyName } from '../ratelimit/index.js';
import type { AppContext, AppEnv } from './app.js';
import { currentUser } from './auth.js';
import { addressKey, clientAddress } from './client-address.js';

let warnedNoAddress = false;

/**
 * The per-IP limiter key: the caller's address as this deployment vouches for it (see
 * client-address.ts). A request with no trustworthy address (only in-process calls, or a socket
 * already gone) gets a key of its own rather than one shared "unknown" bucket, which one client
 * could fill to lock every other addressless client out; the per-openid and global limits still
 * apply to it. It is logged once per process, as it means the deployment is misconfigured.
 */
export function clientIp(c: AppContext): string {
  const { config, log } = c.get('rt');
  const ip = clientAddress(c, {
    vercel: Boolean(config.VERCEL),
    header: config.TRUST_PROXY_HEADER,
    hops: config.TRUST_PROXY_HOPS,
  });
  if (ip) return addressKey(ip);
  if (!warnedNoAddress) {
    warnedNoAddress = true;
    log.warn('request without a client address: per-IP limits fall back to one key per request');
  }
  return `no-address:${c.get('requestId')}`;
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
