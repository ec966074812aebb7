// The caller's own data: profile updates, the export, and account deletion (with a crash part-way
// finished by the retention job). In process on an embedded database with the local object store.
import { eq, getTableColumns, getTableName, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope, HealthProfile, User, UserExport } from '../../client/index.js';
import { auditLog, deletionJobs, schema, systemLogs, users } from '../../lib/db/schema.js';
import type { RetentionResult } from '../../lib/retention/index.js';
import type { Storage } from '../../lib/storage/types.js';
import { userPrefix } from '../../lib/storage/types.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';
import { PNG, seedFile, seedUserData } from '../helpers/user-data.js';

type U = { token: string; refresh: string; userId: string };
/** The export, with the fields of its rows these tests read named (the contract leaves rows open). */
type Export = Omit<UserExport, 'user' | 'conversations' | 'messages' | 'files'> & {
  user: Record<string, unknown> & { healthProfile: HealthProfile | null };
  conversations: { id: string }[];
  messages: (Record<string, unknown> & { id: string; conversationId: string; content: string })[];
  files: { id: string; url: string; urlExpiresAt: string }[];
};

let s3: TestStorage;
let h: Harness;
beforeAll(async () => {
  s3 = await startTestStorage();
  h = await createHarness({ env: { ...s3.env, ADMIN_OPENIDS: 'dev:privacy-admin' } });
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
});

/** T: the user (200), or the ErrorEnvelope of a refusal. */
const patch = <T = User>(u: U, body: unknown) => h.call<T>('PATCH', '/users/me', { token: u.token, body });

describe('PATCH /users/me', () => {
  let alice: U;
  let bob: U;
  beforeAll(async () => {
    alice = await h.login('patch-alice');
    bob = await h.login('patch-bob');
  });

  const PROFILE = { allergies: ['青霉素'], conditions: ['高血压'], medications: ['氨氯地平'] };
  /** A user with every field set, and the avatar upload it points to. */
  const filledIn = async (name: string) => {
    const u = await h.login(name);
    const avatar = await seedFile(h, u.userId, { purpose: 'avatar' });
    const r = await patch(u, {
      nickname: '  小爱  ',
      avatarFileId: avatar.id,
      gender: 'female',
      birthYear: 1980,
      healthProfile: PROFILE,
    });
    return { u, avatar, r };
  };

  it('sets the fields given, the nickname trimmed', async () => {
    const { u, avatar, r } = await filledIn('patch-fields');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      id: u.userId,
      nickname: '小爱',
      avatarFileId: avatar.id,
      gender: 'female',
      birthYear: 1980,
      healthProfile: PROFILE,
    });
  });

  it('replaces a health profile whole (no merging of lists) and leaves the other fields', async () => {
    const { u } = await filledIn('patch-profile');
    const r2 = await patch(u, {
      healthProfile: { allergies: [], conditions: ['糖尿病'], medications: [] },
    });
    expect(r2.json.healthProfile).toEqual({ allergies: [], conditions: ['糖尿病'], medications: [] });
    expect(r2.json.nickname).toBe('小爱');
  });

  it('clears with null and leaves the others', async () => {
    const { u } = await filledIn('patch-clear');
    const r3 = await patch(u, { nickname: null, healthProfile: null, avatarFileId: null });
    expect(r3.status).toBe(200);
    const me = await h.call<User>('GET', '/users/me', { token: u.token });
    expect(me.json).toMatchObject({
      nickname: null,
      healthProfile: null,
      avatarFileId: null,
      gender: 'female',
      birthYear: 1980,
    });
  });

  it.each([
    ['an unknown field', { nickname: 'x', role: 'admin' }, '(body)', 'unrecognized_keys'],
    ['another user id', { id: 'someone' }, '(body)', 'unrecognized_keys'],
    ['an empty body', {}, '(body)', 'custom'],
    ['a nickname over 32 characters', { nickname: '长'.repeat(33) }, 'nickname', 'too_big'],
    ['a blank nickname', { nickname: '   ' }, 'nickname', 'too_small'],
    ['a control character in the nickname', { nickname: 'a\u0007b' }, 'nickname', 'invalid_format'],
    ['a birth year before 1900', { birthYear: 1899 }, 'birthYear', 'too_small'],
    ['a fractional birth year', { birthYear: 1980.5 }, 'birthYear', 'invalid_type'],
    ['a birth year in the future', { birthYear: new Date().getUTCFullYear() + 1 }, 'birthYear', 'too_big'],
    ['an unknown gender', { gender: 'x' }, 'gender', 'invalid_value'],
    [
      'a health profile without medications',
      { healthProfile: { allergies: [], conditions: [] } },
      'healthProfile.medications',
      'invalid_type',
    ],
    [
      'an unknown health field',
      { healthProfile: { allergies: [], conditions: [], medications: [], bloodType: 'A' } },
      'healthProfile',
      'unrecognized_keys',
    ],
    [
      'too many allergies',
      { healthProfile: { allergies: Array(51).fill('x'), conditions: [], medications: [] } },
      'healthProfile.allergies',
      'too_big',
    ],
  ])('refuses %s with 400', async (_name, body, path, code) => {
    const r = await patch<ErrorEnvelope>(alice, body);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('BAD_REQUEST');
    expect(r.json.error.details).toContainEqual({ path, code });
  });

  it('accepts the current year and 1900 as birth years', async () => {
    expect((await patch(alice, { birthYear: new Date().getUTCFullYear() })).status).toBe(200);
    expect((await patch(alice, { birthYear: 1900 })).status).toBe(200);
  });

  it('refuses another user’s avatar upload or an unknown one with 404', async () => {
    const bobs = await seedFile(h, bob.userId, { purpose: 'avatar' });
    const other = await patch<ErrorEnvelope>(alice, { avatarFileId: bobs.id });
    expect(other.status).toBe(404);
    expect(other.json.error.code).toBe('NOT_FOUND');
    expect((await patch(alice, { avatarFileId: 'no-such-file' })).status).toBe(404);
    const me = await h.call<User>('GET', '/users/me', { token: alice.token });
    expect(me.json.avatarFileId).not.toBe(bobs.id);
  });

  it('refuses an upload that is not ready, or not an avatar, with 422', async () => {
    const pending = await seedFile(h, alice.userId, { purpose: 'avatar', status: 'pending', put: false });
    const notReady = await patch<ErrorEnvelope>(alice, { avatarFileId: pending.id });
    expect(notReady.status).toBe(422);
    expect(notReady.json.error.code).toBe('UNPROCESSABLE');
    const chatImage = await seedFile(h, alice.userId, { purpose: 'chat-image' });
    expect((await patch(alice, { avatarFileId: chatImage.id })).status).toBe(422);
  });

  it('takes the caller’s own, ready avatar upload', async () => {
    const own = await seedFile(h, alice.userId, { purpose: 'avatar' });
    expect((await patch(alice, { avatarFileId: own.id })).json.avatarFileId).toBe(own.id);
  });

  it('needs a token', async () => {
    expect((await h.call('PATCH', '/users/me', { body: { nickname: 'x' } })).status).toBe(401);
  });
});

