import type { Ratelimit } from '@upstash/ratelimit';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { withTimeout } from '../timeout.js';
import { isNoScriptError, ScriptCompat } from './lua-compat.js';
import { MemoryDb } from './memory.js';
import { type PolicyOverrides, type PolicyTable, resolvePolicies } from './policies.js';
import type { StoreScript } from './scripts.js';

/** What @upstash/ratelimit needs from a client (it also calls `eval` on NOSCRIPT, not in its Pick type). */
export type RatelimitRedis = ConstructorParameters<typeof Ratelimit>[0]['redis'] & {
  eval: UpstashRedis['eval'];
};

export type LimitBackend = 'upstash' | 'redis' | 'memory';

export interface LimitStoreOptions {
  /** Upstash REST credentials (UPSTASH_REDIS_REST_URL / _TOKEN, or Vercel's KV_REST_API_*). Wins over redisUrl. */
  upstash?: { url: string; token: string };
  /** Self-hosted Redis (`redis://…`), used through ioredis. */
  redisUrl?: string;
  /** Hard bound for every limiter/script call; past it the backend counts as unavailable. Default 300. */
  timeoutMs?: number;
  /**
   * Budget for the first contact of this instance (connect/TLS, and Node's first `fetch`, which alone
   * measured 150–370 ms on this box). Only the call(s) waiting on it get this budget. Default 600.
   */
  warmupTimeoutMs?: number;
  /** Prefix for every key this module writes. Default `rl:`. */
  prefix?: string;
  /** Per-policy overrides merged over `POLICIES`. */
  policies?: PolicyOverrides;
  /**
   * Let @upstash/ratelimit remember blocked identifiers in process memory until their reset, saving Redis
   * calls while an instance is warm (keep the store in module scope). Default true; turn off in tests.
   */
  ephemeralCache?: boolean;
}

