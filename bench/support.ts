// What the benchmarks share: machine facts, statistics, a small keep-alive HTTP client with the
// mini-program's SSE parser, and a "stack": the real service (startServer) on a fresh database on
// the local PostgreSQL reached through the Neon driver over the WebSocket proxy, the local Redis,
// and the local OpenAI-compatible model server. Everything listens on loopback and is torn down
// (database dropped, Redis keys deleted) by close().
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createSseParser } from '../client/sse.js';
import { type MockBehavior, type MockLlm, startMockLlm } from '../dev/mock-llm/index.js';
import { startNeonWsProxy } from '../dev/neon-ws-proxy/index.js';
import { type LocalServer, startServer } from '../dev/server.js';
import { type Config, loadConfig } from '../lib/config/index.js';
import { openDatabase } from '../lib/db/index.js';
import { createLogger } from '../lib/logger.js';
import { POLICY_NAMES, type PolicyName } from '../lib/ratelimit/policies.js';
import { createRuntime, type Runtime } from '../lib/runtime.js';

export const QUICK = process.env.BENCH_QUICK === '1';
export const PG_HOST = '127.0.0.1:5432';
export const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? `postgres://postgres@${PG_HOST}/postgres`;
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const pgUrl = (db: string) => PG_ADMIN_URL.replace(/\/[^/]*$/, `/${db}`);

// ---------------------------------------------------------------------------------------------
// Machine facts and statistics

export type MachineFacts = { nproc: number; node: string; load: [number, number, number]; at: string };

export function machineFacts(): MachineFacts {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return {
    nproc: os.availableParallelism(),
    node: process.version,
    load: [round(a, 2), round(b, 2), round(c, 2)],
    at: new Date().toISOString(),
  };
}

export const loadText = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Nearest-rank percentile (p in 0..100); NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] ?? Number.NaN;
}
export const median = (xs: readonly number[]) => percentile(xs, 50);

export const ms = (x: number) => (Number.isFinite(x) ? `${round(x, 1)} ms` : 'n/a');
export const ratio = (a: number, b: number) => (b > 0 ? `${round(a / b, 2)}×` : 'n/a');

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A markdown table; cells are already formatted. */
export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTTP client (node:http with keep-alive, so client cost is the same for every variant measured)

export const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

/** Drops idle keep-alive sockets, so the next requests open new connections. */
export function freshConnections(): void {
  agent.destroy();
}

export type Answer = { status: number; headers: http.IncomingHttpHeaders; text: string };

export function request(
  url: string,
  o: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const req = http.request(url, { method: o.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function json(a: Answer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(a.text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export type StreamEvent = { event: string; data: Record<string, unknown> };

export type ChatRun = {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Request start → first `delta` event (NaN when none came). */
  ttftMs: number;
  /** Request start → `meta` event. */
  metaMs: number;
  totalMs: number;
  events: StreamEvent[];
  /** The body when it was not an event stream (a JSON error envelope). */
  text: string;
  /** A socket error, if the connection failed. */
  failure?: string;
};

/** POSTs a chat question and reads the whole answer, timing the events as they arrive. */
export function chatStream(
  base: string,
  token: string,
  body: unknown,
  o: { route?: string; timeoutMs?: number; onEvent?: (event: string) => void } = {},
): Promise<ChatRun> {
  const started = performance.now();
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const run: ChatRun = {
      status: 0,
      headers: {},
      ttftMs: Number.NaN,
      metaMs: Number.NaN,
      totalMs: Number.NaN,
      events: [],
      text: '',
    };
    const finish = () => {
      if (!Number.isNaN(run.totalMs)) return;
      run.totalMs = performance.now() - started;
      resolve(run);
    };
    const req = http.request(
      `${base}/api/v1/${o.route ?? 'text-chat'}`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
        },
      },
      (res) => {
        run.status = res.statusCode ?? 0;
        run.headers = res.headers;
        const sse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
        const parser = createSseParser();
        const raw: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (!sse) {
            raw.push(chunk);
            return;
          }
          for (const e of parser.feed(chunk)) {
            const t = performance.now() - started;
            let data: Record<string, unknown> = {};
            try {
              data = JSON.parse(e.data) as Record<string, unknown>;
            } catch {
              data = { unparsed: e.data };
            }
            o.onEvent?.(e.event);
            if (e.event === 'meta') run.metaMs = t;
            if (e.event === 'delta' && Number.isNaN(run.ttftMs)) run.ttftMs = t;
            run.events.push({ event: e.event, data });
          }
        });
        res.on('error', (err) => {
          run.failure ??= err.message;
        });
        // 'close' also fires when the socket is destroyed mid-body, when 'end' never comes.
        res.on('close', () => {
          if (!res.complete) run.failure ??= 'connection closed mid-body';
          if (Number.isNaN(run.totalMs)) {
            run.text = Buffer.concat(raw).toString();
            finish();
          }
        });
      },
    );
    req.on('error', (err) => {
      run.failure ??= err.message;
      finish();
    });
    // A benchmark must end by itself even if the service hangs.
    req.setTimeout(o.timeoutMs ?? 60_000, () => {
      run.failure = 'timeout';
      req.destroy();
    });
    req.end(payload);
  });
}

