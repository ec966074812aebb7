import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstashRest, type UpstashRestServer } from '../../dev/upstash-rest/index.js';
import {
  acquireSlot,
  checkLimit,
  createLimitStore,
  type LimitBackend,
  type LimitStore,
  type LimitStoreOptions,
  reserveQuota,
  settleQuota,
} from '../../lib/ratelimit/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = `tok-${randomUUID()}`;
// Unique per run and per test so parallel files and reruns never share keys.
const RUN_PREFIX = `test:ratelimit:${randomUUID()}:`;
let seq = 0;

let rest: UpstashRestServer;
let raw: IORedis;
const stores: LimitStore[] = [];

beforeAll(async () => {
  raw = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await raw.ping();
  rest = await startUpstashRest({ redisUrl: REDIS_URL, token: TOKEN });
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await rest?.close();
  if (raw) {
    const keys = await raw.keys(`${RUN_PREFIX}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  }
});

function makeStore(backend: LimitBackend, extra: Partial<LimitStoreOptions> = {}): LimitStore {
  seq += 1;
  // Behaviour tests get a roomy timeout so a loaded CI box cannot turn them into fail-closed results;
  // the 300 ms default is exercised by the backend-down tests below.
  const opts: LimitStoreOptions = {
    prefix: `${RUN_PREFIX}${seq}:`,
    ephemeralCache: false,
    timeoutMs: 2000,
    ...extra,
  };
  if (backend === 'upstash') opts.upstash = { url: rest.url, token: TOKEN };
  if (backend === 'redis') opts.redisUrl = REDIS_URL;
  const store = createLimitStore(opts);
  expect(store.backend).toBe(backend);
  stores.push(store);
  return store;
}

/** Sliding windows weigh in the previous window; start a burst well inside one window. */
async function awayFromWindowEdge(windowMs: number, marginMs = 2000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}

async function pttl(store: LimitStore, key: string): Promise<number> {
  if (store.memory) return store.memory.pttl(key);
  return raw.pttl(key);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BACKENDS: LimitBackend[] = ['upstash', 'redis', 'memory'];

describe.each(BACKENDS)('ratelimit on %s backend', (backend) => {
  it('allows exactly the policy limit, then denies with sane remaining/reset', async () => {
    const store = makeStore(backend);
    await awayFromWindowEdge(60_000);
    const before = Date.now();
    const results = [];
    for (let i = 0; i < 11; i++) results.push(await checkLimit(store, 'chat:user:minute', 'user-1'));
    const allowed = results.filter((r) => r.allowed).length;
    expect(allowed).toBe(10);
    results.slice(0, 10).forEach((r, i) => {
      expect(r).toMatchObject({ allowed: true, limit: 10, remaining: 9 - i, unavailable: false });
    });
    const denied = results[10];
    expect(denied).toMatchObject({ allowed: false, limit: 10, remaining: 0, unavailable: false });
    // Reset is the end of the current minute window.
    expect(denied?.resetMs).toBeGreaterThan(before);
    expect(denied?.resetMs).toBeLessThanOrEqual(before + 60_000);
    expect((denied?.resetMs ?? 1) % 60_000).toBe(0);
    if (backend !== 'memory') {
      expect(await raw.keys(`${store.prefix}limit:chat:user:minute:user-1:*`)).toHaveLength(1);
    }
  });

  it('keeps keys and policies independent, and honours overrides', async () => {
    const store = makeStore(backend, { policies: { 'login:openid': { limit: 3 } } });
    await awayFromWindowEdge(60_000);
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await checkLimit(store, 'login:openid', 'openid-a')).allowed);
    expect(a).toEqual([true, true, true, false]);
    expect(await checkLimit(store, 'login:openid', 'openid-b')).toMatchObject({ allowed: true, limit: 3 });
    expect(await checkLimit(store, 'login:ip', 'openid-a')).toMatchObject({ allowed: true, limit: 20 });
  });

  it('caps concurrent slots, frees on release, ignores double release', async () => {
    const store = makeStore(backend);
    const s1 = await acquireSlot(store, 'u1', 2, 60_000);
    const s2 = await acquireSlot(store, 'u1', 2, 60_000);
    const s3 = await acquireSlot(store, 'u1', 2, 60_000);
    expect([s1.ok, s2.ok, s3.ok]).toEqual([true, true, false]);
    expect(s3.unavailable).toBe(false);
    expect((await acquireSlot(store, 'u2', 2, 60_000)).ok).toBe(true);

    await s1.release();
    const s4 = await acquireSlot(store, 'u1', 2, 60_000);
    expect(s4.ok).toBe(true);
    // A second release of s1 must not free s2's or s4's slot.
    await s1.release();
    expect((await acquireSlot(store, 'u1', 2, 60_000)).ok).toBe(false);
    const ttl = await pttl(store, `${store.prefix}slots:u1`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('reclaims a slot whose holder never released it after ttl', async () => {
    const store = makeStore(backend);
    const crashed = await acquireSlot(store, 'u1', 2, 300);
    // A live long-ttl slot keeps the key itself alive, so only per-slot expiry can free the crashed one.
    const live = await acquireSlot(store, 'u1', 2, 60_000);
    expect([crashed.ok, live.ok]).toEqual([true, true]);
    expect((await acquireSlot(store, 'u1', 2, 300)).ok).toBe(false);
    await sleep(400);
    expect((await acquireSlot(store, 'u1', 2, 300)).ok).toBe(true);
    expect((await acquireSlot(store, 'u1', 2, 300)).ok).toBe(false);
  });

  it('reserves and settles quota: adjust to actual, refund aborted, settle once', async () => {
    const store = makeStore(backend);
    const now = Date.parse('2025-03-10T04:00:00Z'); // 12:00 in Shanghai
    const r1 = await reserveQuota(store, 'u1', 1000, 5000, now);
    expect(r1).toMatchObject({ ok: true, used: 1000, limit: 5000, unavailable: false });
    if (!r1.reservation) throw new Error('expected a reservation');
    expect(await settleQuota(store, r1.reservation, 300)).toEqual({
      settled: true,
      used: 300,
      unavailable: false,
    });
    // Settling twice must not apply the delta again.
    expect(await settleQuota(store, r1.reservation, 300)).toEqual({
      settled: false,
      used: 300,
      unavailable: false,
    });

    const r2 = await reserveQuota(store, 'u1', 1000, 5000, now);
    expect(r2).toMatchObject({ ok: true, used: 1300 });
    if (!r2.reservation) throw new Error('expected a reservation');
    expect(await settleQuota(store, r2.reservation, 0)).toMatchObject({ settled: true, used: 300 });

    // Actual above the estimate charges the difference.
    const r3 = await reserveQuota(store, 'u1', 100, 5000, now);
    if (!r3.reservation) throw new Error('expected a reservation');
    expect(await settleQuota(store, r3.reservation, 250)).toMatchObject({ settled: true, used: 550 });

    const ttl = await pttl(store, `${store.prefix}quota:u1:2025-03-10`);
    expect(ttl).toBeGreaterThan(47 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(48 * 3_600_000);
  });

  it('refuses over-limit quota with resetAt at the next Shanghai midnight', async () => {
    const store = makeStore(backend);
    const lateEvening = Date.parse('2025-03-10T15:59:59Z'); // 23:59:59 in Shanghai
    const r1 = await reserveQuota(store, 'u1', 4000, 5000, lateEvening);
    expect(r1.ok).toBe(true);
    const refused = await reserveQuota(store, 'u1', 1001, 5000, lateEvening);
    expect(refused).toMatchObject({ ok: false, used: 4000, limit: 5000, unavailable: false });
    expect(refused.reservation).toBeUndefined();
    expect(refused.resetAt.toISOString()).toBe('2025-03-10T16:00:00.000Z');
    // Exactly filling the budget is fine; after that even a zero estimate is refused.
    expect((await reserveQuota(store, 'u1', 1000, 5000, lateEvening)).ok).toBe(true);
    expect((await reserveQuota(store, 'u1', 0, 5000, lateEvening)).ok).toBe(false);
    // One second later it is a new Shanghai day with a fresh budget.
    const nextDay = await reserveQuota(store, 'u1', 1001, 5000, lateEvening + 1000);
    expect(nextDay).toMatchObject({ ok: true, used: 1001 });
    expect(nextDay.resetAt.toISOString()).toBe('2025-03-11T16:00:00.000Z');
  });

  it('never lets a refund take usage below zero', async () => {
    const store = makeStore(backend);
    const now = Date.parse('2025-03-10T04:00:00Z');
    const r = await reserveQuota(store, 'u1', 1000, 5000, now);
    if (!r.reservation) throw new Error('expected a reservation');
    // Simulate drifted state (e.g. an operator reset) under an open reservation.
    const key = `${store.prefix}quota:u1:2025-03-10`;
    if (store.memory) store.memory.hash(key, true).set('used', 100);
    else await raw.hset(key, 'used', 100);
    expect(await settleQuota(store, r.reservation, 0)).toMatchObject({ settled: true, used: 0 });
  });

  it('keeps quota per user', async () => {
    const store = makeStore(backend);
    const now = Date.now();
    expect((await reserveQuota(store, 'u1', 100, 100, now)).ok).toBe(true);
    expect((await reserveQuota(store, 'u1', 1, 100, now)).ok).toBe(false);
    expect(await reserveQuota(store, 'u2', 100, 100, now)).toMatchObject({ ok: true, used: 100 });
  });
});

describe.each(['upstash', 'redis'] as const)('ephemeral cache on %s backend', (backend) => {
  it('keeps denying a blocked key from memory when enabled, and not when disabled', async () => {
    for (const ephemeralCache of [true, false]) {
      const store = makeStore(backend, { ephemeralCache, policies: { 'upload:user': { limit: 2 } } });
      await awayFromWindowEdge(60_000);
      for (let i = 0; i < 3; i++) await checkLimit(store, 'upload:user', 'u1');
      // Wipe Redis state: only a local cache can still know u1 is blocked.
      const keys = await raw.keys(`${store.prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      await raw.del(...keys);
      expect((await checkLimit(store, 'upload:user', 'u1')).allowed).toBe(!ephemeralCache);
    }
  });
});

