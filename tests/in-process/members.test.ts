// Family members: CRUD, the guardian's consent for a minor, the 10-member cap, ownership (another
// user's member is 404 everywhere it can be named), the model told about the member instead of
// the account holder, and deleting a member (or the account) taking its conversations and records.
import { eq, inArray } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  ChatResult,
  Conversation,
  ErrorEnvelope,
  LabReport,
  Member,
  UserExport,
} from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { readTurnStart } from '../../lib/chat/start.js';
import {
  auditLog,
  conversations,
  familyMembers,
  files,
  labReports,
  labResults,
  messages,
} from '../../lib/db/schema.js';
import { mayBeUnder14 } from '../../lib/members/service.js';
import { buildSystemPrompt } from '../../lib/safety/prompt.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';
import { seedFile } from '../helpers/user-data.js';

type U = { token: string; userId: string };
/** The export, with the lab reports' items named (the contract leaves its rows open). */
type Export = Omit<UserExport, 'labReports'> & {
  labReports: (Record<string, unknown> & { items: Record<string, unknown>[] })[];
};

let h: Harness;
let mock: MockLlm;
let s3: TestStorage;
// 2026-12-04 in Beijing: born 2012 may still be 13.
const NOW = new Date('2026-12-04T12:00:00Z');

beforeAll(async () => {
  mock = await startMockLlm();
  s3 = await startTestStorage();
  h = await createHarness({
    env: { ...s3.env, OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'test', LLM_MAX_RETRIES: '0' },
    overrides: { now: () => NOW },
  });
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const PROFILE = { allergies: ['青霉素'], conditions: ['哮喘'], medications: [] };
/** T: the member (201), or the ErrorEnvelope of a refusal; the body may be deliberately invalid. */
const addMember = <T = Member>(u: U, body: Record<string, unknown>) =>
  h.call<T>('POST', '/users/me/members', { token: u.token, body });
const systemPromptSent = (): string => {
  const body = mock.requests.at(-1)?.body as ChatCompletionCreateParams;
  return body.messages[0].content as string;
};

describe('members', () => {
  let alice: U;
  let bob: U;
  beforeAll(async () => {
    alice = await h.user('mem-alice');
    bob = await h.user('mem-bob');
  });

  it('creates, lists, updates and answers the contract’s shape', async () => {
    const r = await addMember(alice, {
      name: '爸爸',
      relation: 'parent',
      gender: 'male',
      birthYear: 1955,
      healthProfile: { allergies: [], conditions: ['高血压'], medications: ['氨氯地平'] },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      id: expect.any(String),
      name: '爸爸',
      relation: 'parent',
      gender: 'male',
      birthYear: 1955,
      healthProfile: { conditions: ['高血压'] },
      guardianConsent: null,
      createdAt: expect.any(String),
    });
    const p = await h.call<Member>('PATCH', `/users/me/members/${r.json.id}`, {
      token: alice.token,
      body: { name: '父亲', healthProfile: null },
    });
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ name: '父亲', relation: 'parent', birthYear: 1955, healthProfile: null });
    const list = await h.call<{ items: Member[] }>('GET', '/users/me/members', { token: alice.token });
    expect(list.json.items.map((m) => m.id)).toContain(r.json.id);
    // Bob sees none of Alice's.
    const bobs = await h.call<{ items: Member[] }>('GET', '/users/me/members', { token: bob.token });
    expect(bobs.json.items).toEqual([]);
  });

  it('refuses bad input: unknown relation, future birth year, unknown fields', async () => {
    expect((await addMember(alice, { name: '某人', relation: 'cousin' })).status).toBe(400);
    expect((await addMember(alice, { name: '某人', relation: 'other', birthYear: 2027 })).status).toBe(400);
    expect((await addMember(alice, { name: '某人', relation: 'other', userId: bob.userId })).status).toBe(
      400,
    );
    expect((await addMember(alice, { name: '', relation: 'other' })).status).toBe(400);
  });

  it('a member who may be under 14 needs the guardian’s consent, recorded with version and time', async () => {
    expect(mayBeUnder14(2012, NOW)).toBe(true);
    expect(mayBeUnder14(2011, NOW)).toBe(false);
    // Beijing is already in 2027 while UTC is still in 2026: 2013 is then 14 years ago.
    expect(mayBeUnder14(2012, new Date('2026-12-31T17:00:00Z'))).toBe(false);

    const refused = await addMember<ErrorEnvelope>(alice, {
      name: '小明',
      relation: 'child',
      birthYear: 2018,
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.details).toEqual([{ path: 'guardianConsent', code: 'required' }]);
    const withFalse = await addMember(alice, {
      name: '小明',
      relation: 'child',
      birthYear: 2018,
      guardianConsent: false,
    });
    expect(withFalse.status).toBe(422);

    const ok = await addMember(alice, {
      name: '小明',
      relation: 'child',
      birthYear: 2018,
      guardianConsent: true,
    });
    expect(ok.status).toBe(201);
    expect(ok.json.guardianConsent).toEqual({ version: h.rt.config.CONSENT_VERSION, at: NOW.toISOString() });
    const [row] = await h.db.db.select().from(familyMembers).where(eq(familyMembers.id, ok.json.id));
    expect(row?.guardianConsentVersion).toBe(h.rt.config.CONSENT_VERSION);
    const audited = await h.db.db.select().from(auditLog).where(eq(auditLog.targetId, ok.json.id));
    expect(audited.map((a) => a.action)).toEqual(['member.guardian_consent']);

    // An adult turned into a child by a patch needs it too.
    const adult = await addMember(alice, { name: '表弟', relation: 'other', birthYear: 1990 });
    const path = `/users/me/members/${adult.json.id}`;
    expect((await h.call('PATCH', path, { token: alice.token, body: { birthYear: 2016 } })).status).toBe(422);
    const patched = await h.call<Member>('PATCH', path, {
      token: alice.token,
      body: { birthYear: 2016, guardianConsent: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.json.guardianConsent).not.toBeNull();
  });

  it('another user’s member is 404: patch, delete, a conversation, a chat', async () => {
    const m = await addMember(alice, { name: '妈妈', relation: 'parent', birthYear: 1960 });
    const id = m.json.id;
    const p = await h.call('PATCH', `/users/me/members/${id}`, { token: bob.token, body: { name: 'x' } });
    expect(p.status).toBe(404);
    expect((await h.call('DELETE', `/users/me/members/${id}`, { token: bob.token })).status).toBe(404);
    expect((await h.call('DELETE', '/users/me/members/no-such-id', { token: alice.token })).status).toBe(404);
    const conv = await h.call('POST', '/conversations', { token: bob.token, body: { memberId: id } });
    expect(conv.status).toBe(404);
    const chat = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: bob.token,
      body: { content: '头疼怎么办', memberId: id },
    });
    expect(chat.status).toBe(404);
    expect(mock.requests).toHaveLength(0);
    const bobsStart = await readTurnStart(
      await h.rt.db(),
      { sub: bob.userId, sid: String(decodeJwt(bob.token).sid) },
      { memberId: id, historyMax: 0 },
      NOW,
    );
    expect(bobsStart.account?.id).toBe(bob.userId);
    expect(() => bobsStart.context()).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    // Still Alice's, unchanged.
    const list = await h.call<{ items: Member[] }>('GET', '/users/me/members', { token: alice.token });
    expect(list.json.items.find((x) => x.id === id)?.name).toBe('妈妈');
  });

  it('at most 10 members: the 11th is 409', async () => {
    const carol = await h.user('mem-carol');
    for (let i = 0; i < 10; i++) {
      expect((await addMember(carol, { name: `成员${i}`, relation: 'other' })).status).toBe(201);
    }
    const r = await addMember<ErrorEnvelope>(carol, { name: '第十一位', relation: 'other' });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('CONFLICT');
  });
});

describe('the model is told about the member', () => {
  let dana: U;
  beforeAll(async () => {
    dana = await h.user('ctx-dana');
    await h.call('PATCH', '/users/me', {
      token: dana.token,
      body: {
        gender: 'female',
        birthYear: 1990,
        healthProfile: { allergies: ['海鲜'], conditions: [], medications: [] },
      },
    });
  });

  it('without a member: the account holder’s age, gender and profile', async () => {
    mock.enqueue({ reply: '多喝水。' });
    const r = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '喉咙痛' },
    });
    expect(r.status).toBe(200);
    const prompt = systemPromptSent();
    expect(prompt).toContain('海鲜');
    expect(prompt).toContain('用户本人（年龄约36岁，性别女）');
    expect(prompt).not.toContain('青霉素');
  });

  it('a chat that starts a conversation for a child: the child’s age, gender and profile, and it sticks', async () => {
    const kid = await addMember(dana, {
      name: '豆豆',
      relation: 'child',
      gender: 'male',
      birthYear: 2021,
      healthProfile: PROFILE,
      guardianConsent: true,
    });
    mock.enqueue({ reply: '注意观察。' }, { reply: '继续观察。' });
    const r = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '孩子咳嗽两天了', memberId: kid.json.id },
    });
    expect(r.status).toBe(200);
    let prompt = systemPromptSent();
    expect(prompt).toContain('用户的孩子');
    expect(prompt).toContain('年龄约5岁');
    expect(prompt).toContain('性别男');
    expect(prompt).toContain('青霉素');
    expect(prompt).toContain('未成年人');
    expect(prompt).not.toContain('海鲜');
    const conv = await h.call<Conversation>('GET', `/conversations/${r.json.conversationId}`, {
      token: dana.token,
    });
    expect(conv.json.memberId).toBe(kid.json.id);

    // A follow-up in that conversation (no memberId given) is still about the child.
    const again = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '晚上咳得厉害', conversationId: r.json.conversationId },
    });
    expect(again.status).toBe(200);
    prompt = systemPromptSent();
    expect(prompt).toContain('青霉素');
    expect(prompt).not.toContain('海鲜');

    // Naming another person for that conversation is refused.
    const other = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '还咳嗽', conversationId: r.json.conversationId, memberId: 'someone-else' },
    });
    expect(other.status).toBe(422);
  });

  it('emergency guidance in a conversation about a member says whom it is about', async () => {
    const kid = await addMember(dana, {
      name: '乐乐',
      relation: 'child',
      birthYear: 2020,
      guardianConsent: true,
    });
    const r = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '孩子吞了遥控器里的纽扣电池', memberId: kid.json.id },
    });
    expect(r.json.assistantMessage.triage?.category).toBe('ingestion');
    expect(r.json.assistantMessage.content.startsWith('【紧急提示：孩子】')).toBe(true);
    const own = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '我胸口剧痛出冷汗' },
    });
    expect(own.json.assistantMessage.content.startsWith('【紧急提示】')).toBe(true);
  });

  it('POST /conversations with memberId, then chat in it: the member’s context', async () => {
    const dad = await addMember(dana, {
      name: '爸爸',
      relation: 'parent',
      gender: 'male',
      birthYear: 1950,
      healthProfile: { allergies: [], conditions: ['糖尿病'], medications: ['二甲双胍'] },
    });
    const c = await h.call<Conversation>('POST', '/conversations', {
      token: dana.token,
      body: { memberId: dad.json.id },
    });
    expect(c.status).toBe(201);
    expect(c.json.memberId).toBe(dad.json.id);
    mock.enqueue({ reply: '建议就医。' });
    await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: dana.token,
      body: { content: '血糖有点高', conversationId: c.json.id },
    });
    const prompt = systemPromptSent();
    expect(prompt).toContain('用户的父亲或母亲');
    expect(prompt).toContain('年龄约76岁');
    expect(prompt).toContain('二甲双胍');
    expect(prompt).toContain('老年人');
    expect(prompt).not.toContain('海鲜');
  });

  it('buildSystemPrompt keeps the holder’s wording without a member and only enums for the person', () => {
    const plain = buildSystemPrompt({ healthProfile: PROFILE, now: NOW });
    expect(plain).toContain('# 用户健康档案');
    expect(plain).not.toContain('# 咨询对象');
    const kid = buildSystemPrompt({
      healthProfile: PROFILE,
      person: { age: 3, gender: 'female', relation: 'child' },
      now: NOW,
    });
    expect(kid).toContain('# 咨询对象的健康档案');
    expect(kid).toContain('用户这次是在为用户的孩子咨询（年龄约3岁，性别女）');
  });
});

