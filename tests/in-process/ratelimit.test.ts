import type { Redis as IORedis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  acquireSlot,
  checkLimit,
  createLimitStore,
  POLICIES,
  type PolicyName,
  type PolicyOverrides,
  reserveQuota,
  settleQuota,
  shanghaiDay,
} from '../../lib/ratelimit/index.js';
import { ScriptCompat, sha1, stripUpstashShebang } from '../../lib/ratelimit/lua-compat.js';
import { MemoryDb, memorySlidingWindow } from '../../lib/ratelimit/memory.js';
import { resolvePolicies, windowToMs } from '../../lib/ratelimit/policies.js';
import { IoredisRatelimitAdapter } from '../../lib/ratelimit/store.js';

const LIB_SCRIPT = `#!lua flags=allow-key-locking\n  local key = KEYS[1]\n  return 1\n`;

describe('lua-compat', () => {
  it('drops the Upstash-only shebang and keeps everything else', () => {
    expect(stripUpstashShebang(LIB_SCRIPT)).toBe('  local key = KEYS[1]\n  return 1\n');
    expect(stripUpstashShebang('#!lua flags=no-writes,allow-key-locking\nreturn 1')).toBe(
      '#!lua flags=no-writes\nreturn 1',
    );
    expect(stripUpstashShebang('return 1')).toBe('return 1');
    expect(stripUpstashShebang('#!lua flags=no-writes\nreturn 1')).toBe('#!lua flags=no-writes\nreturn 1');
  });

  it('maps the original SHA1 to the rewritten script', () => {
    const compat = new ScriptCompat();
    expect(compat.lookup(sha1(LIB_SCRIPT))).toBeUndefined();
    const prepared = compat.prepare(LIB_SCRIPT);
    expect(prepared.originalSha).toBe(sha1(LIB_SCRIPT));
    expect(prepared.sha).toBe(sha1(stripUpstashShebang(LIB_SCRIPT)));
    expect(compat.lookup(sha1(LIB_SCRIPT).toUpperCase())).toEqual({
      sha: prepared.sha,
      script: prepared.script,
    });
  });
});

describe('IoredisRatelimitAdapter', () => {
  function fakeClient(loaded: Set<string>) {
    const calls: string[] = [];
    const client = {
      async evalsha(sha: string, numKeys: number, ...rest: string[]) {
        calls.push(`evalsha ${sha} ${numKeys} ${rest.join(' ')}`);
        if (!loaded.has(sha)) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return [1, 2];
      },
      async eval(script: string, numKeys: number, ...rest: string[]) {
        if (script.startsWith('#!lua flags=allow-key-locking'))
          throw new Error('Unexpected flag in script shebang');
        calls.push(`eval ${sha1(script)} ${numKeys} ${rest.join(' ')}`);
        loaded.add(sha1(script));
        return [3, 4];
      },
    };
    return { client: client as unknown as IORedis, calls };
  }

  it('goes evalsha → NOSCRIPT → eval(stripped), then reuses the stripped SHA', async () => {
    const loaded = new Set<string>();
    const { client, calls } = fakeClient(loaded);
    const adapter = new IoredisRatelimitAdapter(client);
    const libSha = sha1(LIB_SCRIPT);
    const strippedSha = sha1(stripUpstashShebang(LIB_SCRIPT));

    await expect(adapter.evalsha(libSha, ['k'], [10, 'x'])).rejects.toThrow(/NOSCRIPT/);
    expect(await adapter.eval(LIB_SCRIPT, ['k'], [10, 'x'])).toEqual([3, 4]);
    expect(await adapter.evalsha(libSha, ['k'], [10, 'x'])).toEqual([1, 2]);
    expect(calls).toEqual([
      `evalsha ${libSha} 1 k 10 x`,
      `eval ${strippedSha} 1 k 10 x`,
      `evalsha ${strippedSha} 1 k 10 x`,
    ]);

    // Redis lost its script cache: the adapter re-sends the text it kept.
    loaded.clear();
    expect(await adapter.evalsha(libSha, ['k'], [1])).toEqual([3, 4]);
  });
});