describe('GET /users/me/export', () => {
  const readExport = async (u: U) => {
    const res = await h.fetch(
      new Request('http://api.test/api/v1/users/me/export', {
        headers: { authorization: `Bearer ${u.token}` },
      }),
    );
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    return { res, text, chunks, json: JSON.parse(text) as Export };
  };

  describe('of a user with data beside another’s', () => {
    let alice: U;
    let bob: U;
    let a: Awaited<ReturnType<typeof seedUserData>>;
    let b: Awaited<ReturnType<typeof seedUserData>>;
    let exported: Awaited<ReturnType<typeof readExport>>;
    beforeAll(async () => {
      // Export and deletion need no consent: h.login, not h.user.
      alice = await h.login('export-alice');
      bob = await h.login('export-bob');
      await patch(alice, { healthProfile: { allergies: ['花生'], conditions: [], medications: [] } });
      await h.call('POST', '/users/me/consents', {
        token: alice.token,
        body: { version: h.rt.config.CONSENT_VERSION, accepted: true },
      });
      a = await seedUserData(h, alice.userId, { phrase: 'alice-private-7c1e' });
      b = await seedUserData(h, bob.userId, { phrase: 'bob-private-93d2' });
      exported = await readExport(alice);
    });

    it('answers an uncached JSON attachment', () => {
      const { res } = exported;
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('content-disposition')).toMatch(
        /^attachment; filename="health-assistant-export-/,
      );
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('holds the caller’s profile, consents, conversations, messages, files and usage', () => {
      const { json } = exported;
      expect(json.user).toMatchObject({ id: alice.userId, openid: 'dev:export-alice' });
      expect(json.user.healthProfile?.allergies).toEqual(['花生']);
      expect(json.consents).toHaveLength(1);
      expect(json.conversations.map((c) => c.id).sort()).toEqual([...a.conversationIds].sort());
      expect(json.messages.map((m) => m.id).sort()).toEqual([...a.messageIds].sort());
      expect(json.files.map((f) => f.id).sort()).toEqual([...a.fileIds].sort());
      expect(json.usage).toEqual([
        { day: '2026-11-20', requests: 3, promptTokens: 30, completionTokens: 15 },
      ]);
      expect(json.messages[1]).toMatchObject({
        role: 'assistant',
        usage: { promptTokens: 10, completionTokens: 5 },
      });
    });

    it('holds nothing of another user’s: not his ids, not his words', () => {
      const { text } = exported;
      expect(text).not.toContain('bob-private-93d2');
      for (const id of [bob.userId, ...b.conversationIds, ...b.messageIds, ...b.fileIds])
        expect(text).not.toContain(id);
    });

    it('gives short-lived URLs that read the stored files', async () => {
      for (const f of exported.json.files) {
        expect(f.url).toMatch(/X-Amz-Expires=\d+/);
        expect(new Date(f.urlExpiresAt).getTime()).toBeGreaterThan(Date.now());
        const body = new Uint8Array(await (await fetch(f.url)).arrayBuffer());
        expect(body).toEqual(PNG);
      }
    });

    it('is audited', async () => {
      const audited = await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'user.export'));
      expect(audited.map((r) => r.actorId)).toContain(alice.userId);
    });

    it('never writes the signed URLs to a log line', () => {
      expect(h.logs.join('\n')).not.toContain('X-Amz-Signature');
    });
  });

  it('streams a long history in pieces, every message once', async () => {
    const u = await h.login('export-long');
    const seeded = await seedUserData(h, u.userId, {
      phrase: 'long',
      conversations: 3,
      perConversation: 170,
    });
    const { text, chunks, json } = await readExport(u);
    expect(json.messages).toHaveLength(510);
    expect(new Set(json.messages.map((m) => m.id)).size).toBe(510);
    expect(json.messages.map((m) => m.id).sort()).toEqual([...seeded.messageIds].sort());
    // Sending order: each conversation's messages in the order they were written.
    const first = json.messages.filter((m) => m.conversationId === seeded.conversationIds[0]);
    expect(first.map((m) => m.content)).toEqual(Array.from({ length: 170 }, (_, j) => `long message 0.${j}`));
    // Written as it was read: several pages, not one buffered document.
    expect(chunks).toBeGreaterThan(3);
    expect(text.length).toBeGreaterThan(10_000);
  });

  it('needs a token', async () => {
    expect((await h.call('GET', '/users/me/export')).status).toBe(401);
  });
});

