// The privacy guarantees on the real PostgreSQL through production's Neon driver: the audit log
// refuses changes from the app's own connection, the export streams over real HTTP, and a
// deletion that fails part-way is finished by the retention job.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserExport } from '../../client/index.js';
import { auditLog, deletionJobs, messages, systemLogs, users } from '../../lib/db/schema.js';
import { runRetention } from '../../lib/retention/index.js';
import type { Storage } from '../../lib/storage/types.js';
import { userPrefix } from '../../lib/storage/types.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';
import { seedUserData } from '../helpers/user-data.js';

describe('privacy on PostgreSQL', () => {
  let s3: TestStorage;
  let h: Harness;
  beforeAll(async () => {
    s3 = await startTestStorage();
    h = await createHarness({ db: 'postgres', env: s3.env });
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
  });

  it('the app’s connection cannot UPDATE, DELETE or TRUNCATE audit rows', async () => {
    await h.login('pg-audited');
    const [row] = await h.db.db.select().from(auditLog).limit(1);
    expect(row?.action).toBe('user.login');
    const id = row?.id ?? 0;
    await expect(
      h.db.db.update(auditLog).set({ actorId: 'someone-else' }).where(eq(auditLog.id, id)),
    ).rejects.toThrow();
    await expect(h.db.db.delete(auditLog).where(eq(auditLog.id, id))).rejects.toThrow();
    await expect(h.db.db.execute(sql`delete from audit_log`)).rejects.toThrow();
    await expect(h.db.db.execute(sql`truncate audit_log`)).rejects.toThrow();
    // Inside a transaction too: the trigger is not something a caller can step around.
    await expect(
      h.db.db.transaction(async (tx) => {
        await tx.update(auditLog).set({ action: 'forged' });
      }),
    ).rejects.toThrow();
    const [after] = await h.db.db.select().from(auditLog).where(eq(auditLog.id, id));
    expect(after).toEqual(row);
  });

  it('streams the export over HTTP and deletes the account, finishing a failed deletion later', async () => {
    const server = await h.listen();
    const u = await h.user('pg-leaver');
    const seeded = await seedUserData(h, u.userId, { phrase: 'pg', conversations: 2, perConversation: 150 });
    const res = await fetch(`${server.url}/api/v1/users/me/export`, {
      headers: { authorization: `Bearer ${u.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
    // The contract leaves the export's rows open; its files carry their ids.
    const doc = (await res.json()) as Omit<UserExport, 'files'> & { files: { id: string }[] };
    expect(doc.messages).toHaveLength(300);
    expect(doc.files.map((f) => f.id).sort()).toEqual([...seeded.fileIds].sort());

    const real = await h.rt.storage();
    let failed = false;
    const flaky: Storage = {
      ...real,
      deletePrefix: async (prefix) => {
        if (!failed) {
          failed = true;
          throw new Error('storage outage');
        }
        return real.deletePrefix(prefix);
      },
    };
    const original = h.rt.storage;
    h.rt.storage = async () => flaky;
    try {
      const del = await fetch(`${server.url}/api/v1/users/me`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${u.token}` },
      });
      expect(del.status).toBe(204);
      const me = await fetch(`${server.url}/api/v1/users/me`, {
        headers: { authorization: `Bearer ${u.token}` },
      });
      expect(me.status).toBe(401);
      expect(await h.db.db.select().from(deletionJobs).where(eq(deletionJobs.userId, u.userId))).toHaveLength(
        1,
      );
      const results = await runRetention(h.rt);
      expect(results.find((r) => r.name === 'deletion-jobs')).toEqual({
        name: 'deletion-jobs',
        ok: true,
        removed: 1,
      });
    } finally {
      h.rt.storage = original;
    }
    expect(await h.db.db.select().from(users).where(eq(users.id, u.userId))).toEqual([]);
    expect(await h.db.db.select().from(messages).where(eq(messages.userId, u.userId))).toEqual([]);
    expect(await h.db.db.select().from(systemLogs).where(eq(systemLogs.userId, u.userId))).toEqual([]);
    expect(await h.db.db.select().from(deletionJobs)).toEqual([]);
    expect(await s3.keys(userPrefix(u.userId))).toEqual([]);
  });
});
