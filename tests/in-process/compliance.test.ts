// China compliance, in process on an embedded database: GB 45438-2025 implicit labels on messages
// and in the export, and the complaint channel (Art. 15) from filing to answer, with its audit rows.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AdminComplaint,
  Complaint,
  ComplaintFiled,
  Message,
  Page,
  UserExport,
} from '../../client/index.js';
import { type Aigc, aigcCodes, verifyAigc } from '../../lib/compliance/aigc.js';
import { insertMessage } from '../../lib/conversations/messages.js';
import { insertConversation } from '../../lib/conversations/service.js';
import { auditLog, complaints } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';

type U = { token: string; userId: string };
/** A message as the export writes it: the visible label beside the implicit one. */
type ExportedMessage = { id: string; content: string; aiLabel: string | null; aigc: Aigc | null };

const PRODUCER = '00119144000012345678X1ABCD';
const PROPAGATOR = '00119144000012345678X2ABCD';

let h: Harness;
let s3: TestStorage;
beforeAll(async () => {
  // Object storage too: account deletion removes the account's objects before its rows.
  s3 = await startTestStorage();
  h = await createHarness({
    env: {
      ...s3.env,
      AIGC_PROVIDER_CODE: `${PRODUCER},${PROPAGATOR}`,
      COMPLAINT_DEADLINE_DAYS: '7',
      ADMIN_OPENIDS: 'dev:cmp-admin',
    },
  });
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
});

/** A conversation with a question, an AI answer, emergency guidance and a content-security notice. */
async function seedTurns(u: U) {
  const db = h.db.db;
  const now = new Date();
  const conv = await insertConversation(db, u.userId, { title: '标识', now });
  const add = (m: Parameters<typeof insertMessage>[3]) => insertMessage(db, u.userId, conv.id, m);
  const question = await add({ role: 'user', content: '头疼怎么办', status: 'complete', createdAt: now });
  const answer = await add({
    role: 'assistant',
    content: '多休息，多喝水。',
    status: 'complete',
    aiGenerated: true,
    createdAt: new Date(now.getTime() + 1),
  });
  const triage = await add({
    role: 'assistant',
    content: '请立即拨打120。',
    status: 'complete',
    triage: {
      level: 'emergency',
      category: 'cardiac',
      message: '请立即拨打120。',
      actions: [{ type: 'call', number: '120', label: '拨打120' }],
    },
    createdAt: new Date(now.getTime() + 2),
  });
  const notice = await add({
    role: 'assistant',
    content: '抱歉，这条内容未通过内容安全检查。',
    status: 'blocked',
    createdAt: new Date(now.getTime() + 3),
  });
  // A model answer replaced by the notice while it was written (the writer keeps aiGenerated).
  const replaced = await add({
    role: 'assistant',
    content: '抱歉，这条内容未通过内容安全检查。',
    status: 'blocked',
    aiGenerated: true,
    createdAt: new Date(now.getTime() + 4),
  });
  return { conv, question, answer, triage, notice, replaced };
}