/** Every table with the user's id in it, found from the schema so a new table cannot be missed. */
async function rowsOf(userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of Object.values(schema)) {
    const name = getTableName(table);
    if (name === 'audit_log') continue; // append-only; checked separately
    const cols = getTableColumns(table) as Record<string, unknown>;
    const col = name === 'users' ? 'id' : 'userId' in cols ? 'user_id' : undefined;
    if (!col) throw new Error(`table ${name} has no user column: decide how deletion treats it`);
    const r = (await h.db.db.execute(
      sql`select count(*)::int as n from ${table} where ${sql.identifier(col)} = ${userId}`,
    )) as unknown as { rows: { n: number }[] };
    counts[name] = Number(r.rows[0]?.n);
  }
  return counts;
}

const allZero = (counts: Record<string, number>) => Object.values(counts).every((n) => n === 0);

async function fullAccount(name: string): Promise<U & { keys: string[] }> {
  const u = await h.user(name);
  const seeded = await seedUserData(h, u.userId, { phrase: `${name}-words` });
  await patch(u, { nickname: name, healthProfile: { allergies: ['x'], conditions: [], medications: [] } });
  await h.call('POST', '/logs', {
    token: u.token,
    body: { entries: [{ level: 'info', message: 'opened' }] },
  });
  // A staging copy and a stray object under the prefix go too.
  const storage = await h.rt.storage();
  await storage.put(`${userPrefix(u.userId)}stray.upload`, PNG, 'image/png');
  return { ...u, keys: seeded.keys };
}

