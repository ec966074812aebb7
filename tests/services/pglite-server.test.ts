// The embedded database served over the PostgreSQL protocol (dev/stand-ins.ts, for
// `npm run dev:vercel`): migrated once by its owner, then reached by several independent pools
// (each function process has its own) through node-postgres, as any PostgreSQL. Transactions from
// different connections do not see each other's uncommitted work, and a rollback undoes only its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseServer, serveEmbeddedDatabase } from '../../dev/stand-ins.js';
import { type Db, type DbHandle, openDatabase } from '../../lib/db/index.js';

type Row = Record<string, unknown>;
// Drivers differ in their result type; each returns the rows under `rows`.
const rowsOf = async (db: Db, q: ReturnType<typeof sql>): Promise<Row[]> =>
  ((await db.execute(q)) as unknown as { rows: Row[] }).rows;

describe('the embedded database served over TCP', () => {
  let dir = '';
  let server: DatabaseServer;
  const pools: DbHandle[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pglite-server-'));
    server = await serveEmbeddedDatabase(path.join(dir, 'pglite'));
    for (let i = 0; i < 3; i++) pools.push(await openDatabase({ url: server.url }));
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is reached with the node-postgres driver and already migrated', async () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const [a, b] = pools;
    if (!a || !b) throw new Error('pools not opened');
    expect(a.driver).toBe('pg');
    const tables = await rowsOf(
      a.db,
      sql`select count(*)::int as n from information_schema.tables where table_name = 'users'`,
    );
    expect(tables[0]).toEqual({ n: 1 });
    const migrations = await rowsOf(b.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect(migrations[0]?.n).toBe(
      fs.readdirSync(path.resolve('drizzle')).filter((f) => f.endsWith('.sql')).length,
    );
  });

  it('keeps transactions of different connections apart', async () => {
    const [a, b, c] = pools;
    if (!a || !b || !c) throw new Error('pools not opened');
    await a.db.execute(sql`create table if not exists t_socket (k text primary key, v int)`);
    const results = await Promise.all([
      a.db.transaction(async (tx) => {
        await tx.execute(sql`insert into t_socket values ('a', 1)`);
        await new Promise((r) => setTimeout(r, 50));
        await tx.execute(sql`update t_socket set v = v + 1 where k = 'a'`);
        return 'a committed';
      }),
      b.db
        .transaction(async (tx) => {
          await tx.execute(sql`insert into t_socket values ('b', 1)`);
          tx.rollback();
        })
        .catch(() => 'b rolled back'),
      Promise.all(Array.from({ length: 20 }, (_, i) => rowsOf(c.db, sql`select ${i}::int as i`))).then((rs) =>
        rs.map((r) => r[0]?.i),
      ),
    ]);
    expect(results[0]).toBe('a committed');
    expect(results[1]).toBe('b rolled back');
    expect(results[2]).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await rowsOf(c.db, sql`select k, v from t_socket order by k`)).toEqual([{ k: 'a', v: 2 }]);
  });
});
