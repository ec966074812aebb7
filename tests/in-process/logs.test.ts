// The logs function and the log/audit machinery: client ingestion, admin queries with keyset
// cursors, request logs persisted to system_logs (and surviving a database outage), the audit
// log's append-only guarantee, role-change auditing and the retention job.
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditEntry,
  ErrorEnvelope,
  Page,
  PostLogsResponse,
  SystemLogEntry,
} from '../../client/index.js';
import {
  auditLog,
  conversations,
  deletionJobs,
  files,
  idempotencyKeys,
  messages,
  systemLogs,
  users,
} from '../../lib/db/schema.js';
import { type RetentionResult, resumeDeletions, runRetention } from '../../lib/retention/index.js';
import type { Storage } from '../../lib/storage/types.js';
import { userPrefix } from '../../lib/storage/types.js';
import { beginDeletion } from '../../lib/users/deletion.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';
import { seedUserData } from '../helpers/user-data.js';

type U = { token: string; refresh: string; userId: string };
/** GET /logs/retention (the cron job): when it ran and each task's result. */
type RetentionRun = { ranAt: string; tasks: RetentionResult[] };

describe('logs', () => {
  let h: Harness;
  let admin: U;
  let alice: U;
  let bob: U;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_OPENIDS: 'dev:logs-admin' } });
    admin = await h.login('logs-admin');
    alice = await h.login('logs-alice');
    bob = await h.login('logs-bob');
  });
  afterAll(() => h.close());

  /** T: the count accepted (202), or the ErrorEnvelope of a refusal. */
  const post = <T = PostLogsResponse>(u: U | undefined, body: unknown, headers?: Record<string, string>) =>
    h.call<T>('POST', '/logs', { ...(u ? { token: u.token } : {}), body, ...(headers ? { headers } : {}) });

  describe('POST /logs', () => {
    it('stores the entries under the caller, scrubbed, with the request id', async () => {
      const r = await post(
        alice,
        {
          entries: [
            { level: 'error', message: '支付失败，请联系 13812345678', at: '2026-11-25T08:00:00+08:00' },
            {
              level: 'info',
              message: 'page shown',
              context: { page: '/pages/chat', auth: { token: 'abc' }, note: '邮箱 a.b@example.com' },
            },
          ],
        },
        { 'x-request-id': 'client-log-req-0001' },
      );
      expect(r.status).toBe(202);
      expect(r.json).toEqual({ accepted: 2 });
      const rows = await h.db.db
        .select()
        .from(systemLogs)
        .where(and(eq(systemLogs.requestId, 'client-log-req-0001'), eq(systemLogs.source, 'client')))
        .orderBy(systemLogs.id);
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({
        level: 'error',
        userId: alice.userId,
        message: '支付失败，请联系 [phone]',
        context: { clientAt: '2026-11-25T08:00:00+08:00' },
      });
      expect(rows[1]?.context).toEqual({
        page: '/pages/chat',
        auth: { token: '[redacted]' },
        note: '邮箱 [email]',
      });
    });

    it.each([
      ['no entries', { entries: [] }],
      ['51 entries', { entries: Array.from({ length: 51 }, () => ({ level: 'info', message: 'x' })) }],
      ['a message over 2,000 characters', { entries: [{ level: 'info', message: 'x'.repeat(2001) }] }],
      ['an empty message', { entries: [{ level: 'info', message: '' }] }],
      ['an unknown level', { entries: [{ level: 'fatal', message: 'x' }] }],
      ['an unknown entry field', { entries: [{ level: 'info', message: 'x', userId: 'u' }] }],
      ['an unknown body field', { entries: [{ level: 'info', message: 'x' }], source: 'server' }],
      [
        'a context over 4 KB',
        { entries: [{ level: 'info', message: 'x', context: { blob: 'y'.repeat(4100) } }] },
      ],
      ['a context that is not an object', { entries: [{ level: 'info', message: 'x', context: 'text' }] }],
      ['a bad time', { entries: [{ level: 'info', message: 'x', at: 'yesterday' }] }],
    ])('refuses %s with 400', async (_name, body) => {
      const r = await post<ErrorEnvelope>(alice, body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('BAD_REQUEST');
    });

    it('takes 50 entries and a context of almost 4 KB', async () => {
      const entries = Array.from({ length: 50 }, (_, i) => ({ level: 'debug', message: `m${i}` }));
      expect((await post(alice, { entries })).status).toBe(202);
      const context = { blob: 'y'.repeat(4000) };
      expect((await post(alice, { entries: [{ level: 'info', message: 'x', context }] })).status).toBe(202);
    });

    it('needs a signed-in user', async () => {
      const r = await post(undefined, { entries: [{ level: 'info', message: 'x' }] });
      expect(r.status).toBe(401);
    });
  });

  describe('admin queries', () => {
    it.each(['/logs', '/logs/audit'])(
      '%s: 401 without a token, 403 FORBIDDEN for a non-admin',
      async (path) => {
        expect((await h.call('GET', path)).status).toBe(401);
        const r = await h.call<ErrorEnvelope>('GET', path, { token: alice.token });
        expect(r.status).toBe(403);
        expect(r.json.error.code).toBe('FORBIDDEN');
        expect((await h.call('GET', path, { token: admin.token })).status).toBe(200);
      },
    );

    it('persists every request as a system log row, with route pattern and request id', async () => {
      const ok = await h.call('GET', '/users/me', {
        token: bob.token,
        headers: { 'x-request-id': 'persist-me-0001' },
      });
      expect(ok.status).toBe(200);
      const missing = await h.call('GET', '/users/nope', { headers: { 'x-request-id': 'persist-404-0001' } });
      expect(missing.status).toBe(404);
      const r = await h.call<Page<SystemLogEntry>>('GET', '/logs?requestId=persist-me-0001', {
        token: admin.token,
      });
      expect(r.json.items).toEqual([
        {
          id: expect.any(String),
          at: expect.any(String),
          level: 'info',
          source: 'server',
          route: '/api/v1/users/me',
          method: 'GET',
          status: 200,
          latencyMs: expect.any(Number),
          userId: bob.userId,
          requestId: 'persist-me-0001',
          errorCode: null,
          message: 'request',
          context: { fn: 'users' },
        },
      ]);
      const r404 = await h.call<Page<SystemLogEntry>>('GET', '/logs?requestId=persist-404-0001', {
        token: admin.token,
      });
      expect(r404.json.items).toMatchObject([
        { level: 'warn', status: 404, errorCode: 'NOT_FOUND', userId: null },
      ]);
    });

    it('filters by level, user, route, request id and time', async () => {
      await post(
        bob,
        { entries: [{ level: 'warn', message: 'bob warned' }] },
        { 'x-request-id': 'filter-bob-0001' },
      );
      const byUser = await h.call<Page<SystemLogEntry>>('GET', `/logs?userId=${bob.userId}&level=warn`, {
        token: admin.token,
      });
      expect(byUser.status).toBe(200);
      expect(byUser.json.items.length).toBeGreaterThan(0);
      for (const i of byUser.json.items) expect(i).toMatchObject({ userId: bob.userId, level: 'warn' });
      expect(byUser.json.items.map((i) => i.message)).toContain('bob warned');

      const byRoute = await h.call<Page<SystemLogEntry>>(
        'GET',
        `/logs?route=${encodeURIComponent('/api/v1/users/me')}&limit=100`,
        {
          token: admin.token,
        },
      );
      expect(byRoute.json.items.length).toBeGreaterThan(0);
      for (const i of byRoute.json.items) expect(i.route).toBe('/api/v1/users/me');

      const future = new Date(Date.now() + 3_600_000).toISOString();
      const none = await h.call<Page<SystemLogEntry>>('GET', `/logs?since=${encodeURIComponent(future)}`, {
        token: admin.token,
      });
      expect(none.json).toEqual({ items: [], nextCursor: null });
      const past = await h.call<Page<SystemLogEntry>>('GET', `/logs?until=2000-01-01T00:00:00Z`, {
        token: admin.token,
      });
      expect(past.json.items).toEqual([]);
      const all = await h.call<Page<SystemLogEntry>>(
        'GET',
        '/logs?requestId=filter-bob-0001&since=2000-01-01T00:00:00Z',
        {
          token: admin.token,
        },
      );
      expect(all.json.items.length).toBeGreaterThan(0);
    });

    it('pages newest first with a keyset cursor, losing nothing inside one millisecond', async () => {
      // 25 rows a microsecond apart: a cursor that kept only milliseconds would skip or repeat rows.
      await h.db.db.execute(sql`
        insert into system_logs (at, level, source, request_id, message)
        select timestamptz '2026-01-01 00:00:00.000100+00' + (g * interval '1 microsecond'),
               'info', 'server', 'page-test-0001', 'row ' || g
        from generate_series(1, 25) g`);
      // Plus three rows sharing one instant: the id breaks the tie.
      await h.db.db.execute(sql`
        insert into system_logs (at, level, source, request_id, message)
        select timestamptz '2026-01-01 00:00:00.000100+00', 'info', 'server', 'page-test-0001', 'tie ' || g
        from generate_series(1, 3) g`);
      const seen: (string | null)[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `/logs?requestId=page-test-0001&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await h.call<Page<SystemLogEntry>>('GET', q, { token: admin.token });
        expect(r.status).toBe(200);
        seen.push(...r.json.items.map((i) => i.message));
        cursor = r.json.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([
        ...Array.from({ length: 25 }, (_, i) => `row ${25 - i}`),
        'tie 3',
        'tie 2',
        'tie 1',
      ]);
    });

    it('clamps limit and refuses a forged cursor', async () => {
      const big = await h.call<Page<SystemLogEntry>>('GET', '/logs?limit=1000', { token: admin.token });
      expect(big.status).toBe(200);
      expect(big.json.items.length).toBeLessThanOrEqual(100);
      const one = await h.call<Page<SystemLogEntry>>('GET', '/logs?limit=0', { token: admin.token });
      expect(one.json.items).toHaveLength(1);
      for (const cursor of ['nonsense', Buffer.from('["x",1]').toString('base64url')]) {
        const r = await h.call<Page<SystemLogEntry>>('GET', `/logs?cursor=${cursor}`, { token: admin.token });
        expect(r.status).toBe(400);
      }
      expect(
        (await h.call<Page<SystemLogEntry>>('GET', '/logs?level=loud', { token: admin.token })).status,
      ).toBe(400);
      expect(
        (await h.call<Page<SystemLogEntry>>('GET', '/logs?since=yesterday', { token: admin.token })).status,
      ).toBe(400);
    });

    it('records an admin read of a user’s log entries', async () => {
      const r = await h.call<Page<SystemLogEntry>>('GET', `/logs?userId=${alice.userId}`, {
        token: admin.token,
        headers: { 'x-request-id': 'admin-read-0001' },
      });
      expect(r.status).toBe(200);
      const rows = await h.db.db.select().from(auditLog).where(eq(auditLog.requestId, 'admin-read-0001'));
      expect(rows).toMatchObject([
        { actorId: admin.userId, action: 'admin.read', targetType: 'user', targetId: alice.userId },
      ]);
    });

    it('lists audit records with filters and a cursor, in the contract’s shape', async () => {
      for (let i = 0; i < 3; i++) await h.login('audit-subject');
      const subject = await h.login('audit-subject');
      const seen: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `/logs/audit?action=user.login&actorId=${subject.userId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await h.call<Page<AuditEntry>>('GET', q, { token: admin.token });
        expect(r.status).toBe(200);
        seen.push(...r.json.items);
        cursor = r.json.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(4);
      for (const item of seen) {
        expect(Object.keys(item).sort()).toEqual(
          ['action', 'actorId', 'at', 'id', 'requestId', 'targetId', 'targetType'].sort(),
        );
        expect(item).toMatchObject({ action: 'user.login', actorId: subject.userId, targetType: 'user' });
      }
      const ids = seen.map((i) => Number(i.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      const since = await h.call<Page<AuditEntry>>(
        'GET',
        `/logs/audit?actorId=${subject.userId}&since=2999-01-01T00:00:00Z`,
        {
          token: admin.token,
        },
      );
      expect(since.json.items).toEqual([]);
      // Looking up one person's activity is itself on the record.
      const reads = await h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'admin.read'), eq(auditLog.targetId, subject.userId)));
      expect(reads.length).toBeGreaterThan(0);
    });
  });

  describe('request logs when the database is unwell', () => {
    it('a failing insert does not fail the request', async () => {
      const original = h.rt.db;
      h.rt.db = async () => {
        throw new Error('database down');
      };
      try {
        const r = await h.call<ErrorEnvelope>('GET', '/users/nope');
        expect(r.status).toBe(404);
        expect(r.json.error.code).toBe('NOT_FOUND');
      } finally {
        h.rt.db = original;
      }
      await h.rt.settled();
      expect(h.logs.some((l) => l.includes('system log write failed'))).toBe(true);
    });

    it('the row is written after the response: a hanging insert does not hold it', async () => {
      const original = h.rt.db;
      h.rt.db = () => new Promise(() => {});
      const started = Date.now();
      try {
        const r = await h.call('GET', '/users/nope');
        expect(r.status).toBe(404);
        // Before the write moved after the response, this waited for the 1.5 s write cap.
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(h.logs.some((l) => l.includes('system log write timed out'))).toBe(false);
      } finally {
        h.rt.db = original;
      }
      await h.rt.settled();
      expect(h.logs.some((l) => l.includes('system log write timed out'))).toBe(true);
    });

    it('on Vercel the write is handed to waitUntil, so a frozen function does not lose it', async () => {
      const handed: Promise<unknown>[] = [];
      // The request context Vercel installs; @vercel/functions' waitUntil reads it.
      const key = Symbol.for('@vercel/request-context');
      const g = globalThis as Record<symbol, unknown>;
      g[key] = { get: () => ({ waitUntil: (p: Promise<unknown>) => handed.push(p) }) };
      try {
        const r = await h.call('GET', '/users/nope', { headers: { 'x-request-id': 'wait-until-0001' } });
        expect(r.status).toBe(404);
        await h.rt.settled();
        expect(handed.length).toBeGreaterThan(0);
        await Promise.all(handed);
      } finally {
        delete g[key];
      }
      const rows = await h.db.db.select().from(systemLogs).where(eq(systemLogs.requestId, 'wait-until-0001'));
      expect(rows).toHaveLength(1);
    });
  });

  describe('the audit log is append-only', () => {
    it('refuses UPDATE, DELETE and TRUNCATE from the app’s connection', async () => {
      const [row] = await h.db.db.select().from(auditLog).limit(1);
      expect(row).toBeDefined();
      const id = row?.id ?? 0;
      await expect(
        h.db.db.update(auditLog).set({ action: 'forged' }).where(eq(auditLog.id, id)),
      ).rejects.toThrow();
      await expect(h.db.db.delete(auditLog).where(eq(auditLog.id, id))).rejects.toThrow();
      await expect(h.db.db.execute(sql`truncate audit_log`)).rejects.toThrow();
      const [after] = await h.db.db.select().from(auditLog).where(eq(auditLog.id, id));
      expect(after).toEqual(row);
      // Appending still works.
      await h.db.db.insert(auditLog).values({ actorId: null, action: 'admin.read' });
    });
  });

  describe('role changes', () => {
    it('audits a sign-in that changes the role', async () => {
      const u = await h.login('role-shift');
      // As if ADMIN_OPENIDS had listed this openid at the last sign-in and no longer does.
      await h.db.db.update(users).set({ role: 'admin' }).where(eq(users.id, u.userId));
      await h.login('role-shift');
      const rows = await h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'user.role_change'), eq(auditLog.actorId, u.userId)));
      expect(rows).toMatchObject([{ targetId: u.userId, meta: { from: 'admin', to: 'user' } }]);
      // An unchanged role is not a change.
      await h.login('role-shift');
      const again = await h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'user.role_change'), eq(auditLog.actorId, u.userId)));
      expect(again).toHaveLength(1);
    });
  });
});