describe('implicit labels (GB 45438-2025 Annex E)', () => {
  it('every AI answer carries aigc with the configured codes; the rest carry null', async () => {
    const u = await h.login('label-ann');
    const s = await seedTurns(u);
    const r = await h.call<Page<Message>>('GET', `/conversations/${s.conv.id}/messages`, { token: u.token });
    expect(r.status).toBe(200);
    const byId = new Map(r.json.items.map((m) => [m.id, m]));
    expect(byId.get(s.answer.id)?.aigc).toEqual({
      Label: '1',
      ContentProducer: PRODUCER,
      ProduceID: s.answer.id,
      ReservedCode1: expect.stringMatching(/^hs256:[A-Za-z0-9_-]{43}$/),
      ContentPropagator: PROPAGATOR,
      PropagateID: s.answer.id,
      ReservedCode2: '',
    });
    // Not AI-generated: the question, the fixed emergency guidance, the notice (however stored).
    for (const m of [s.question, s.triage, s.notice, s.replaced]) expect(byId.get(m.id)?.aigc).toBeNull();
  });

  it('the digest in ReservedCode1 ties the label to the exact text', async () => {
    const u = await h.login('label-ben');
    const s = await seedTurns(u);
    const r = await h.call<Page<Message>>('GET', `/conversations/${s.conv.id}/messages`, { token: u.token });
    const answer = r.json.items.find((m) => m.id === s.answer.id);
    if (!answer?.aigc) throw new Error('no labelled answer');
    const label = answer.aigc;
    const codes = aigcCodes(h.rt.config);
    expect(verifyAigc(label, answer.content, codes)).toBe(true);
    expect(verifyAigc(label, `${answer.content}另外请服用双倍剂量。`, codes)).toBe(false);
    expect(verifyAigc({ ...label, ProduceID: s.question.id }, answer.content, codes)).toBe(false);
  });

  it('the export carries the visible and the implicit label on AI answers, and the complaints', async () => {
    const u = await h.login('label-cat');
    const s = await seedTurns(u);
    const filed = await h.call<ComplaintFiled>('POST', '/users/me/complaints', {
      token: u.token,
      body: { messageId: s.answer.id, category: 'inaccurate', description: '回答不准确' },
    });
    expect(filed.status).toBe(201);
    const r = await h.call<UserExport>('GET', '/users/me/export', { token: u.token });
    expect(r.status).toBe(200);
    const byId = new Map((r.json.messages as ExportedMessage[]).map((m) => [m.id, m]));
    const labelled = byId.get(s.answer.id);
    expect(byId.get(s.answer.id)).toMatchObject({
      aiLabel: '本内容由人工智能生成',
      aigc: { Label: '1', ContentProducer: PRODUCER, ProduceID: s.answer.id },
    });
    expect(
      labelled?.aigc != null && verifyAigc(labelled.aigc, labelled.content, aigcCodes(h.rt.config)),
    ).toBe(true);
    for (const m of [s.question, s.triage, s.notice]) {
      expect(byId.get(m.id)).toMatchObject({ aiLabel: null, aigc: null });
    }
    expect(r.json.complaints).toEqual([
      expect.objectContaining({ id: filed.json.id, messageId: s.answer.id, description: '回答不准确' }),
    ]);
  });
});

