// Test databases. In-process tests: a PGlite restored from a migrated snapshot (made once by the
// global setup). Services tests: a fresh database on the real PostgreSQL, cloned from a migrated
// template, reached through the Neon serverless driver (production's) over a local WebSocket proxy.
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { startNeonWsProxy } from '../../dev/neon-ws-proxy/index.js';
import { type DbHandle, type Driver, openDatabase } from '../../lib/db/index.js';

export const PG_HOST = '127.0.0.1:5432';
export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? `postgres://postgres@${PG_HOST}/postgres`;
export const pgUrl = (db: string) => PG_ADMIN_URL.replace(/\/[^/]*$/, `/${db}`);

export async function pgliteDb(): Promise<DbHandle> {
  const file = inject('pgliteSnapshot');
  if (file && fs.existsSync(file)) {
    return openDatabase({ driver: 'pglite', pgliteSnapshot: new Blob([fs.readFileSync(file)]) });
  }
  const h = await openDatabase({ driver: 'pglite', pgliteDir: 'memory://' });
  await h.migrate();
  return h;
}

export async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return r.rowCount === 1;
  } finally {
    await c.end();
  }
}

export type PgTestDb = { url: string; name: string; handle: DbHandle; drop(): Promise<void> };

/** A fresh, migrated database on the real PostgreSQL, opened with the given driver. */
export async function postgresDb(driver: Exclude<Driver, 'pglite'> = 'neon'): Promise<PgTestDb> {
  const name = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const template = inject('pgTemplate');
  await adminQuery(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  const url = pgUrl(name);
  const proxy = driver === 'neon' ? await startNeonWsProxy({ allow: [PG_HOST] }) : undefined;
  const handle = await openDatabase({ url, driver, neonWsProxy: proxy?.address });
  if (!template) await handle.migrate();
  return {
    url,
    name,
    handle,
    drop: async () => {
      await handle.close();
      await proxy?.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
