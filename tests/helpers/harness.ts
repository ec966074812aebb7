// The test harness: a runtime on a test database with captured log lines, every function app
// mounted as Vercel routes them (in process, or on a real HTTP port), and helpers that sign users
// in and hand back tokens. Tests read like the contract: harness.call('POST', '/users/login', …).
// Answers are typed by the caller, with the contract's own shapes (client/types.ts, which
// tests/services/openapi-client-types.test.ts holds to the server's zod schemas and the document):
//   const r = await h.call<Page<Conversation>>('GET', '/conversations', { token });
//   const bad = await h.call<ErrorEnvelope>('GET', '/conversations?limit=0', { token });
// The type is what the test expects, not checked at run time: the assertions do that.
import { Writable } from 'node:stream';
import type { LoginResponse } from '../../client/index.js';
import { dispatcher, type LocalServer, loadApps, startServer } from '../../dev/server.js';
import { loadConfig } from '../../lib/config/index.js';
import { type DbHandle, openDatabase } from '../../lib/db/index.js';
import { createLogger } from '../../lib/logger.js';
import { createRuntime, type Runtime, type RuntimeOverrides } from '../../lib/runtime.js';
import { type PgTestDb, pgliteDb, postgresDb } from './db.js';

/** One answer: its status, its body parsed as JSON (null when it is not JSON) and as text. */
export type Answer<T = unknown> = { status: number; json: T; text: string; headers: Headers };

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
  /**
   * One request through the functions; T is the JSON body the test expects back. Without it the
   * body is unknown: enough for a test that reads only the status, and to be narrowed by one that
   * reads a body it expects malformed or unknown.
   */
  call<T = unknown>(method: string, path: string, opts?: CallOptions): Promise<Answer<T>>;
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

  const call = async <T = unknown>(method: string, path: string, o: CallOptions = {}): Promise<Answer<T>> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body = o.raw;
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(new Request(BASE + path, { method, headers, body }));
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json: json as T, text, headers: res.headers };
  };

  const login: Harness['login'] = async (name) => {
    const r = await call<LoginResponse>('POST', '/users/login', { body: { code: `dev:${name}` } });
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
