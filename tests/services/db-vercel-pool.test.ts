// On Vercel the database pool is registered with @vercel/functions' attachDatabasePool and idles
// out quickly: after a query the invocation is held open (waitUntil) just long enough for the idle
// connections to close, so a suspended instance holds none. Both pooled drivers, against the real
// PostgreSQL (the Neon driver through the local WebSocket proxy).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNeonWsProxy } from '../../dev/neon-ws-proxy/index.js';
import { type DbHandle, IDLE_MS_ON_VERCEL, openDatabase, pingDatabase } from '../../lib/db/index.js';
import { adminQuery, PG_HOST, pgUrl } from '../helpers/db.js';

type PoolLike = {
  options: { idleTimeoutMillis?: number };
  listenerCount(event: string): number;
};
const poolOf = (h: DbHandle) => (h.db as unknown as { $client: PoolLike }).$client;

// What the Vercel runtime installs: the request context @vercel/functions reads waitUntil from.
const CONTEXT = Symbol.for('@vercel/request-context');
type Global = { [CONTEXT]?: { get(): { waitUntil(p: Promise<unknown>): void } } };

describe('the database pool on Vercel', () => {
  const name = `t_vpool_${Date.now().toString(36)}`;
  let proxy: Awaited<ReturnType<typeof startNeonWsProxy>>;
  const handles: DbHandle[] = [];
  const saved = { url: process.env.VERCEL_URL, region: process.env.VERCEL_REGION };

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${name}`);
    proxy = await startNeonWsProxy({ allow: [PG_HOST] });
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    delete (globalThis as Global)[CONTEXT];
    process.env.VERCEL_URL = saved.url;
    process.env.VERCEL_REGION = saved.region;
    if (saved.url === undefined) delete process.env.VERCEL_URL;
    if (saved.region === undefined) delete process.env.VERCEL_REGION;
  });
  afterAll(async () => {
    await proxy.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  const open = async (driver: 'neon' | 'pg', onVercel: boolean) => {
    const h = await openDatabase({
      url: pgUrl(name),
      driver,
      neonWsProxy: driver === 'neon' ? proxy.address : undefined,
      onVercel,
    });
    handles.push(h);
    return h;
  };

  for (const driver of ['neon', 'pg'] as const) {
    it(`${driver}: registers the pool and holds the invocation until idle connections close`, async () => {
      // Set by the platform; the helper does nothing without them (builds, local runs).
      process.env.VERCEL_URL = 'example.vercel.app';
      process.env.VERCEL_REGION = 'hkg1';
      const held: Promise<unknown>[] = [];
      (globalThis as Global)[CONTEXT] = { get: () => ({ waitUntil: (p) => held.push(p) }) };

      const h = await open(driver, true);
      const pool = poolOf(h);
      expect(pool.options.idleTimeoutMillis).toBe(IDLE_MS_ON_VERCEL);
      expect(pool.listenerCount('release')).toBe(1);

      await pingDatabase(h.db);
      // Releasing the client after the query handed a wait to the invocation.
      expect(held).toHaveLength(1);
      const started = performance.now();
      await held[0];
      // It resolves once the idle timeout has passed, not before.
      expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_MS_ON_VERCEL - 500);
    });

    it(`${driver}: off Vercel the pool is not registered and keeps its usual idle timeout`, async () => {
      const h = await open(driver, false);
      const pool = poolOf(h);
      expect(pool.listenerCount('release')).toBe(0);
      expect(pool.options.idleTimeoutMillis).toBeGreaterThan(IDLE_MS_ON_VERCEL);
      await pingDatabase(h.db);
    });
  }
});
