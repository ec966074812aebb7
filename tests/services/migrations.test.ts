// The committed migrations apply cleanly to an empty PGlite and to the real PostgreSQL through
// both production drivers, and the audit log refuses changes at the database level.
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeonWsProxy } from '../../dev/neon-ws-proxy/index.js';
import { auditLog, type Db, type DbHandle, openDatabase } from '../../lib/db/index.js';
import { adminQuery, PG_HOST, pgUrl } from '../helpers/db.js';

const TABLES = [
  'audit_log',
  'complaints',
  'consents',
  'conversations',
  'deletion_jobs',
  'family_members',
  'files',
  'idempotency_keys',
  'lab_reports',
  'lab_results',
  'message_feedback',
  'messages',
  'refresh_tokens',
  'system_logs',
  'usage_daily',
  'users',
];

async function tablesOf(db: Db): Promise<string[]> {
  const r = await db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  // Drivers differ in their result type; each returns the rows under `rows`.
  return (r as unknown as { rows: { table_name: string }[] }).rows.map((x) => x.table_name);
}

async function auditIsAppendOnly(db: Db) {
  const [row] = await db.insert(auditLog).values({ action: 'user.login', actorId: 'a' }).returning();
  expect(row?.id).toBeTypeOf('number');
  await expect(db.execute(sql`update audit_log set action = 'x'`)).rejects.toThrow();
  await expect(db.execute(sql`delete from audit_log`)).rejects.toThrow();
  const after = await db.select().from(auditLog);
  expect(after.map((a) => a.action)).toEqual(['user.login']);
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freshPostgres(driver: 'neon' | 'pg'): Promise<DbHandle> {
  const name = `m_${driver}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const proxy = driver === 'neon' ? await startNeonWsProxy({ allow: [PG_HOST] }) : undefined;
  const h = await openDatabase({ url: pgUrl(name), driver, neonWsProxy: proxy?.address });
  cleanups.push(async () => {
    await h.close();
    await proxy?.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return h;
}

describe('migrations', () => {
  it('apply to an empty PGlite', async () => {
    const h = await openDatabase({ driver: 'pglite', pgliteDir: 'memory://' });
    cleanups.push(() => h.close());
    expect(await tablesOf(h.db)).toEqual([]);
    await h.migrate();
    expect(await tablesOf(h.db)).toEqual(TABLES);
    await h.migrate(); // a second run is a no-op
    await auditIsAppendOnly(h.db);
  });

  it.each(['neon', 'pg'] as const)('apply to the real PostgreSQL through the %s driver', async (driver) => {
    const h = await freshPostgres(driver);
    expect(await tablesOf(h.db)).toEqual([]);
    await h.migrate();
    expect(await tablesOf(h.db)).toEqual(TABLES);
    await h.migrate();
    await auditIsAppendOnly(h.db);
  });

  it('the Neon driver runs transactions and rolls them back on error', async () => {
    const h = await freshPostgres('neon');
    await h.migrate();
    await expect(
      h.db.transaction(async (tx) => {
        await tx.insert(auditLog).values({ action: 'user.login' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await h.db.select().from(auditLog)).toEqual([]);
  });
});
