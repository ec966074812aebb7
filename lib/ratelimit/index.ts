/**
 * Rate limits, concurrency slots and daily token quotas, backed by Redis.
 *
 * Backends (one `LimitStore` interface, chosen by `createLimitStore`):
 *   - `{ upstash: { url, token } }` → Upstash REST via @upstash/redis (the Vercel way);
 *   - `{ redisUrl }`               → self-hosted Redis via ioredis (script shebang rewritten for Redis 7);
 *   - neither                      → in-process memory (local dev only: limits are per process).
 * Create the store once at module scope (keeps connections and the ephemeral block cache warm).
 *
 *   createLimitStore(opts: {
 *     upstash?: { url: string; token: string }; redisUrl?: string;
 *     timeoutMs?: number;        // default 300: every call is bounded by it
 *     warmupTimeoutMs?: number;  // default 600: budget of an instance's first contact (cold fetch/TLS)
 *     prefix?: string;           // default 'rl:'
 *     policies?: PolicyOverrides; // e.g. { 'chat:user:day': { limit: 100 } }
 *     ephemeralCache?: boolean;  // default true; off in tests
 *   }): LimitStore
 *   store.warmup(): Promise<boolean>   // optional at startup; otherwise the first operation does it
 *   store.close(): Promise<void>       // closes the ioredis connection
 *
 *   checkLimit(store, policyName, key): Promise<LimitResult>
 *     → { allowed, limit, remaining, resetMs (epoch ms), unavailable }
 *     Policies live in POLICIES (see policies.ts for the table and fail modes). When Redis errors or
 *     exceeds timeoutMs: fail-closed policies give allowed=false, unavailable=true (answer 503);
 *     fail-open ones give allowed=true, unavailable=true.
 *
 *   refundLimit(store, policyName, key): Promise<void>
 *     Gives back one request checkLimit counted (the sliding window takes a negative rate), for a
 *     request refused right after its limits passed. Best effort; never throws for backend trouble.
 *
 *   acquireSlot(store, userId, max, ttlMs): Promise<{ ok, release(), unavailable }>
 *     At most `max` concurrent holders per user; a holder that never releases frees after ttlMs.
 *     release() is idempotent and never throws. Fails closed.
 *
 *   reserveQuota(store, userId, estimate, dailyLimit, now?): Promise<{ ok, used, limit, resetAt, reservation?, unavailable }>
 *   settleQuota(store, reservation, actualTokens): Promise<{ settled, used, unavailable }>
 *     Daily token budget per Asia/Shanghai day (resetAt = next Shanghai midnight). Reserve the estimate
 *     before the model call, settle with the real count after it (0 for failed/aborted calls → refund).
 *     Fails closed.
 *
 * Nothing here throws for backend trouble; only programming errors (unknown policy, bad numbers) throw.
 */

// Only what the rest of the code base uses; the backends, scripts and policy checks stay inside.
export { checkLimit, type LimitResult, refundLimit } from './limit.js';
export { POLICIES, type PolicyName, type PolicyOverrides } from './policies.js';
export { type QuotaReservation, reserveQuota, settleQuota, shanghaiDay } from './quota.js';
export { acquireSlot, type SlotLease } from './slots.js';
export { createLimitStore, type LimitBackend, type LimitStore, type LimitStoreOptions } from './store.js';
