// The WeChat server API access token, from /cgi-bin/stable_token. Cached in module scope (a warm
// function reuses it across invocations), refreshed five minutes before it expires, and fetched
// once for concurrent callers. The token is a credential: never logged, never returned.
import type { Config } from '../config/index.js';

type Cached = { token: string; refreshAt: number };

const cache = new Map<string, Cached>();
const inflight = new Map<string, Promise<string>>();
// When this instance last forced a refresh, per app. WeChat allows about 20 forced refreshes a
// day, and each one invalidates every other instance's token: many warm instances each forcing
// on every 40001 would use them up in minutes and knock each other's tokens out in a loop.
const lastForced = new Map<string, number>();
export const FORCE_REFRESH_INTERVAL_MS = 60_000;

// Refresh ahead of expiry so a request never carries a token that dies on the way.
const EARLY_REFRESH_SECONDS = 300;

export class WechatApiError extends Error {
  constructor(
    readonly errcode: number | undefined,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
    this.name = 'WechatApiError';
  }
}

const cacheKey = (config: Config) => `${config.WECHAT_API_BASE_URL}|${config.WECHAT_APPID ?? ''}`;

type TokenAnswer = { access_token?: string; expires_in?: number; errcode?: number; errmsg?: string };

async function fetchToken(config: Config, now: number, forceRefresh: boolean): Promise<string> {
  const { WECHAT_APPID: appid, WECHAT_SECRET: secret } = config;
  if (!appid || !secret) throw new WechatApiError(undefined, 'WeChat is not configured');
  let body: TokenAnswer;
  try {
    const res = await fetch(new URL('/cgi-bin/stable_token', config.WECHAT_API_BASE_URL), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credential',
        appid,
        secret,
        force_refresh: forceRefresh,
      }),
      signal: AbortSignal.timeout(config.WECHAT_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`status ${res.status}`);
    body = (await res.json()) as TokenAnswer;
  } catch (cause) {
    throw new WechatApiError(undefined, 'stable_token unreachable', { cause });
  }
  if (!body.access_token || (body.errcode ?? 0) !== 0) {
    throw new WechatApiError(body.errcode, 'stable_token refused');
  }
  const lifetime = Math.max(60, (body.expires_in ?? 7200) - EARLY_REFRESH_SECONDS);
  cache.set(cacheKey(config), { token: body.access_token, refreshAt: now + lifetime * 1000 });
  return body.access_token;
}

/**
 * A valid access token. `rejected` is a token WeChat just refused (40001/42001): the cache is
 * dropped, and if stable_token's normal mode still hands back that same token it is force-refreshed
 * (force refresh is rate-limited by WeChat, so it is the last resort, and this instance forces at
 * most once a minute; within that minute the refused token is an error the caller handles).
 */
export async function getAccessToken(config: Config, now: number, rejected?: string): Promise<string> {
  const key = cacheKey(config);
  const cached = cache.get(key);
  if (cached && cached.token !== rejected && cached.refreshAt > now) return cached.token;
  if (cached && cached.token === rejected) cache.delete(key);
  const running = inflight.get(key);
  if (running) return running;
  const p = (async () => {
    const token = await fetchToken(config, now, false);
    if (token !== rejected) return token;
    const last = lastForced.get(key);
    if (last !== undefined && now - last < FORCE_REFRESH_INTERVAL_MS) {
      // Not cached: the next caller asks stable_token again, which may have a new token by then.
      cache.delete(key);
      throw new WechatApiError(40001, 'access token refused; forced refresh used less than a minute ago');
    }
    lastForced.set(key, now);
    return fetchToken(config, now, true);
  })().finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

/** For tests: forget every cached token. */
export function clearAccessTokenCache(): void {
  cache.clear();
  lastForced.clear();
  inflight.clear();
}