describe('policies', () => {
  it('has every named policy, with only log ingestion failing open', () => {
    expect(Object.keys(POLICIES).sort()).toEqual(
      [
        'chat:user:day',
        'chat:user:minute',
        'global',
        'login:ip',
        'login:openid',
        'logs:user',
        'upload:user',
      ].sort(),
    );
    const open = Object.entries(POLICIES)
      .filter(([, p]) => p.failMode === 'open')
      .map(([n]) => n);
    expect(open).toEqual(['logs:user']);
    expect(POLICIES['chat:user:day']).toMatchObject({ limit: 200, window: '1 d' });
  });

  it('merges overrides and rejects bad ones', () => {
    const table = resolvePolicies({ 'chat:user:minute': { limit: 3 }, global: { window: '10 s' } });
    expect(table['chat:user:minute']).toEqual({ ...POLICIES['chat:user:minute'], limit: 3 });
    expect(table.global.window).toBe('10 s');
    expect(table['login:ip']).toEqual(POLICIES['login:ip']);
    expect(() => resolvePolicies({ 'chat:user:minute': { limit: 0 } })).toThrow(/bad limit/);
    const unknown = { nope: { limit: 1 } } as unknown as PolicyOverrides;
    expect(() => resolvePolicies(unknown)).toThrow(/unknown policy/);
  });

  it('parses windows', () => {
    expect(windowToMs('1 m')).toBe(60_000);
    expect(windowToMs('1 d')).toBe(86_400_000);
    expect(windowToMs('1.5 s')).toBe(1500);
  });
});

describe('shanghaiDay', () => {
  it('switches days at 16:00 UTC (midnight UTC+8)', () => {
    expect(shanghaiDay(Date.parse('2025-03-10T15:59:59.999Z'))).toEqual({
      day: '2025-03-10',
      resetAt: new Date('2025-03-10T16:00:00.000Z'),
    });
    expect(shanghaiDay(new Date('2025-03-10T16:00:00.000Z'))).toEqual({
      day: '2025-03-11',
      resetAt: new Date('2025-03-11T16:00:00.000Z'),
    });
    expect(shanghaiDay(Date.parse('2025-03-10T00:00:00Z')).day).toBe('2025-03-10');
  });
});

describe('memory backend', () => {
  it('is chosen when nothing is configured and limits like the Redis backends', async () => {
    const store = createLimitStore({ ephemeralCache: false, policies: { 'upload:user': { limit: 2 } } });
    expect(store.backend).toBe('memory');
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await checkLimit(store, 'upload:user', 'u1'));
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect((await checkLimit(store, 'upload:user', 'u2')).allowed).toBe(true);
  });

  it('weights the previous window like @upstash/ratelimit', () => {
    let now = 60_000 * 1000; // start of a window
    const db = new MemoryDb(() => now);
    for (let i = 0; i < 10; i++) expect(memorySlidingWindow(db, 'k', 10, 60_000).success).toBe(true);
    expect(memorySlidingWindow(db, 'k', 10, 60_000).success).toBe(false);
    // A quarter into the next window, 75 % of the previous 10 still count: floor(7.5) = 7 → 3 left.
    now += 60_000 + 15_000;
    const allowed = [];
    for (let i = 0; i < 4; i++) allowed.push(memorySlidingWindow(db, 'k', 10, 60_000).success);
    expect(allowed).toEqual([true, true, true, false]);
  });

  it('expires keys', () => {
    let now = 1000;
    const db = new MemoryDb(() => now);
    db.incrBy('a', 1);
    db.pexpire('a', 100);
    expect(db.pttl('a')).toBe(100);
    now += 100;
    expect(db.getCounter('a')).toBe(0);
    expect(db.pttl('a')).toBe(-2);
    expect(db.size()).toBe(0);
  });

  it('runs slots and quota', async () => {
    const store = createLimitStore();
    const a = await acquireSlot(store, 'u', 1, 10_000);
    expect(a.ok).toBe(true);
    expect((await acquireSlot(store, 'u', 1, 10_000)).ok).toBe(false);
    await a.release();
    await a.release();
    expect((await acquireSlot(store, 'u', 1, 10_000)).ok).toBe(true);

    const r = await reserveQuota(store, 'u', 1000, 2000);
    if (!r.reservation) throw new Error('expected a reservation');
    expect(await settleQuota(store, r.reservation, 300)).toMatchObject({ settled: true, used: 300 });
  });
});

describe('argument validation', () => {
  it('throws on programming errors instead of reporting unavailable', async () => {
    const store = createLimitStore();
    await expect(checkLimit(store, 'nope' as PolicyName, 'k')).rejects.toThrow(/unknown rate-limit policy/);
    await expect(acquireSlot(store, 'u', 1, 0)).rejects.toThrow(RangeError);
    await expect(reserveQuota(store, 'u', -1, 10)).rejects.toThrow(RangeError);
    await expect(reserveQuota(store, 'u', Number.NaN, 10)).rejects.toThrow(RangeError);
  });
});