// Servers that accept connections and never answer.
const hangingSockets = new Set<Socket>();
let hangingHttp: HttpServer;
let hangingTcp: TcpServer;
let hangingHttpUrl = '';
let hangingTcpUrl = '';

beforeAll(async () => {
  hangingHttp = createHttpServer(() => {});
  hangingHttp.on('connection', (s) => hangingSockets.add(s));
  hangingTcp = createTcpServer((s) => hangingSockets.add(s));
  await new Promise<void>((r) => hangingHttp.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => hangingTcp.listen(0, '127.0.0.1', r));
  const httpAddr = hangingHttp.address();
  const tcpAddr = hangingTcp.address();
  if (!httpAddr || typeof httpAddr === 'string' || !tcpAddr || typeof tcpAddr === 'string')
    throw new Error('no port');
  hangingHttpUrl = `http://127.0.0.1:${httpAddr.port}`;
  hangingTcpUrl = `redis://127.0.0.1:${tcpAddr.port}`;
});

afterAll(async () => {
  for (const s of hangingSockets) s.destroy();
  await Promise.all([new Promise((r) => hangingHttp?.close(r)), new Promise((r) => hangingTcp?.close(r))]);
});

describe('cold start', () => {
  it('gives the first contact the warm-up budget, so a slow cold call is not a false 503', async () => {
    // Proxy to the REST endpoint that answers its first request after 450 ms (> 300 ms call budget).
    let first = true;
    const proxy = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        if (first) {
          first = false;
          await sleep(450);
        }
        // Forward only end-to-end headers the endpoint reads (auth, encoding).
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string' && (k === 'authorization' || k.startsWith('upstash-'))) headers[k] = v;
        }
        const upstream = await fetch(`${rest.url}${req.url ?? '/'}`, {
          method: 'POST',
          headers,
          body: Buffer.concat(chunks),
        });
        res.writeHead(upstream.status, { 'content-type': 'application/json' });
        res.end(await upstream.text());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const addr = proxy.address();
      if (!addr || typeof addr === 'string') throw new Error('no port');
      seq += 1;
      const store = createLimitStore({
        prefix: `${RUN_PREFIX}${seq}:`,
        ephemeralCache: false,
        upstash: { url: `http://127.0.0.1:${addr.port}`, token: TOKEN },
      });
      stores.push(store);
      expect(store.timeoutMs).toBe(300);
      const { value, ms } = await timed(() => checkLimit(store, 'chat:user:minute', 'cold'));
      expect(value).toMatchObject({ allowed: true, unavailable: false, remaining: 9 });
      expect(ms).toBeGreaterThanOrEqual(440);
      expect(first).toBe(false);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});

type FailureCase = { name: string; opts: () => Partial<LimitStoreOptions> };
const FAILURES: FailureCase[] = [
  { name: 'upstash: closed port', opts: () => ({ upstash: { url: 'http://127.0.0.1:1', token: TOKEN } }) },
  { name: 'upstash: hanging endpoint', opts: () => ({ upstash: { url: hangingHttpUrl, token: TOKEN } }) },
  { name: 'redis: closed port', opts: () => ({ redisUrl: 'redis://127.0.0.1:1' }) },
  { name: 'redis: hanging server', opts: () => ({ redisUrl: hangingTcpUrl }) },
];

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

describe.each(FAILURES)('backend down ($name)', ({ opts }) => {
  function deadStore(): LimitStore {
    seq += 1;
    const store = createLimitStore({ prefix: `${RUN_PREFIX}${seq}:`, ephemeralCache: false, ...opts() });
    stores.push(store);
    return store;
  }

  it('fails closed within ~1 s for a fail-closed policy (cold, then warm within the 300 ms budget)', async () => {
    const store = deadStore();
    for (let i = 0; i < 3; i++) {
      const { value, ms } = await timed(() => checkLimit(store, 'chat:user:minute', 'u1'));
      expect(value).toMatchObject({ allowed: false, unavailable: true, limit: 10, remaining: 0 });
      expect(value.resetMs).toBeGreaterThan(Date.now());
      // Cold: bounded by the 600 ms warm-up budget; afterwards by the 300 ms call budget.
      expect(ms).toBeLessThan(i === 0 ? 1000 : 700);
    }
  });

  it('fails open for the open logs policy, flagged unavailable', async () => {
    const store = deadStore();
    const { value, ms } = await timed(() => checkLimit(store, 'logs:user', 'u1'));
    expect(value).toMatchObject({ allowed: true, unavailable: true });
    expect(ms).toBeLessThan(1000);
  });

  it('refuses slots and quota within ~1 s', async () => {
    const store = deadStore();
    const slot = await timed(() => acquireSlot(store, 'u1', 5, 60_000));
    expect(slot.value).toMatchObject({ ok: false, unavailable: true });
    await slot.value.release();
    expect(slot.ms).toBeLessThan(1000);

    const quota = await timed(() => reserveQuota(store, 'u1', 10, 1000));
    expect(quota.value).toMatchObject({ ok: false, unavailable: true });
    expect(quota.ms).toBeLessThan(1000);

    const reservation = { id: 'x', userId: 'u1', day: '2025-03-10', estimate: 10 };
    const settle = await timed(() => settleQuota(store, reservation, 0));
    expect(settle.value).toEqual({ settled: false, used: 0, unavailable: true });
    expect(settle.ms).toBeLessThan(1000);
  });
});
