// The test harness: a runtime on a test database with captured log lines, every function app
// mounted as Vercel routes them (in process, or on a real HTTP port), and helpers that sign users
// in and hand back tokens. Tests read like the contract: harness.call('POST', '/users/login', …).
import { Writable } from 'node:stream';
import { dispatcher, type LocalServer, loadApps, startServer } from '../../dev/server.js';
import { loadConfig } from '../../lib/config/index.js';
import { type DbHandle, openDatabase } from '../../lib/db/index.js';
import { createLogger } from '../../lib/logger.js';
import { createRuntime, type Runtime, type RuntimeOverrides } from '../../lib/runtime.js';
import { type PgTestDb, pgliteDb, postgresDb } from './db.js';

export type Answer = { status: number; json: unknown; text: string; headers: Headers };
// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely; the contract is asserted field by field
export type Json = any;

export type HarnessOptions = {
  db?: 'pglite' | 'postgres' | 'postgres-pg';
  /** A second instance: the same PostgreSQL database as this harness (its own connections and runtime). */
  sameDatabaseAs?: Harness;
  env?: Record<string, string | undefined>;
  overrides?: Omit<RuntimeOverrides, 'log' | 'dbHandle'>;
};

export type Harness = {
  rt: Runtime;
  db: DbHandle;
  pg: PgTestDb | undefined;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  fetch(req: Request): Promise<Response>;
  call(method: string, path: string, opts?: CallOptions): Promise<Answer & { json: Json }>;
  login(name: string): Promise<{ token: string; refresh: string; userId: string }>;
  /** Signs in and accepts the current consent. */
  user(name: string): Promise<{ token: string; refresh: string; userId: string }>;
  listen(): Promise<LocalServer>;
  close(): Promise<void>;
};

export type CallOptions = {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: BodyInit;
};

export const BASE = 'http://api.test/api/v1';

export function testEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    DATA_DIR: '/nonexistent-test-data',
    // Feature tests send many requests as one user; the limit tests set their own policies.
    RATE_LIMITS: JSON.stringify({
      'login:ip': { limit: 10_000 },
      'login:openid': { limit: 10_000 },
      'chat:user:minute': { limit: 10_000 },
      'chat:user:day': { limit: 10_000 },
      'upload:user': { limit: 10_000 },
      'logs:user': { limit: 10_000 },
    }),
    ...extra,
  };
}

export async function createHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig(testEnv(opts.env));
  let pg: PgTestDb | undefined;
  let db: DbHandle;
  const shared = opts.sameDatabaseAs?.pg;
  if (shared) {
    db = await openDatabase({ url: shared.url, driver: 'pg' });
  } else if (opts.db === 'postgres' || opts.db === 'postgres-pg') {
    pg = await postgresDb(opts.db === 'postgres' ? 'neon' : 'pg');
    db = pg.handle;
  } else {
    db = await pgliteDb();
  }
  const rt = createRuntime(config, {
    ...opts.overrides,
    log: createLogger(config.LOG_LEVEL, sink),
    dbHandle: db,
  });
  const fetch = dispatcher(await loadApps(() => rt));
  const servers: LocalServer[] = [];
  let closed = false;

  const call: Harness['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body = o.raw;
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(new Request(BASE + path, { method, headers, body }));
    const text = await res.text();
    let json: Json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text, headers: res.headers };
  };

  const login: Harness['login'] = async (name) => {
    const r = await call('POST', '/users/login', { body: { code: `dev:${name}` } });
    if (r.status !== 200) throw new Error(`login ${name}: ${r.status} ${r.text}`);
    return { token: r.json.accessToken, refresh: r.json.refreshToken, userId: r.json.user.id };
  };

  return {
    rt,
    db,
    pg,
    logs,
    fetch: async (req) => fetch(req),
    call,
    login,
    user: async (name) => {
      const u = await login(name);
      const r = await call('POST', '/users/me/consents', {
        token: u.token,
        body: { version: config.CONSENT_VERSION, accepted: true },
      });
      if (r.status !== 201) throw new Error(`consent ${name}: ${r.status} ${r.text}`);
      return u;
    },
    listen: async () => {
      const s = await startServer(() => rt);
      servers.push(s);
      return s;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of servers) await s.close();
      if (pg) await pg.drop();
      else await db.close();
    },
  };
}
