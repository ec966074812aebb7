// What a request needs from the outside world, created once per process (module scope keeps it
// warm across invocations on Vercel) and lazily: a cold start pays only for the parts a function
// touches. Tests build their own Runtime with createRuntime(config, overrides).

import type { AnswerBus } from './chat/bus.js';
import { LiveAnswers } from './chat/live.js';
import { type Config, getConfig } from './config/index.js';
import { type Db, type DbHandle, openDatabase } from './db/index.js';
import type { Llm } from './llm/types.js';
import { createLogger, errorFields, type Logger } from './logger.js';
import type { LimitStore, PolicyOverrides } from './ratelimit/index.js';
import type { Storage } from './storage/types.js';

export type Runtime = {
  config: Config;
  log: Logger;
  db(): Promise<Db>;
  /** Object storage (COS/S3), its SDK loaded on first use. */
  storage(): Promise<Storage>;
  /** The model client; the openai SDK is loaded on first use. */
  llm(): Promise<Llm>;
  /** Rate limits, stream slots and token quotas: Upstash REST, REDIS_URL, or memory locally. */
  limits(): Promise<LimitStore>;
  /** Where answers being written meet readers and stop requests on other instances (Redis), if any. */
  bus(): Promise<AnswerBus | null>;
  /** The answers this runtime is writing (its own followers read them in process). */
  answers: LiveAnswers;
  now(): Date;
  /**
   * Work that must finish before the process lets go of its connections (a chat answer being
   * stored); close() waits for it.
   */
  track<T>(work: Promise<T>): Promise<T>;
  /**
   * Work that outlives the response (an answer still being written, bookkeeping after the reply):
   * tracked like `track`, and handed to Vercel's `waitUntil` so a deployed function is not frozen
   * before it ends. Errors are the work's own to handle; a rejection here is only logged.
   */
  background(work: Promise<unknown>): void;
  /** Resolves when the tracked work now in flight has ended (tests, benchmarks). */
  settled(): Promise<void>;
  /** Waits for tracked work (bounded), then ends open connections (tests, graceful shutdown). */
  close(): Promise<void>;
};

/** How long close() waits for tracked work before closing connections anyway. */
const DRAIN_MS = 10_000;

export type RuntimeOverrides = {
  log?: Logger;
  dbHandle?: DbHandle | (() => Promise<DbHandle>);
  now?: () => Date;
};

/** Memoises an async factory; a failed attempt is forgotten so the next call retries. */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make().catch((err: unknown) => {
      p = undefined;
      throw err;
    });
    return p;
  };
}

export function createRuntime(config: Config, o: RuntimeOverrides = {}): Runtime {
  const log = o.log ?? createLogger(config.LOG_LEVEL);
  const given = o.dbHandle;
  const handle = lazy<DbHandle>(async () => {
    if (typeof given === 'function') return given();
    if (given) return given;
    const h = await openDatabase({
      url: config.DATABASE_URL,
      driver: config.DATABASE_DRIVER,
      pgliteDir: `${config.DATA_DIR}/pglite`,
      poolMax: config.DATABASE_POOL_MAX,
      neonWsProxy: config.NEON_WS_PROXY,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      // Vercel sets VERCEL_ENV on every deployment (and under `vercel dev`).
      onVercel: config.VERCEL_ENV !== undefined,
    });
    // The embedded database migrates itself; real ones are migrated by `npm run db:migrate`.
    if (h.driver === 'pglite') await h.migrate();
    return h;
  });
  let dbOpened = false;
  const inflight = new Set<Promise<unknown>>();
  const storage = lazy(async () => (await import('./storage/index.js')).createStorage(config));
  const llm = lazy(async () => (await import('./llm/client.js')).createLlm(config, log));
  let limitsOpened: LimitStore | undefined;
  const limits = lazy(async () => {
    const { createLimitStore } = await import('./ratelimit/index.js');
    limitsOpened = createLimitStore({
      upstash:
        config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN
          ? { url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN }
          : undefined,
      redisUrl: config.REDIS_URL,
      timeoutMs: config.REDIS_TIMEOUT_MS,
      prefix: config.RATE_LIMIT_PREFIX,
      // The config's regex guarantees each window has the `<n> <unit>` shape the library takes.
      policies: config.RATE_LIMITS as PolicyOverrides | undefined,
      ephemeralCache: config.NODE_ENV !== 'test',
    });
    return limitsOpened;
  });
  function track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
    return work;
  }
  let busOpened: AnswerBus | null = null;
  const bus = lazy(async () => {
    busOpened = await (await import('./chat/bus.js')).createAnswerBus(config);
    return busOpened;
  });
  const answers = new LiveAnswers();
  return {
    config,
    log,
    bus,
    answers,
    now: o.now ?? (() => new Date()),
    db: async () => {
      const h = await handle();
      dbOpened = true;
      return h.db;
    },
    storage,
    llm,
    limits,
    track,
    background: (work) => {
      const settled = work.catch((err: unknown) =>
        log.error({ ...errorFields(err) }, 'background work failed'),
      );
      track(settled);
      keepAlive(settled);
    },
    settled: async () => {
      await Promise.all(inflight);
    },
    close: async () => {
      if (inflight.size) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(inflight),
          new Promise((r) => {
            timer = setTimeout(r, DRAIN_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      // Answers still being written past the grace period are stopped and store what they have.
      if (answers.size) {
        answers.stopAll('shutdown');
        await Promise.race([Promise.all(inflight), new Promise((r) => setTimeout(r, 5_000))]);
      }
      if (dbOpened) await (await handle()).close();
      await limitsOpened?.close();
      await busOpened?.close();
    },
  };
}

/**
 * On Vercel, `waitUntil` keeps the function alive for work after the response (within
 * maxDuration); elsewhere (npm start, dev, tests) the process simply stays up, and `track` makes
 * shutdown wait for it. This is the lookup @vercel/functions' `waitUntil` makes (the request context
 * Vercel installs under this symbol), done here because importing that package's root loads all
 * of it (cache, OIDC, …): several times hono's own import, paid by every function's first request
 * now that each one writes its request-log row this way.
 */
type VercelContext = { get?: () => { waitUntil?: (work: Promise<unknown>) => void } | undefined };
const REQUEST_CONTEXT = Symbol.for('@vercel/request-context');

function keepAlive(work: Promise<unknown>): void {
  const context = (globalThis as Record<symbol, VercelContext | undefined>)[REQUEST_CONTEXT];
  context?.get?.()?.waitUntil?.(work);
}

let processRuntime: Runtime | undefined;

/** The process-wide runtime of a deployed function. */
export function getRuntime(): Runtime {
  processRuntime ??= createRuntime(getConfig());
  return processRuntime;
}
