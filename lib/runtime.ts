// What a request needs from the outside world, created once per process (module scope keeps it
// warm across invocations on Vercel) and lazily: a cold start pays only for the parts a function
// touches. Tests build their own Runtime with createRuntime(config, overrides).
import { type Config, getConfig } from './config/index.js';
import { type Db, type DbHandle, openDatabase } from './db/index.js';
import { createLogger, type Logger } from './logger.js';

export type Runtime = {
  config: Config;
  log: Logger;
  db(): Promise<Db>;
  now(): Date;
  /** Ends open connections (tests, graceful shutdown). */
  close(): Promise<void>;
};

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
    });
    // The embedded database migrates itself; real ones are migrated by `npm run db:migrate`.
    if (h.driver === 'pglite') await h.migrate();
    return h;
  });
  let dbOpened = false;
  return {
    config,
    log,
    now: o.now ?? (() => new Date()),
    db: async () => {
      const h = await handle();
      dbOpened = true;
      return h.db;
    },
    close: async () => {
      if (dbOpened) await (await handle()).close();
    },
  };
}

let processRuntime: Runtime | undefined;

/** The process-wide runtime of a deployed function. */
export function getRuntime(): Runtime {
  processRuntime ??= createRuntime(getConfig());
  return processRuntime;
}