export const lastEvent = (r: ChatRun) => r.events.at(-1)?.event;

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      if (task) out[i] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The stack

export async function adminQuery<R extends pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  db = 'postgres',
): Promise<R[]> {
  const c = new pg.Client({ connectionString: pgUrl(db) });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** A log destination that drops lines: pino still formats every line, as it would in production. */
export const discard = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

export type BenchDb = {
  name: string;
  url: string;
  /** The URL the service connects with (through a latency proxy when one is given). */
  serviceUrl: string;
  proxy: string;
  /** A plain pg client on the bench database for checks; excluded from connection counts. */
  inspect: pg.Client;
  /** Server connections to the bench database, the inspecting client excepted. */
  connections(): Promise<number>;
  drop(): Promise<void>;
};

/** A fresh database on the local PostgreSQL, migrated, with a Neon WebSocket proxy in front. */
export async function createBenchDb(o: { via?: string } = {}): Promise<BenchDb> {
  const name = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = pgUrl(name);
  // Migrated over node-postgres once; the service then uses the Neon driver like production.
  const h = await openDatabase({ url, driver: 'pg' });
  await h.migrate();
  await h.close();
  const proxy = await startNeonWsProxy({ allow: [o.via ?? PG_HOST] });
  const inspect = new pg.Client({ connectionString: url });
  await inspect.connect();
  return {
    name,
    url,
    serviceUrl: o.via ? url.replace(PG_HOST, o.via) : url,
    proxy: proxy.address,
    inspect,
    connections: async () => {
      const r = await inspect.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    drop: async () => {
      await inspect.end().catch(() => undefined);
      await proxy.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Rate limits high enough that only what a benchmark wants to measure is limited. */
export const HIGH_LIMITS = Object.fromEntries(
  POLICY_NAMES.map((name) => [name, { limit: 1_000_000 }]),
) as Record<PolicyName, { limit: number }>;

export function benchConfig(db: BenchDb, mock: MockLlm, extra: Record<string, string> = {}): Config {
  return loadConfig(benchEnv(db, mock, extra));
}

/** The settings of a benchmark's service, as environment variables. */
export function benchEnv(
  db: BenchDb,
  mock: MockLlm,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    DATA_DIR: `${os.tmpdir()}/health-api-bench`,
    DATABASE_URL: db.serviceUrl,
    DATABASE_DRIVER: 'neon',
    NEON_WS_PROXY: db.proxy,
    REDIS_URL,
    RATE_LIMIT_PREFIX: `bench:${crypto.randomUUID()}:`,
    RATE_LIMITS: JSON.stringify(HIGH_LIMITS),
    DAILY_TOKEN_QUOTA_USER: '1000000000',
    OPENAI_BASE_URL: mock.baseURL,
    OPENAI_API_KEY: 'bench',
    CHAT_MODEL: 'mock-chat',
    ...extra,
    // For experiments: settings to try on every service a benchmark starts, e.g. '{"REDIS_TIMEOUT_MS":"1000"}'.
    ...(process.env.BENCH_SERVICE_ENV
      ? (JSON.parse(process.env.BENCH_SERVICE_ENV) as Record<string, string>)
      : {}),
  };
}

export type Service = { rt: Runtime; server: LocalServer; config: Config; close(): Promise<void> };

/**
 * The real service on one loopback port. Its log lines are formatted and dropped, or appended to
 * the file BENCH_LOG names (to see why something failed).
 */
export async function startService(config: Config): Promise<Service> {
  const file = process.env.BENCH_LOG;
  const destination = file ? fs.createWriteStream(file, { flags: 'a' }) : discard();
  const rt = createRuntime(config, { log: createLogger(config.LOG_LEVEL, destination) });
  const server = await startServer(() => rt);
  return {
    rt,
    server,
    config,
    close: async () => {
      await server.close();
      await rt.close();
    },
  };
}

/** A service in a child process of its own: its CPU is not shared with the benchmark's clients. */
export type RemoteService = Omit<Service, 'rt'> & {
  /** The child's process id (absent for a service in this process). */
  pid?: number;
};

/** Resident memory of a process, from /proc: now (VmRSS) and its peak (VmHWM), in bytes. */
export function processMemory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU time a process has used so far (user + system), in ms, from /proc (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * The real service (`startService`) in a child Node process, on its own loopback port, with the
 * settings `env` gives (benchEnv). Closing it sends SIGTERM and waits for the process to end.
 */
export async function startServiceProcess(env: Record<string, string>): Promise<RemoteService> {
  // BENCH_SERVICE_NODE_ARGS: extra Node flags for the service only, e.g. '--cpu-prof'.
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bench/service-process.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, BENCH_SERVICE_SETTINGS: JSON.stringify(env) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      const m = /^READY (\S+)$/m.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`service process exited (${code}) before it was ready`)));
  });
  return {
    pid: child.pid,
    config: loadConfig(env),
    server: { url } as LocalServer,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export type Stack<S extends RemoteService = Service> = {
  db: BenchDb;
  mock: MockLlm;
  service: S;
  base: string;
  redis: Redis;
  /** Signs in `dev:<name>` and accepts the current consent. */
  user(name: string, base?: string): Promise<{ token: string; userId: string }>;
  close(): Promise<void>;
};

// Stacks still open, so Ctrl-C still drops their databases and Redis keys.
const openStacks = new Set<Stack<RemoteService>>();
let interruptHandled = false;
function closeOnInterrupt(): void {
  if (interruptHandled) return;
  interruptHandled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: cleaning up`);
      // Requests in flight now fail; that must not end the process before the clean-up has run.
      process.on('uncaughtException', () => {});
      process.on('unhandledRejection', () => {});
      void Promise.allSettled([...openStacks].map((st) => st.close())).then(() => process.exit(130));
    });
  }
}

type StackOptions = {
  mock?: MockBehavior;
  env?: Record<string, string>;
  /** host:port the service reaches PostgreSQL and Redis at (a latency proxy), instead of theirs. */
  via?: { pg: string; redis: string };
  /** Run the service in a child process (startServiceProcess) instead of this one. */
  child?: boolean;
};

export function startStack(o: StackOptions & { child: true }): Promise<Stack<RemoteService>>;
export function startStack(o?: StackOptions & { child?: false }): Promise<Stack>;
export function startStack(o: StackOptions): Promise<Stack<RemoteService>>;
export async function startStack(o: StackOptions = {}): Promise<Stack<RemoteService>> {
  const db = await createBenchDb({ via: o.via?.pg });
  const mock = await startMockLlm({ defaults: o.mock });
  const env = benchEnv(db, mock, { ...(o.via ? { REDIS_URL: `redis://${o.via.redis}` } : {}), ...o.env });
  const service = o.child ? await startServiceProcess(env) : await startService(loadConfig(env));
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const base = service.server.url;
  const user = async (name: string, at = base) => {
    const login = await request(`${at}/api/v1/users/login`, {
      method: 'POST',
      body: { code: `dev:${name}` },
    });
    const j = json(login);
    const token = typeof j.accessToken === 'string' ? j.accessToken : '';
    const u = j.user as { id?: unknown } | undefined;
    if (login.status !== 200 || !token || typeof u?.id !== 'string')
      throw new Error(`login ${name}: ${login.status} ${login.text.slice(0, 200)}`);
    const consent = await request(`${at}/api/v1/users/me/consents`, {
      method: 'POST',
      token,
      body: { version: service.config.CONSENT_VERSION, accepted: true },
    });
    if (consent.status !== 201) throw new Error(`consent ${name}: ${consent.status}`);
    return { token, userId: u.id };
  };
  const stack: Stack<RemoteService> = {
    db,
    mock,
    service,
    base,
    redis,
    user,
    close: async () => {
      if (!openStacks.delete(stack)) return;
      await service.close().catch(() => undefined);
      await mock.close().catch(() => undefined);
      await deleteKeys(redis, service.config.RATE_LIMIT_PREFIX).catch(() => undefined);
      redis.disconnect();
      await db.drop();
      agent.destroy();
    },
  };
  openStacks.add(stack);
  closeOnInterrupt();
  return stack;
}

/** Keys matching `pattern` (SCAN, never KEYS: the Redis is shared). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, `${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

/** Stream slots still held in Redis under `prefix` (each slot set's member count). */
export async function heldSlots(redis: Redis, prefix: string): Promise<{ keys: number; members: number }> {
  const keys = await scanKeys(redis, `${prefix}slots:*`);
  let members = 0;
  for (const k of keys) members += await redis.zcard(k);
  return { keys: keys.length, members };
}

/** Polls `check` until it answers true or `timeoutMs` passes; answers how long it took (or NaN). */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) return Number.NaN;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
