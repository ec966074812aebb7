import { Ratelimit } from '@upstash/ratelimit';
import { memorySlidingWindow, memorySlidingWindowRefund } from './memory.js';
import { type PolicyName, windowToMs } from './policies.js';
import { ensureWarm, type LimitStore } from './store.js';

export interface LimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. When `unavailable`, a retry hint (now + 1 s). */
  resetMs: number;
  /** The backend failed or timed out; `allowed` then follows the policy's failMode. */
  unavailable: boolean;
}

const UNAVAILABLE_RETRY_MS = 1000;

// One limiter per store+policy, so the ephemeral cache lives as long as the (module-scoped) store.
const limiters = new WeakMap<LimitStore, Map<PolicyName, Ratelimit>>();

function limiterFor(store: LimitStore, name: PolicyName): Ratelimit | null {
  const redis = store.ratelimitRedis;
  if (!redis) return null;
  let perStore = limiters.get(store);
  if (!perStore) {
    perStore = new Map();
    limiters.set(store, perStore);
  }
  let limiter = perStore.get(name);
  if (!limiter) {
    const spec = store.policies[name];
    limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(spec.limit, spec.window),
      prefix: `${store.prefix}limit:${name}`,
      // On timeout the library answers success with reason 'timeout'; we turn that into failMode.
      timeout: store.timeoutMs,
      ephemeralCache: store.ephemeralCache ? new Map() : false,
      // Analytics would add a ZINCRBY per call (cost, and another failure point).
      analytics: false,
      enableTelemetry: false,
    });
    perStore.set(name, limiter);
  }
  return limiter;
}

function unavailable(store: LimitStore, name: PolicyName): LimitResult {
  const spec = store.policies[name];
  return {
    allowed: spec.failMode === 'open',
    limit: spec.limit,
    remaining: 0,
    resetMs: Date.now() + UNAVAILABLE_RETRY_MS,
    unavailable: true,
  };
}

/**
 * Counts one request for `key` under `policyName`. Never throws for backend trouble: a thrown error or a
 * limiter timeout yields `unavailable: true` with `allowed` per the policy's failMode (closed → 503).
 */
export async function checkLimit(
  store: LimitStore,
  policyName: PolicyName,
  key: string,
): Promise<LimitResult> {
  const spec = store.policies[policyName];
  if (!spec) throw new Error(`unknown rate-limit policy: ${policyName}`);
  if (store.memory) {
    const r = memorySlidingWindow(
      store.memory,
      `${store.prefix}limit:${policyName}:${key}`,
      spec.limit,
      windowToMs(spec.window),
    );
    return {
      allowed: r.success,
      limit: spec.limit,
      remaining: r.remaining,
      resetMs: r.reset,
      unavailable: false,
    };
  }
  const limiter = limiterFor(store, policyName);
  if (!limiter || !(await ensureWarm(store))) return unavailable(store, policyName);
  try {
    const r = await limiter.limit(key);
    if (r.reason === 'timeout') return unavailable(store, policyName);
    return {
      allowed: r.success,
      limit: r.limit,
      remaining: r.remaining,
      resetMs: r.reset,
      unavailable: false,
    };
  } catch {
    return unavailable(store, policyName);
  }
}

/**
 * Gives back one request counted by checkLimit for `key` (a turn refused for another reason right
 * after its limits passed: an ended session, a retry answered from its first request). The sliding
 * window's script takes a negative rate as a refund. Best effort: never throws.
 */
export async function refundLimit(store: LimitStore, policyName: PolicyName, key: string): Promise<void> {
  const spec = store.policies[policyName];
  if (!spec) throw new Error(`unknown rate-limit policy: ${policyName}`);
  if (store.memory) {
    memorySlidingWindowRefund(
      store.memory,
      `${store.prefix}limit:${policyName}:${key}`,
      windowToMs(spec.window),
    );
    return;
  }
  const limiter = limiterFor(store, policyName);
  if (!limiter) return;
  await limiter.limit(key, { rate: -1 }).catch(() => undefined);
}
