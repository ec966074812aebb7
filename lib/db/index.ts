// The database client, chosen by configuration: a Neon URL (or DATABASE_DRIVER=neon) uses
// @neondatabase/serverless over WebSockets, any other postgres:// URL node-postgres, and no URL
// an embedded PGlite database under DATA_DIR, migrated automatically. Each driver is imported only
// when chosen, so a cold start loads one of them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DbPool } from '@vercel/functions/db-connections';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { schema } from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Driver = 'neon' | 'pg' | 'pglite';

export type DbHandle = {
  db: Db;
  driver: Driver;
  /** Applies the committed migrations in drizzle/. */
  migrate(): Promise<void>;
  close(): Promise<void>;
};

export type DbOptions = {
  url?: string;
  driver?: Driver;
  /** PGlite's folder; 'memory://' keeps it in memory. */
  pgliteDir?: string;
  /** A PGlite dumpDataDir() snapshot to start from (fast per-test databases). */
  pgliteSnapshot?: Blob;
  poolMax?: number;
  /** host:port of a WebSocket→TCP proxy, to run the Neon driver against a plain PostgreSQL. */
  neonWsProxy?: string;
  /** A database that does not answer by then is an outage (503), not a hung request. */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /**
   * Running on Vercel: the pool is registered with `attachDatabasePool`, which keeps a suspended
   * instance alive until its idle connections are closed, and idles out after IDLE_MS_ON_VERCEL.
   */
  onVercel?: boolean;
};

/**
 * A Vercel instance may be suspended right after a response; connections it still holds idle
 * count against Neon's limit until they time out, so they are closed soon after use.
 */
export const IDLE_MS_ON_VERCEL = 5_000;
const IDLE_MS = 10_000;

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export function chooseDriver(opts: Pick<DbOptions, 'url' | 'driver'>): Driver {
  if (opts.driver) return opts.driver;
  if (!opts.url) return 'pglite';
  const host = new URL(opts.url).hostname;
  return host.endsWith('.neon.tech') || host.endsWith('.neon.build') ? 'neon' : 'pg';
}

export async function openDatabase(opts: DbOptions): Promise<DbHandle> {
  const driver = chooseDriver(opts);
  const migrationsFolder = MIGRATIONS_DIR;
  if (driver === 'pglite') {
    // Not deployed to Vercel (vercel.json excludeFiles): a deployment needs DATABASE_URL.
    const { PGlite } = await import('@electric-sql/pglite').catch((err: unknown) => {
      throw new Error('the embedded database (PGlite) is not installed here: set DATABASE_URL', {
        cause: err,
      });
    });
    const { drizzle } = await import('drizzle-orm/pglite');
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    const client = opts.pgliteSnapshot
      ? new PGlite({ loadDataDir: opts.pgliteSnapshot })
      : new PGlite(opts.pgliteDir ?? 'memory://');
    const db = drizzle({ client, schema });
    return {
      db: db as unknown as Db,
      driver,
      migrate: () => migrate(db, { migrationsFolder }),
      close: () => client.close(),
    };
  }
  if (!opts.url) throw new Error(`DATABASE_URL is required for the ${driver} driver`);
  if (driver === 'neon') {
    const { Pool, neonConfig } = await import('@neondatabase/serverless');
    const { drizzle } = await import('drizzle-orm/neon-serverless');
    const { migrate } = await import('drizzle-orm/neon-serverless/migrator');
    if (typeof globalThis.WebSocket === 'undefined') {
      // Node 20 has no global WebSocket (Vercel's Node 22 does).
      neonConfig.webSocketConstructor = (await import('ws')).default;
    }
    if (opts.neonWsProxy) {
      const proxy = opts.neonWsProxy;
      neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
      neonConfig.useSecureWebSocket = false;
      // The pipelined start-up fails SCRAM authentication against a plain PostgreSQL.
      neonConfig.pipelineConnect = false;
      neonConfig.pipelineTLS = false;
      neonConfig.coalesceWrites = false;
    }
    const pool = new Pool(poolOptions(opts.url, opts));
    // An idle client losing its server must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    if (opts.onVercel) await attachToVercel(pool);
    const db = drizzle({ client: pool, schema });
    return {
      db: db as unknown as Db,
      driver,
      migrate: () => migrate(db, { migrationsFolder }),
      close: () => pool.end(),
    };
  }
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new pg.Pool(poolOptions(opts.url, opts));
  pool.on('error', () => {});
  if (opts.onVercel) await attachToVercel(pool);
  const db = drizzle({ client: pool, schema });
  return {
    db: db as unknown as Db,
    driver,
    migrate: () => migrate(db, { migrationsFolder }),
    close: () => pool.end(),
  };
}

/** The pool settings both pooled drivers take (the Neon Pool is node-postgres compatible). */
function poolOptions(connectionString: string, opts: DbOptions) {
  return {
    connectionString,
    max: opts.poolMax ?? 5,
    idleTimeoutMillis: opts.onVercel ? IDLE_MS_ON_VERCEL : IDLE_MS,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    statement_timeout: opts.statementTimeoutMs ?? 15_000,
  };
}

/**
 * After each query, Vercel's helper holds the invocation open (waitUntil) until the pool's idle
 * timeout has passed, so idle connections are closed before the instance is frozen. Imported only
 * on Vercel: elsewhere the module is never loaded.
 */
async function attachToVercel(pool: DbPool): Promise<void> {
  const { attachDatabasePool } = await import('@vercel/functions/db-connections');
  attachDatabasePool(pool);
}

/** A cheap round trip for /health. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}

export * from './schema.js';
