// Runs once per test run: a migrated PGlite snapshot for the in-process tests and a migrated
// template database on the real PostgreSQL for the services tests, both keyed by the migrations'
// content so a run after a schema change never reuses a stale one.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { MIGRATIONS_DIR, openDatabase } from '../lib/db/index.js';
import { adminQuery, databaseExists, pgUrl } from './helpers/db.js';

function migrationsHash(): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(MIGRATIONS_DIR, { recursive: true }).map(String).sort()) {
    const p = path.join(MIGRATIONS_DIR, f);
    if (fs.statSync(p).isFile()) h.update(f).update(fs.readFileSync(p));
  }
  return h.digest('hex').slice(0, 12);
}

export default async function setup(project: TestProject) {
  const hash = migrationsHash();
  {
    const file = path.join(os.tmpdir(), `health-api-pglite-${hash}.tar.gz`);
    if (!fs.existsSync(file)) {
      const h = await openDatabase({ driver: 'pglite', pgliteDir: 'memory://' });
      await h.migrate();
      const client = (h.db as unknown as { $client: { dumpDataDir(c: 'gzip'): Promise<Blob> } }).$client;
      const blob = await client.dumpDataDir('gzip');
      fs.writeFileSync(`${file}.tmp`, Buffer.from(await blob.arrayBuffer()));
      fs.renameSync(`${file}.tmp`, file);
      await h.close();
    }
    project.provide('pgliteSnapshot', file);
  }
  if (project.name === 'services') {
    const template = `tpl_${hash}`;
    const building = `${template}_${process.pid}`;
    if (!(await databaseExists(template))) {
      // Built under another name and renamed when complete: a crash never leaves a half template.
      await adminQuery(`CREATE DATABASE ${building}`);
      const h = await openDatabase({ url: pgUrl(building), driver: 'pg' });
      await h.migrate();
      await h.close();
      try {
        await adminQuery(`ALTER DATABASE ${building} RENAME TO ${template}`);
      } catch {
        await adminQuery(`DROP DATABASE IF EXISTS ${building}`);
      }
    }
    project.provide('pgTemplate', template);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteSnapshot: string;
    pgTemplate: string;
  }
}