describe('complaints (Art. 15)', () => {
  let ann: U;
  let bob: U;
  let admin: U;
  beforeAll(async () => {
    ann = await h.login('cmp-ann');
    bob = await h.login('cmp-bob');
    admin = await h.login('cmp-admin');
  });

  const file = (u: U, body: unknown) =>
    h.call<ComplaintFiled>('POST', '/users/me/complaints', { token: u.token, body });
  const auditOf = (id: string) =>
    h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetType, 'complaint'), eq(auditLog.targetId, id)));

  it('goes from open to resolved, with an audit row for each step and the deadline shown', async () => {
    const s = await seedTurns(ann);
    const r = await file(ann, { messageId: s.answer.id, category: 'harmful', description: '  建议不安全  ' });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({
      id: expect.any(String),
      status: 'open',
      createdAt: expect.any(String),
      answerBy: expect.any(String),
    });
    const days = (Date.parse(r.json.answerBy) - Date.parse(r.json.createdAt)) / 86_400_000;
    expect(days).toBe(7);

    const mine = await h.call<Page<Complaint>>('GET', '/users/me/complaints', { token: ann.token });
    expect(mine.status).toBe(200);
    expect(mine.json.items[0]).toEqual({
      id: r.json.id,
      messageId: s.answer.id,
      category: 'harmful',
      description: '建议不安全',
      status: 'open',
      resolution: null,
      createdAt: r.json.createdAt,
      answerBy: r.json.answerBy,
      resolvedAt: null,
    });

    const open = await h.call<Page<AdminComplaint>>('GET', '/logs/complaints?status=open', {
      token: admin.token,
    });
    expect(open.status).toBe(200);
    expect(open.json.items).toContainEqual(expect.objectContaining({ id: r.json.id, userId: ann.userId }));

    const answered = await h.call<AdminComplaint>('PATCH', `/logs/complaints/${r.json.id}`, {
      token: admin.token,
      body: { status: 'resolved', resolution: '已核实并优化回答策略。' },
    });
    expect(answered.status).toBe(200);
    expect(answered.json).toMatchObject({ id: r.json.id, status: 'resolved', userId: ann.userId });

    const after = await h.call<Page<Complaint>>('GET', '/users/me/complaints', { token: ann.token });
    expect(after.json.items[0]).toMatchObject({
      status: 'resolved',
      resolution: '已核实并优化回答策略。',
      resolvedAt: expect.any(String),
    });
    const stillOpen = await h.call<Page<AdminComplaint>>('GET', '/logs/complaints?status=open', {
      token: admin.token,
    });
    expect(stillOpen.json.items.map((c) => c.id)).not.toContain(r.json.id);

    const rows = await auditOf(r.json.id);
    expect(rows.map((a) => [a.action, a.actorId])).toEqual([
      ['complaint.create', ann.userId],
      ['complaint.resolve', admin.userId],
    ]);
    expect(rows[1]?.meta).toEqual({ status: 'resolved', late: false });
    // The audit log keeps categories and outcomes, never the user's or the admin's words.
    expect(JSON.stringify(rows)).not.toContain('建议不安全');
    expect(JSON.stringify(rows)).not.toContain('已核实');

    // Answered once: a second answer would silently change what the user was told.
    const again = await h.call<AdminComplaint>('PATCH', `/logs/complaints/${r.json.id}`, {
      token: admin.token,
      body: { status: 'rejected', resolution: '改口' },
    });
    expect(again.status).toBe(409);
    expect(await auditOf(r.json.id)).toHaveLength(2);
  });

  it('takes a complaint about the service itself (no message)', async () => {
    const r = await file(ann, { category: 'other', description: '希望增加人工客服' });
    expect(r.status).toBe(201);
    const [row] = await h.db.db.select().from(complaints).where(eq(complaints.id, r.json.id));
    expect(row?.messageId).toBeNull();
  });

  it('another user’s message, or an unknown one, is 404 and files nothing', async () => {
    const s = await seedTurns(bob);
    const before = (await h.call<Page<Complaint>>('GET', '/users/me/complaints', { token: ann.token })).json
      .items.length;
    for (const messageId of [s.answer.id, 'no-such-message']) {
      const r = await file(ann, { messageId, category: 'privacy', description: '别人的消息' });
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    expect(
      (await h.call<Page<Complaint>>('GET', '/users/me/complaints', { token: ann.token })).json.items,
    ).toHaveLength(before);
  });

  it('refuses bad input with 400', async () => {
    for (const body of [
      { category: 'rude', description: 'x' },
      { category: 'other', description: '   ' },
      { category: 'other', description: '长'.repeat(1001) },
      { category: 'other', description: 'x', status: 'resolved' },
    ]) {
      expect((await file(ann, body)).status).toBe(400);
    }
    expect((await h.call<Page<Complaint>>('GET', '/users/me/complaints')).status).toBe(401);
  });

  it('the admin routes answer 403 to a non-admin and 404 for an unknown complaint', async () => {
    const mine = await file(bob, { category: 'other', description: '测试' });
    expect((await h.call('GET', '/logs/complaints', { token: bob.token })).status).toBe(403);
    const patch = await h.call<AdminComplaint>('PATCH', `/logs/complaints/${mine.json.id}`, {
      token: bob.token,
      body: { status: 'resolved', resolution: '自己批准' },
    });
    expect(patch.status).toBe(403);
    const [row] = await h.db.db.select().from(complaints).where(eq(complaints.id, mine.json.id));
    expect(row?.status).toBe('open');
    const unknown = await h.call('PATCH', '/logs/complaints/no-such-complaint', {
      token: admin.token,
      body: { status: 'rejected', resolution: '无' },
    });
    expect(unknown.status).toBe(404);
  });

  it('pages newest first with a cursor', async () => {
    const u = await h.login('cmp-pager');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await file(u, { category: 'other', description: `第${i}条` })).json.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await h.call<Page<AdminComplaint>>('GET', `/logs/complaints?limit=1${q}`, {
        token: admin.token,
      });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.json.items.map((c) => c.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    // Newest first, each once: the three just filed lead.
    expect(seen.slice(0, 3)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expect(
      (await h.call<Page<AdminComplaint>>('GET', '/logs/complaints?cursor=bogus', { token: admin.token }))
        .status,
    ).toBe(400);
  });

  it('outlives the message and its conversation (reference cleared); goes with the account', async () => {
    const u = await h.login('cmp-leaver');
    const s = await seedTurns(u);
    const r = await file(u, { messageId: s.answer.id, category: 'harmful', description: '有害' });
    expect((await h.call('DELETE', `/conversations/${s.conv.id}`, { token: u.token })).status).toBe(204);
    const kept = await h.call<Page<Complaint>>('GET', '/users/me/complaints', { token: u.token });
    expect(kept.json.items).toEqual([
      expect.objectContaining({ id: r.json.id, messageId: null, status: 'open' }),
    ]);

    expect((await h.call('DELETE', '/users/me', { token: u.token })).status).toBe(204);
    expect(await h.db.db.select().from(complaints).where(eq(complaints.userId, u.userId))).toEqual([]);
    // The record that it was filed stays, under the pseudonymous id only.
    expect((await auditOf(r.json.id)).map((a) => a.action)).toEqual(['complaint.create']);
  });
});