describe('DELETE /users/me', () => {
  describe('of a full account', () => {
    let alice: U & { keys: string[] };
    let bob: U & { keys: string[] };
    let before: Record<string, number>;
    let objectsBefore: number;
    let deleted: Awaited<ReturnType<Harness['call']>>;
    beforeAll(async () => {
      alice = await fullAccount('delete-alice');
      bob = await fullAccount('delete-bob');
      before = await rowsOf(alice.userId);
      objectsBefore = (await s3.keys(userPrefix(alice.userId))).length;
      deleted = await h.call('DELETE', '/users/me', { token: alice.token });
    });

    it('had rows in each table and objects in storage beforehand (so the checks below can fail)', () => {
      for (const t of [
        'users',
        'consents',
        'conversations',
        'messages',
        'files',
        'usage_daily',
        'idempotency_keys',
        'refresh_tokens',
        'system_logs',
      ]) {
        expect(before[t], t).toBeGreaterThan(0);
      }
      expect(objectsBefore).toBe(alice.keys.length + 1);
    });

    it('answers 204 and removes every row and object of the account', async () => {
      expect(deleted.status).toBe(204);
      expect(await rowsOf(alice.userId)).toSatisfy(allZero);
      expect(await s3.keys(userPrefix(alice.userId))).toEqual([]);
    });

    it('leaves another account untouched', async () => {
      expect((await rowsOf(bob.userId)).messages).toBeGreaterThan(0);
      expect((await s3.keys(userPrefix(bob.userId))).length).toBe(bob.keys.length + 1);
    });

    it('kills its tokens, access and refresh alike', async () => {
      expect((await h.call('GET', '/users/me', { token: alice.token })).status).toBe(401);
      expect((await h.call('GET', '/users/me/export', { token: alice.token })).status).toBe(401);
      expect((await h.call('DELETE', '/users/me', { token: alice.token })).status).toBe(401);
      expect((await h.call('POST', '/users/refresh', { body: { refreshToken: alice.refresh } })).status).toBe(
        401,
      );
    });

    it('audits with the pseudonymous id only', async () => {
      const [audit] = await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'user.delete'));
      expect(audit).toMatchObject({ actorId: alice.userId, targetId: alice.userId, meta: null });
      const auditText = JSON.stringify(
        await h.db.db.select().from(auditLog).where(eq(auditLog.actorId, alice.userId)),
      );
      for (const word of ['delete-alice', 'dev:delete-alice', 'delete-alice-words'])
        expect(auditText).not.toContain(word);
    });

    it('lets the same WeChat user sign in again to a new, empty account', async () => {
      const again = await h.login('delete-alice');
      expect(again.userId).not.toBe(alice.userId);
    });
  });

  it('a crash part-way is finished by the retention job', async () => {
    const carol = await fullAccount('delete-carol');
    const real = await h.rt.storage();
    let failures = 0;
    const flaky: Storage = {
      ...real,
      deletePrefix: async (prefix) => {
        if (failures++ === 0) throw new Error('simulated crash in object storage');
        return real.deletePrefix(prefix);
      },
    };
    const original = h.rt.storage;
    h.rt.storage = async () => flaky;
    try {
      const r = await h.call('DELETE', '/users/me', { token: carol.token });
      // For the caller the account is gone at once: the rest is the job's.
      expect(r.status).toBe(204);
      expect((await h.call('GET', '/users/me', { token: carol.token })).status).toBe(401);
      expect((await h.call('POST', '/users/refresh', { body: { refreshToken: carol.refresh } })).status).toBe(
        401,
      );
      // Signing in cannot resurrect an account being deleted.
      expect((await h.call('POST', '/users/login', { body: { code: 'dev:delete-carol' } })).status).toBe(401);

      const [job] = await h.db.db.select().from(deletionJobs).where(eq(deletionJobs.userId, carol.userId));
      expect(job).toMatchObject({ attempts: 1, lastError: 'Error' });
      expect((await rowsOf(carol.userId)).messages).toBeGreaterThan(0);
      expect((await s3.keys(userPrefix(carol.userId))).length).toBeGreaterThan(0);

      const admin = await h.login('privacy-admin');
      const run = await h.call<{ ranAt: string; tasks: RetentionResult[] }>('GET', '/logs/retention', {
        token: admin.token,
      });
      expect(run.status).toBe(200);
      expect(run.json.tasks).toContainEqual({ name: 'deletion-jobs', ok: true, removed: 1 });
    } finally {
      h.rt.storage = original;
    }
    expect(await rowsOf(carol.userId)).toSatisfy(allZero);
    expect(await s3.keys(userPrefix(carol.userId))).toEqual([]);
    const left = await h.db.db.select().from(users).where(eq(users.openid, 'dev:delete-carol'));
    expect(left).toEqual([]);
  });

  it('the deleted account’s own request leaves no log row with its id', async () => {
    const dave = await fullAccount('delete-dave');
    expect((await h.call('DELETE', '/users/me', { token: dave.token })).status).toBe(204);
    const rows = await h.db.db.select().from(systemLogs).where(eq(systemLogs.userId, dave.userId));
    expect(rows).toEqual([]);
  });
});
