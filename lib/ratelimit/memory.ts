/**
 * Tiny in-process keyspace for local dev with no Redis configured. It only offers what the JS twins of
 * our Lua scripts need (counters, sorted sets, hashes, per-key expiry). State is per process, so it is
 * NOT a real limit on Vercel where every instance has its own memory.
 */

type MemoryValue =
  | { kind: 'counter'; n: number }
  | { kind: 'zset'; members: Map<string, number> }
  | { kind: 'hash'; fields: Map<string, number> };

interface Entry {
  value: MemoryValue;
  /** epoch ms, or null for no expiry */
  expiresAt: number | null;
}

// Expired entries are dropped lazily on access; a periodic sweep bounds memory for keys never read again.
const SWEEP_EVERY_WRITES = 1000;

export class MemoryDb {
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number {
    return this.clock();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private create(key: string, value: MemoryValue): Entry {
    this.writes += 1;
    if (this.writes % SWEEP_EVERY_WRITES === 0) this.sweep();
    const entry: Entry = { value, expiresAt: null };
    this.entries.set(key, entry);
    return entry;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.entries.delete(key);
    }
  }

  getCounter(key: string): number {
    const entry = this.live(key);
    return entry?.value.kind === 'counter' ? entry.value.n : 0;
  }

  incrBy(key: string, by: number): number {
    const entry = this.live(key);
    if (entry?.value.kind === 'counter') {
      entry.value.n += by;
      return entry.value.n;
    }
    this.create(key, { kind: 'counter', n: by });
    return by;
  }

  /** Sorted set (member → score); created on demand when `create` is true. */
  zset(key: string, create: true): Map<string, number>;
  zset(key: string, create: false): Map<string, number> | undefined;
  zset(key: string, create: boolean): Map<string, number> | undefined {
    const entry = this.live(key);
    if (entry?.value.kind === 'zset') return entry.value.members;
    if (!create) return undefined;
    const members = new Map<string, number>();
    this.create(key, { kind: 'zset', members });
    return members;
  }

  /** Hash of integer fields; created on demand when `create` is true. */
  hash(key: string, create: true): Map<string, number>;
  hash(key: string, create: false): Map<string, number> | undefined;
  hash(key: string, create: boolean): Map<string, number> | undefined {
    const entry = this.live(key);
    if (entry?.value.kind === 'hash') return entry.value.fields;
    if (!create) return undefined;
    const fields = new Map<string, number>();
    this.create(key, { kind: 'hash', fields });
    return fields;
  }

  /** Like Redis PTTL: -2 when missing, -1 when no expiry. */
  pttl(key: string): number {
    const entry = this.live(key);
    if (!entry) return -2;
    return entry.expiresAt === null ? -1 : entry.expiresAt - this.clock();
  }

  pexpire(key: string, ms: number): void {
    const entry = this.live(key);
    if (entry) entry.expiresAt = this.clock() + ms;
  }

  del(key: string): void {
    this.entries.delete(key);
  }

  size(): number {
    return this.entries.size;
  }
}

/**
 * Same weighted sliding window as @upstash/ratelimit's `slidingWindow`, so local dev behaves like prod:
 * the previous window's count is weighted by how much of it still overlaps the sliding window.
 */
export function memorySlidingWindow(
  db: MemoryDb,
  key: string,
  limit: number,
  windowMs: number,
): { success: boolean; remaining: number; reset: number } {
  const now = db.now();
  const current = Math.floor(now / windowMs);
  const currentKey = `${key}:${current}`;
  const previousKey = `${key}:${current - 1}`;
  const reset = (current + 1) * windowMs;
  const inCurrent = db.getCounter(currentKey);
  const inPrevious = Math.floor((1 - (now % windowMs) / windowMs) * db.getCounter(previousKey));
  if (inPrevious + inCurrent >= limit) return { success: false, remaining: 0, reset };
  const next = db.incrBy(currentKey, 1);
  if (next === 1) db.pexpire(currentKey, windowMs * 2 + 1000);
  return { success: true, remaining: Math.max(0, limit - (next + inPrevious)), reset };
}

/** Gives back one request of the current window (a request refused right after it was counted). */
export function memorySlidingWindowRefund(db: MemoryDb, key: string, windowMs: number): void {
  const currentKey = `${key}:${Math.floor(db.now() / windowMs)}`;
  if (db.getCounter(currentKey) > 0) db.incrBy(currentKey, -1);
}