describe('deleting a member, deleting the account', () => {
  it('deleting a member deletes its conversations (messages, images, objects) and lab reports, not others', async () => {
    const erin = await h.user('del-erin');
    const kid = await addMember(erin, {
      name: '娃',
      relation: 'child',
      birthYear: 2020,
      guardianConsent: true,
    });
    const db = await h.rt.db();
    mock.enqueue({ reply: '好的。' }, { reply: '好的。' });
    const mine = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: erin.token,
      body: { content: '我头疼' },
    });
    const theirs = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: erin.token,
      body: { content: '孩子发烧', memberId: kid.json.id },
    });
    const image = await seedFile(h, erin.userId, {
      purpose: 'chat-image',
      conversationId: theirs.json.conversationId,
    });
    const reportImage = await seedFile(h, erin.userId, { purpose: 'chat-image' });
    const report = await h.call<LabReport>('POST', '/records/lab-reports', {
      token: erin.token,
      body: { imageIds: [reportImage.id], memberId: kid.json.id },
    });
    expect(report.status).toBe(201);
    const storage = await h.rt.storage();
    expect(await storage.getBytes(image.key, 1e6)).not.toBeNull();

    const r = await h.call('DELETE', `/users/me/members/${kid.json.id}`, { token: erin.token });
    expect(r.status).toBe(204);
    expect(await db.select().from(familyMembers).where(eq(familyMembers.id, kid.json.id))).toEqual([]);
    expect(
      await db.select().from(conversations).where(eq(conversations.id, theirs.json.conversationId)),
    ).toEqual([]);
    expect(
      await db.select().from(messages).where(eq(messages.conversationId, theirs.json.conversationId)),
    ).toEqual([]);
    expect(await db.select().from(labReports).where(eq(labReports.id, report.json.id))).toEqual([]);
    expect(await db.select().from(labResults).where(eq(labResults.reportId, report.json.id))).toEqual([]);
    const gone = await db
      .select()
      .from(files)
      .where(inArray(files.id, [image.id, reportImage.id]));
    expect(gone.map((f) => f.status)).toEqual(['deleted', 'deleted']);
    expect(await storage.getBytes(image.key, 1e6)).toBeNull();
    expect(await storage.getBytes(reportImage.key, 1e6)).toBeNull();
    // The account holder's own conversation stays.
    expect(
      (await h.call('GET', `/conversations/${mine.json.conversationId}`, { token: erin.token })).status,
    ).toBe(200);
  });

  it('the export holds members and lab reports; deleting the account removes them', async () => {
    const fay = await h.user('del-fay');
    const m = await addMember(fay, {
      name: '奶奶',
      relation: 'parent',
      birthYear: 1940,
      healthProfile: PROFILE,
    });
    const img = await seedFile(h, fay.userId, { purpose: 'chat-image' });
    const rep = await h.call<LabReport>('POST', '/records/lab-reports', {
      token: fay.token,
      body: { imageIds: [img.id], memberId: m.json.id },
    });
    expect(rep.status).toBe(201);
    const ex = await h.call<Export>('GET', '/users/me/export', { token: fay.token });
    expect(ex.status).toBe(200);
    expect(ex.json.members).toEqual([
      expect.objectContaining({ id: m.json.id, name: '奶奶', healthProfile: PROFILE }),
    ]);
    expect(ex.json.labReports).toHaveLength(1);
    expect(ex.json.labReports[0]).toMatchObject({
      id: rep.json.id,
      memberId: m.json.id,
      takenAt: '2026-11-20',
    });
    expect(ex.json.labReports[0].items[0]).toMatchObject({
      name: '葡萄糖',
      code: 'GLU',
      value: 6.8,
      flag: 'high',
    });

    const db = await h.rt.db();
    expect((await h.call('DELETE', '/users/me', { token: fay.token })).status).toBe(204);
    expect(await db.select().from(familyMembers).where(eq(familyMembers.userId, fay.userId))).toEqual([]);
    expect(await db.select().from(labReports).where(eq(labReports.userId, fay.userId))).toEqual([]);
    expect(await db.select().from(labResults).where(eq(labResults.userId, fay.userId))).toEqual([]);
    expect(await (await h.rt.storage()).getBytes(img.key, 1e6)).toBeNull();
  });
});