export interface LimitStore {
  readonly backend: LimitBackend;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly warmupTimeoutMs: number;
  readonly policies: PolicyTable;
  readonly ephemeralCache: boolean;
  /**
   * Opens the connection once (bounded by warmupTimeoutMs, never rejects; resolves whether it worked).
   * Called lazily by the first operation; call it at startup to take the cold cost off the first request.
   */
  warmup(): Promise<boolean>;
  /** @internal True once the first warm-up settled (successfully or not). */
  readonly warmed: boolean;
  /** @internal Client driven by @upstash/ratelimit; null on the memory backend. */
  readonly ratelimitRedis: RatelimitRedis | null;
  /** @internal Keyspace of the memory backend; null otherwise. */
  readonly memory: MemoryDb | null;
  /** @internal Runs one of our scripts atomically; rejects on error or after `timeoutMs`. */
  run(script: StoreScript, keys: readonly string[], args: readonly (string | number)[]): Promise<number[]>;
  /** Closes the ioredis connection (no-op for Upstash REST and memory). Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 300;
export const DEFAULT_WARMUP_TIMEOUT_MS = 600;

export { withTimeout };

function toIntArray(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`${what}: unexpected script result ${JSON.stringify(value)}`);
  }
  return value;
}

// Mirrors @upstash/redis's argument serializer so both backends see identical script args.
function serializeArg(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

/**
 * Chooses the backend: Upstash REST when credentials are given, else ioredis on `redisUrl`, else an
 * in-process memory store (local dev only — limits are per process).
 */
export function createLimitStore(opts: LimitStoreOptions = {}): LimitStore {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new Error('timeoutMs must be positive');
  const warmupTimeoutMs = opts.warmupTimeoutMs ?? Math.max(DEFAULT_WARMUP_TIMEOUT_MS, timeoutMs);
  const common = {
    prefix: opts.prefix ?? 'rl:',
    timeoutMs,
    warmupTimeoutMs,
    policies: resolvePolicies(opts.policies),
    ephemeralCache: opts.ephemeralCache ?? true,
  };
  if (opts.upstash) return createUpstashStore(opts.upstash, common);
  if (opts.redisUrl) return createIoredisStore(opts.redisUrl, common);
  return createMemoryStore(common);
}

type CommonFields = Pick<
  LimitStore,
  'prefix' | 'timeoutMs' | 'warmupTimeoutMs' | 'policies' | 'ephemeralCache'
>;

/** One shared first-contact attempt; `settled` lets later calls skip waiting even if it failed. */
function warmupOnce(connect: () => Promise<unknown>, budgetMs: number) {
  let promise: Promise<boolean> | undefined;
  let settled = false;
  return {
    warmup: (): Promise<boolean> => {
      promise ??= withTimeout(connect(), budgetMs, 'warm-up')
        .then(
          () => true,
          () => false,
        )
        .finally(() => {
          settled = true;
        });
      return promise;
    },
    isSettled: () => settled,
  };
}

async function gated<T>(warm: ReturnType<typeof warmupOnce>, op: () => Promise<T>): Promise<T> {
  if (!warm.isSettled() && !(await warm.warmup())) throw new Error('limit store unreachable at warm-up');
  return op();
}

/**
 * Gate for every operation: the first call(s) of an instance wait for the warm-up with the larger
 * budget; a failed warm-up they waited on means unavailable. Afterwards each call has its own timeout.
 */
export async function ensureWarm(store: LimitStore): Promise<boolean> {
  if (store.warmed) return true;
  return store.warmup();
}

function createUpstashStore(creds: { url: string; token: string }, common: CommonFields): LimitStore {
  const redis = new UpstashRedis({
    url: creds.url,
    token: creds.token,
    // The library default retries ~5 times with backoff (seconds); a limiter must fail fast instead.
    retry: false,
    // A fresh signal per request so a hanging endpoint aborts the fetch instead of leaking it.
    signal: () => AbortSignal.timeout(common.timeoutMs),
    enableTelemetry: false,
  });
  const warm = warmupOnce(async () => {
    // A raw PING through the same global fetch pool: pays Node's first-fetch init and the TLS handshake.
    const res = await fetch(`${creds.url.replace(/\/$/, '')}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json' },
      body: '["PING"]',
      signal: AbortSignal.timeout(common.warmupTimeoutMs),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`Upstash warm-up answered ${res.status}`);
  }, common.warmupTimeoutMs);
  const run = async (script: StoreScript, keys: readonly string[], args: readonly (string | number)[]) => {
    const k = [...keys];
    const argv = args.map(serializeArg);
    try {
      return toIntArray(await redis.evalsha(script.sha, k, argv), script.name);
    } catch (error) {
      if (!isNoScriptError(error)) throw error;
      return toIntArray(await redis.eval(script.lua, k, argv), script.name);
    }
  };
  return {
    ...common,
    backend: 'upstash',
    warmup: warm.warmup,
    get warmed() {
      return warm.isSettled();
    },
    ratelimitRedis: redis,
    memory: null,
    run: (script, keys, args) =>
      gated(warm, () => withTimeout(run(script, keys, args), common.timeoutMs, script.name)),
    close: async () => {},
  };
}

/**
 * Presents an ioredis connection as the slice of @upstash/redis that @upstash/ratelimit calls
 * (evalsha → NOSCRIPT → eval), rewriting its Upstash-only script shebang for plain Redis.
 */
export class IoredisRatelimitAdapter {
  private readonly compat = new ScriptCompat();

  constructor(private readonly client: IORedis) {}

  async evalsha<TArgs extends unknown[], TData = unknown>(
    sha: string,
    keys: string[],
    args: TArgs,
  ): Promise<TData> {
    const argv = args.map(serializeArg);
    const known = this.compat.lookup(sha);
    if (!known) return (await this.client.evalsha(sha, keys.length, ...keys, ...argv)) as TData;
    try {
      return (await this.client.evalsha(known.sha, keys.length, ...keys, ...argv)) as TData;
    } catch (error) {
      // Script cache flushed (restart, SCRIPT FLUSH): we still hold the rewritten text.
      if (!isNoScriptError(error)) throw error;
      return (await this.client.eval(known.script, keys.length, ...keys, ...argv)) as TData;
    }
  }

  async eval<TArgs extends unknown[], TData = unknown>(
    script: string,
    keys: string[],
    args: TArgs,
  ): Promise<TData> {
    const prepared = this.compat.prepare(script);
    const argv = args.map(serializeArg);
    return (await this.client.eval(prepared.script, keys.length, ...keys, ...argv)) as TData;
  }

  // Only used by the library's dynamic-limits feature (off); kept for interface completeness.
  async get<TData>(key: string): Promise<TData | null> {
    const raw = await this.client.get(key);
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as TData;
    } catch {
      return raw as TData;
    }
  }

  async set<TData>(key: string, value: TData): Promise<'OK' | TData | null> {
    await this.client.set(key, serializeArg(value));
    return 'OK';
  }
}

function createIoredisStore(redisUrl: string, common: CommonFields): LimitStore {
  const client = new IORedis(redisUrl, {
    // Connect on first use so building the store at module scope is free.
    lazyConnect: true,
    // Bounds every command, including ones queued while (re)connecting, so a dead Redis fails fast.
    commandTimeout: common.timeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: common.warmupTimeoutMs,
  });
  // Failures surface through the commands themselves; without a listener ioredis logs every reconnect error.
  client.on('error', () => {});
  const adapter = new IoredisRatelimitAdapter(client);
  const warm = warmupOnce(
    // connect() resolves once the ready check passed; PING covers a connection some command already opened.
    () => (client.status === 'wait' ? client.connect() : client.ping()),
    common.warmupTimeoutMs,
  );
  const run = async (script: StoreScript, keys: readonly string[], args: readonly (string | number)[]) => {
    const argv = args.map(serializeArg);
    try {
      return toIntArray(await client.evalsha(script.sha, keys.length, ...keys, ...argv), script.name);
    } catch (error) {
      if (!isNoScriptError(error)) throw error;
      return toIntArray(await client.eval(script.lua, keys.length, ...keys, ...argv), script.name);
    }
  };
  let closed = false;
  return {
    ...common,
    backend: 'redis',
    warmup: warm.warmup,
    get warmed() {
      return warm.isSettled();
    },
    ratelimitRedis: adapter,
    memory: null,
    run: (script, keys, args) =>
      gated(warm, () => withTimeout(run(script, keys, args), common.timeoutMs, script.name)),
    close: async () => {
      if (closed) return;
      closed = true;
      // QUIT would wait on a hung server; only be polite when the connection is healthy.
      if (client.status === 'ready') {
        await withTimeout(client.quit(), common.timeoutMs, 'quit').catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}

function createMemoryStore(common: CommonFields): LimitStore {
  const db = new MemoryDb();
  return {
    ...common,
    backend: 'memory',
    warmup: async () => true,
    warmed: true,
    ratelimitRedis: null,
    memory: db,
    run: async (script, keys, args) => script.memory(db, keys, args.map(serializeArg)),
    close: async () => {},
  };
}
