import { sha1 } from './lua-compat.js';
import type { MemoryDb } from './memory.js';

/**
 * Our own atomic scripts (slots, quota). Each has a Lua body for Redis/Upstash and a JS twin with the
 * same semantics for the in-memory backend. All take string args (as Lua sees them) and return integers
 * only, because @upstash/redis would JSON-parse string results.
 */
export interface StoreScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
  readonly memory: (db: MemoryDb, keys: readonly string[], args: readonly string[]) => number[];
}

function defineScript(name: string, lua: string, memory: StoreScript['memory']): StoreScript {
  return { name, lua, sha: sha1(lua), memory };
}

function key(keys: readonly string[], i: number): string {
  const k = keys[i];
  if (k === undefined) throw new Error(`script needs KEYS[${i + 1}]`);
  return k;
}

function num(args: readonly string[], i: number): number {
  const n = Number(args[i]);
  if (!Number.isFinite(n)) throw new Error(`script ARGV[${i + 1}] is not a number`);
  return n;
}

function str(args: readonly string[], i: number): string {
  const s = args[i];
  if (s === undefined) throw new Error(`script needs ARGV[${i + 1}]`);
  return s;
}

/**
 * KEYS[1] = slot zset (member = slot id, score = expiry epoch ms)
 * ARGV = now, ttlMs, max, slotId → {acquired 0|1, slots held afterwards}
 * Expired members are purged first, so a crashed instance's slot frees itself after ttl.
 */
export const ACQUIRE_SLOT = defineScript(
  'acquireSlot',
  `local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= max then
  return {0, held}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {1, held + 1}
`,
  (db, keys, args) => {
    const k = key(keys, 0);
    const now = num(args, 0);
    const ttl = num(args, 1);
    const max = num(args, 2);
    const slots = db.zset(k, true);
    for (const [member, expiresAt] of slots) if (expiresAt <= now) slots.delete(member);
    const held = slots.size;
    if (held >= max) {
      if (held === 0) db.del(k);
      return [0, held];
    }
    slots.set(str(args, 3), now + ttl);
    if (db.pttl(k) < ttl) db.pexpire(k, ttl);
    return [1, held + 1];
  },
);

/** KEYS[1] = slot zset, ARGV[1] = slot id → {removed 0|1}. ZREM makes a second release a no-op. */
export const RELEASE_SLOT = defineScript(
  'releaseSlot',
  `return {redis.call('ZREM', KEYS[1], ARGV[1])}
`,
  (db, keys, args) => {
    const k = key(keys, 0);
    const slots = db.zset(k, false);
    if (!slots) return [0];
    const removed = slots.delete(str(args, 0)) ? 1 : 0;
    if (slots.size === 0) db.del(k);
    return [removed];
  },
);

/**
 * KEYS[1] = quota hash for one user-day: field `used` plus one `r:<id>` field per open reservation.
 * ARGV = estimate, dailyLimit, reservationId, ttlMs → {reserved 0|1, used afterwards}
 * Refuses when the day is spent or used + estimate would exceed the limit (tokens cost money; no overdraft).
 */
export const RESERVE_QUOTA = defineScript(
  'reserveQuota',
  `local estimate = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if used >= limit or used + estimate > limit then
  return {0, used}
end
used = redis.call('HINCRBY', KEYS[1], 'used', estimate)
redis.call('HSET', KEYS[1], 'r:' .. ARGV[3], estimate)
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
end
return {1, used}
`,
  (db, keys, args) => {
    const k = key(keys, 0);
    const estimate = num(args, 0);
    const limit = num(args, 1);
    const existing = db.hash(k, false);
    const used = existing?.get('used') ?? 0;
    if (used >= limit || used + estimate > limit) return [0, used];
    const fields = existing ?? db.hash(k, true);
    const next = used + estimate;
    fields.set('used', next);
    fields.set(`r:${str(args, 2)}`, estimate);
    if (db.pttl(k) < 0) db.pexpire(k, num(args, 3));
    return [1, next];
  },
);

/**
 * KEYS[1] = quota hash, ARGV = reservationId, actualTokens → {settled 0|1, used afterwards}
 * Applies actual − estimate once (the reservation field is deleted), never going below zero and never
 * recreating a key that already expired.
 */
export const SETTLE_QUOTA = defineScript(
  'settleQuota',
  `local field = 'r:' .. ARGV[1]
local estimate = redis.call('HGET', KEYS[1], field)
if not estimate then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'used') or '0')}
end
redis.call('HDEL', KEYS[1], field)
local used = redis.call('HINCRBY', KEYS[1], 'used', tonumber(ARGV[2]) - tonumber(estimate))
if used < 0 then
  redis.call('HSET', KEYS[1], 'used', 0)
  used = 0
end
return {1, used}
`,
  (db, keys, args) => {
    const fields = db.hash(key(keys, 0), false);
    const field = `r:${str(args, 0)}`;
    const estimate = fields?.get(field);
    if (!fields || estimate === undefined) return [0, fields?.get('used') ?? 0];
    fields.delete(field);
    const used = Math.max(0, (fields.get('used') ?? 0) + num(args, 1) - estimate);
    fields.set('used', used);
    return [1, used];
  },
);