describe('retention job', () => {
  let s3: TestStorage;
  let h: Harness;
  const CRON_SECRET = 'cron-secret-for-tests-0123456789';
  beforeAll(async () => {
    s3 = await startTestStorage();
    h = await createHarness({
      env: {
        ...s3.env,
        CRON_SECRET,
        ADMIN_OPENIDS: 'dev:ret-admin',
        RETENTION_DAYS_CONVERSATIONS: '30',
        RETENTION_DAYS_LOGS: '7',
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
  });

  it('answers only Vercel cron’s bearer secret', async () => {
    const admin = await h.login('ret-admin');
    expect((await h.call('GET', '/logs/retention')).status).toBe(401);
    expect(
      (
        await h.call<RetentionRun>('GET', '/logs/retention', {
          headers: { authorization: 'Bearer wrong-secret-wrong-secret' },
        })
      ).status,
    ).toBe(401);
    // With a secret configured, even an admin's token is not the secret.
    expect((await h.call<RetentionRun>('GET', '/logs/retention', { token: admin.token })).status).toBe(401);
    const ok = await h.call<RetentionRun>('GET', '/logs/retention', {
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.tasks.map((t) => t.name)).toEqual([
      'deletion-jobs',
      'conversations',
      'system-logs',
      'idempotency-keys',
      'pending-uploads',
    ]);
  });

  it('removes idle conversations with their images, old logs and expired keys; keeps the rest', async () => {
    const u = await h.login('ret-user');
    const old = new Date(Date.now() - 40 * 86_400_000);
    const stale = await seedUserData(h, u.userId, { phrase: 'stale', conversations: 2, activityAt: old });
    const fresh = await seedUserData(h, u.userId, { phrase: 'fresh', conversations: 1 });
    await h.db.db.insert(systemLogs).values([
      {
        at: new Date(Date.now() - 8 * 86_400_000),
        level: 'info',
        source: 'server',
        requestId: 'ret-old-log-0001',
      },
      {
        at: new Date(Date.now() - 6 * 86_400_000),
        level: 'info',
        source: 'server',
        requestId: 'ret-new-log-0001',
      },
    ]);
    await h.db.db.insert(idempotencyKeys).values({
      userId: u.userId,
      route: 'text-chat',
      key: 'expired-key',
      requestHash: 'h',
      status: 'done',
      expiresAt: new Date(Date.now() - 1000),
    });
    const staleImage = stale.keys[0] ?? '';
    expect(await s3.keys(userPrefix(u.userId))).toContain(staleImage);

    const run = await h.call<RetentionRun>('GET', '/logs/retention', {
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(run.status).toBe(200);
    expect(run.json.tasks).toEqual(
      expect.arrayContaining([
        { name: 'conversations', ok: true, removed: 2 },
        { name: 'system-logs', ok: true, removed: 1 },
        { name: 'idempotency-keys', ok: true, removed: 1 },
      ]),
    );
    const left = await h.db.db
      .select({ id: conversations.id })
      .from(conversations)
      .where(eq(conversations.userId, u.userId));
    expect(left.map((c) => c.id)).toEqual(fresh.conversationIds);
    const staleMessages = await h.db.db
      .select()
      .from(messages)
      .where(eq(messages.conversationId, stale.conversationIds[0] ?? ''));
    expect(staleMessages).toEqual([]);
    const keys = await s3.keys(userPrefix(u.userId));
    expect(keys).not.toContain(staleImage);
    for (const k of fresh.keys) expect(keys).toContain(k);
    const imageRows = await h.db.db.select().from(files).where(eq(files.key, staleImage));
    expect(imageRows).toEqual([]);
    const logIds = (await h.db.db.select({ r: systemLogs.requestId }).from(systemLogs)).map((r) => r.r);
    expect(logIds).not.toContain('ret-old-log-0001');
    expect(logIds).toContain('ret-new-log-0001');
    const keysLeft = await h.db.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.userId, u.userId));
    expect(keysLeft.map((k) => k.key)).not.toContain('expired-key');
    expect(keysLeft).toHaveLength(2);
  });
});

describe('retention job time budget', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('stops at the budget; the next run carries on', async () => {
    const u = await h.login('budgeted');
    await beginDeletion(h.db.db, u.userId, new Date());
    h.rt.storage = async () => ({ deletePrefix: async () => 0 }) as unknown as Storage;
    const spent = await runRetention(h.rt, { budgetMs: 0, tasks: [resumeDeletions] });
    expect(spent).toEqual([{ name: 'deletion-jobs', ok: true, removed: 0 }]);
    expect(await h.db.db.select().from(deletionJobs)).toHaveLength(1);
    const next = await runRetention(h.rt, { tasks: [resumeDeletions] });
    expect(next).toEqual([{ name: 'deletion-jobs', ok: true, removed: 1 }]);
    expect(await h.db.db.select().from(deletionJobs)).toEqual([]);
  });
});

describe('retention job without CRON_SECRET (development)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_OPENIDS: 'dev:dev-admin' } });
  });
  afterAll(() => h.close());

  it('runs for an admin only', async () => {
    expect((await h.call('GET', '/logs/retention')).status).toBe(401);
    const user = await h.login('dev-user');
    const refused = await h.call<RetentionRun>('GET', '/logs/retention', { token: user.token });
    expect(refused.status).toBe(403);
    const admin = await h.login('dev-admin');
    expect((await h.call<RetentionRun>('GET', '/logs/retention', { token: admin.token })).status).toBe(200);
  });
});
