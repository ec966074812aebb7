// Audit rows land with their change or not at all, on the real PostgreSQL: a trigger refuses the
// audit rows of chosen actions, and the change that should have been recorded must be gone with it
// (sign-in, logout, refresh-token reuse, consent, deletion), or never started (export); an admin's
// read of users' words whose row fails sends none of them (complaints, ratings).
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  AdminComplaint,
  ComplaintFiled,
  FeedbackLogEntry,
  Member,
  Page,
  TokenPair,
} from '../../client/index.js';
import { insertMessage } from '../../lib/conversations/messages.js';
import { insertConversation } from '../../lib/conversations/service.js';
import {
  auditLog,
  consents,
  deletionJobs,
  familyMembers,
  refreshTokens,
  users,
} from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';

describe('audit rows in the transaction of their change', () => {
  let h: Harness;
  /** Audit rows of this action now fail to insert, as a full disk or a broken audit table would. */
  const refuse = (action: string) =>
    h.db.db.execute(sql`insert into test_refused_actions values (${action})`);
  const expectInternal = (r: { status: number; json: unknown }) => {
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ error: { code: 'INTERNAL', requestId: expect.any(String) } });
  };
  const actions = async (userId: string) =>
    (await h.db.db.select().from(auditLog).where(eq(auditLog.actorId, userId))).map((r) => r.action);
  const liveTokens = async (userId: string) =>
    (await h.db.db.select().from(refreshTokens).where(eq(refreshTokens.userId, userId))).filter(
      (t) => t.revokedAt === null,
    );

  beforeAll(async () => {
    h = await createHarness({ db: 'postgres', env: { ADMIN_OPENIDS: 'dev:atomic-admin' } });
    await h.db.db.execute(sql`create table test_refused_actions (action text primary key)`);
    await h.db.db.execute(sql`
      create function test_refuse_audit() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from test_refused_actions where action = new.action) then
          raise exception 'audit row refused by the test';
        end if;
        return new;
      end $$`);
    await h.db.db.execute(sql`
      create trigger test_refuse_audit before insert on audit_log
      for each row execute function test_refuse_audit()`);
  });
  afterEach(async () => {
    await h.db.db.execute(sql`delete from test_refused_actions`);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a sign-in whose audit row fails leaves no account and no session, and answers 500', async () => {
    await refuse('user.login');
    const r = await h.call('POST', '/users/login', { body: { code: 'dev:unrecorded' } });
    expectInternal(r);
    expect(await h.db.db.select().from(users).where(eq(users.openid, 'dev:unrecorded'))).toEqual([]);
    expect(await h.db.db.select().from(refreshTokens)).toEqual([]);
    expect(await h.db.db.select().from(auditLog)).toEqual([]);

    // The same sign-in with the audit table writable: the account, its session and the row.
    await h.db.db.execute(sql`delete from test_refused_actions`);
    const u = await h.login('unrecorded');
    expect(await liveTokens(u.userId)).toHaveLength(1);
    expect(await actions(u.userId)).toEqual(['user.login']);
  });

  it('a returning user’s sign-in whose audit row fails starts no session', async () => {
    const u = await h.login('returning');
    await refuse('user.login');
    expectInternal(await h.call('POST', '/users/login', { body: { code: 'dev:returning' } }));
    expect(await liveTokens(u.userId)).toHaveLength(1);
    expect(await actions(u.userId)).toEqual(['user.login']);
  });

  it('logout revokes the session and records it together, or does neither', async () => {
    const u = await h.login('leaving');
    await refuse('user.logout');
    expectInternal(await h.call('POST', '/users/logout', { body: { refreshToken: u.refresh } }));
    expect(await liveTokens(u.userId)).toHaveLength(1);
    expect(await actions(u.userId)).toEqual(['user.login']);

    await h.db.db.execute(sql`delete from test_refused_actions`);
    expect((await h.call('POST', '/users/logout', { body: { refreshToken: u.refresh } })).status).toBe(204);
    expect(await liveTokens(u.userId)).toEqual([]);
    expect(await actions(u.userId)).toEqual(['user.login', 'user.logout']);
    expect((await h.call('POST', '/users/refresh', { body: { refreshToken: u.refresh } })).status).toBe(401);
  });

  it('a reused refresh token revokes its family with the audit row, or not at all', async () => {
    const u = await h.login('leaked');
    const first = await h.call<TokenPair>('POST', '/users/refresh', { body: { refreshToken: u.refresh } });
    expect(first.status).toBe(200);
    await refuse('user.refresh_reuse');
    expectInternal(await h.call('POST', '/users/refresh', { body: { refreshToken: u.refresh } }));
    expect(await liveTokens(u.userId)).toHaveLength(2);

    await h.db.db.execute(sql`delete from test_refused_actions`);
    const reused = await h.call('POST', '/users/refresh', { body: { refreshToken: u.refresh } });
    expect(reused.status).toBe(401);
    expect(await liveTokens(u.userId)).toEqual([]);
    expect(await actions(u.userId)).toEqual(['user.login', 'user.refresh_reuse']);
    const next = await h.call('POST', '/users/refresh', { body: { refreshToken: first.json.refreshToken } });
    expect(next.status).toBe(401);
  });

  it('a consent whose audit row fails is not recorded', async () => {
    const u = await h.login('consenting');
    await refuse('user.consent');
    const body = { version: h.rt.config.CONSENT_VERSION, accepted: true };
    expectInternal(await h.call('POST', '/users/me/consents', { token: u.token, body }));
    expect(await h.db.db.select().from(consents).where(eq(consents.userId, u.userId))).toEqual([]);
    const [row] = await h.db.db.select().from(users).where(eq(users.id, u.userId));
    expect(row?.acceptedConsentVersion).toBeNull();
  });

  it('a deletion whose audit row fails does not begin: the account stays', async () => {
    const u = await h.user('staying');
    await refuse('user.delete');
    expectInternal(await h.call('DELETE', '/users/me', { token: u.token }));
    expect(await h.db.db.select().from(deletionJobs).where(eq(deletionJobs.userId, u.userId))).toEqual([]);
    expect((await h.call('GET', '/users/me', { token: u.token })).status).toBe(200);
  });

  it('an export whose audit row fails sends nothing', async () => {
    const u = await h.user('exporting');
    await refuse('user.export');
    const r = await h.call('GET', '/users/me/export', { token: u.token });
    expectInternal(r);
    expect(r.text).not.toContain('health-assistant-export');
  });

  it('a guardian’s consent whose audit row fails is not stored: no member, no consent on a member', async () => {
    const u = await h.user('guardian');
    const child = { name: '小明', relation: 'child', birthYear: new Date().getUTCFullYear() - 5 };
    await refuse('member.guardian_consent');
    const body = { ...child, guardianConsent: true };
    expectInternal(await h.call('POST', '/users/me/members', { token: u.token, body }));
    expect(await h.db.db.select().from(familyMembers).where(eq(familyMembers.userId, u.userId))).toEqual([]);

    const adult = await h.call<Member>('POST', '/users/me/members', {
      token: u.token,
      body: { name: '老王', relation: 'parent', birthYear: 1950 },
    });
    expect(adult.status).toBe(201);
    const patch = { guardianConsent: true };
    const path = `/users/me/members/${adult.json.id}`;
    expectInternal(await h.call('PATCH', path, { token: u.token, body: patch }));
    const [row] = await h.db.db.select().from(familyMembers).where(eq(familyMembers.id, adult.json.id));
    expect(row?.guardianConsentAt).toBeNull();
    expect(await actions(u.userId)).not.toContain('member.guardian_consent');
  });

  /** The admin's reads of users' data on the record: admin.read rows by the admin. */
  const adminReads = async (adminId: string) =>
    await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, adminId), eq(auditLog.action, 'admin.read')));

  it('an admin’s read of complaints whose audit row fails sends none of them', async () => {
    const u = await h.user('complainant');
    const admin = await h.login('atomic-admin');
    const description = '回答让我很不安（原话）';
    const filed = await h.call<ComplaintFiled>('POST', '/users/me/complaints', {
      token: u.token,
      body: { category: 'harmful', description },
    });
    expect(filed.status).toBe(201);

    await refuse('admin.read');
    const r = await h.call('GET', '/logs/complaints', { token: admin.token });
    expectInternal(r);
    expect(r.text).not.toContain(description);
    expect(r.text).not.toContain(filed.json.id);
    expect(await adminReads(admin.userId)).toEqual([]);

    // Recorded, it is sent.
    await h.db.db.execute(sql`delete from test_refused_actions`);
    const ok = await h.call<Page<AdminComplaint>>('GET', '/logs/complaints', { token: admin.token });
    expect(ok.status).toBe(200);
    expect(ok.json.items.map((i) => i.description)).toContain(description);
    expect((await adminReads(admin.userId)).map((a) => a.targetType)).toEqual(['complaints']);
  });

  it('an admin’s read of ratings whose audit row fails sends none of their comments', async () => {
    const u = await h.user('rater');
    const admin = await h.login('atomic-admin');
    const now = new Date();
    const conv = await insertConversation(h.db.db, u.userId, { now });
    const answer = await insertMessage(h.db.db, u.userId, conv.id, {
      role: 'assistant',
      content: '多喝水，注意休息。',
      status: 'complete',
      aiGenerated: true,
      createdAt: now,
    });
    const comment = '建议和医生说的不一样（原话）';
    const rated = await h.call('PUT', `/conversations/${conv.id}/messages/${answer.id}/feedback`, {
      token: u.token,
      body: { rating: 'down', reason: 'inaccurate', comment },
    });
    expect(rated.status).toBe(200);
    const before = (await adminReads(admin.userId)).length;

    await refuse('admin.read');
    const r = await h.call('GET', '/logs/feedback', { token: admin.token });
    expectInternal(r);
    expect(r.text).not.toContain(comment);
    expect(r.text).not.toContain(answer.id);
    expect(await adminReads(admin.userId)).toHaveLength(before);

    await h.db.db.execute(sql`delete from test_refused_actions`);
    const ok = await h.call<Page<FeedbackLogEntry>>('GET', '/logs/feedback', { token: admin.token });
    expect(ok.status).toBe(200);
    expect(ok.json.items.map((i) => i.comment)).toContain(comment);
    const reads = await adminReads(admin.userId);
    expect(reads).toHaveLength(before + 1);
    expect(reads.at(-1)?.targetType).toBe('message_feedback');
  });
});
