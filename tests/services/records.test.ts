// Lab reports end to end on PostgreSQL, the local object store and the local model stand-in:
// extraction (a report, not a report, broken JSON, a 500), nothing stored on failure, ownership,
// the list, delete, and the trend query.
import { eq } from 'drizzle-orm';
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  CreateLabReportRequest,
  ErrorEnvelope,
  Indicator,
  LabReport,
  Member,
  Page,
} from '../../client/index.js';
import { type MockLlm, SAMPLE_LAB_REPORT, startMockLlm } from '../../dev/mock-llm/index.js';
import type { Db } from '../../lib/db/index.js';
import { files, labReports, labResults, usageDaily } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';
import { seedFile } from '../helpers/user-data.js';

type U = { token: string; userId: string };

let h: Harness;
let mock: MockLlm;
let s3: TestStorage;
let db: Db;
let alice: U;
let bob: U;

beforeAll(async () => {
  mock = await startMockLlm();
  s3 = await startTestStorage();
  h = await createHarness({
    db: 'postgres',
    env: {
      ...s3.env,
      OPENAI_BASE_URL: mock.baseURL,
      OPENAI_API_KEY: 'test',
      VISION_MODEL: 'mock-vision',
      LLM_MAX_RETRIES: '0',
    },
  });
  db = await h.rt.db();
  alice = await h.user('rec-alice');
  bob = await h.user('rec-bob');
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const image = async (u: U) => (await seedFile(h, u.userId, { purpose: 'chat-image' })).id;
/** T: the report (201), or the ErrorEnvelope of a refusal. */
const read = <T = LabReport>(u: U, body: CreateLabReportRequest) =>
  h.call<T>('POST', '/records/lab-reports', { token: u.token, body });
const reportsOf = async (userId: string) => db.select().from(labReports).where(eq(labReports.userId, userId));
/** What the model answers: its items as it writes them (unchecked by the test). */
const report = (takenAt: string, items: Record<string, unknown>[]) =>
  JSON.stringify({ isLabReport: true, takenAt, institution: '某医院', items });

describe('POST /records/lab-reports against the stand-in', () => {
  it('valid JSON: stored with parsed values, ranges, flags and codes; the model was asked for a JSON object with the images', async () => {
    const a = await image(alice);
    const b = await image(alice);
    const r = await read(alice, { imageIds: [a, b] });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      id: expect.any(String),
      memberId: null,
      takenAt: '2026-11-20',
      institution: '模拟医院检验科',
      imageIds: [a, b],
      createdAt: expect.any(String),
    });
    expect(r.json.items).toHaveLength(SAMPLE_LAB_REPORT.items.length);
    expect(r.json.items[0]).toEqual({
      name: '葡萄糖',
      code: 'GLU',
      value: 6.8,
      valueText: '6.8↑',
      unit: 'mmol/L',
      referenceRange: { low: 3.9, high: 6.1, text: '3.9-6.1' },
      flag: 'high',
    });
    expect(r.json.items[4]).toMatchObject({ code: 'HDL-C', referenceRange: { low: 1.04, high: null } });

    expect(mock.requests).toHaveLength(1);
    const sent = mock.requests[0]?.body as ChatCompletionCreateParams;
    expect(sent.model).toBe('mock-vision');
    expect(sent.response_format).toEqual({ type: 'json_object' });
    expect(sent.stream).toBeFalsy();
    const parts = sent.messages.at(-1)?.content as ChatCompletionContentPart[];
    expect(parts.filter((p) => p.type === 'image_url')).toHaveLength(2);

    // Stored: the report, its values in order, the images tied to it, the usage counted.
    const [row] = await db.select().from(labReports).where(eq(labReports.id, r.json.id));
    expect(row?.userId).toBe(alice.userId);
    const values = await db.select().from(labResults).where(eq(labResults.reportId, r.json.id));
    expect(values).toHaveLength(SAMPLE_LAB_REPORT.items.length);
    const linked = await db.select().from(files).where(eq(files.labReportId, r.json.id));
    expect(linked.map((f) => f.id).sort()).toEqual([a, b].sort());
    const usage = await db.select().from(usageDaily).where(eq(usageDaily.userId, alice.userId));
    expect(usage[0]?.requests).toBeGreaterThan(0);

    // An image read into a report cannot be read again, nor sent into a chat.
    const again = await read(alice, { imageIds: [a] });
    expect(again.status).toBe(422);
    const chat = await h.call('POST', '/vision-chat?stream=false', {
      token: alice.token,
      body: { content: '这个正常吗', imageIds: [a] },
    });
    expect(chat.status).toBe(422);
    expect(mock.requests).toHaveLength(1);
  });

  it('not a lab report: 422 and nothing stored', async () => {
    const before = (await reportsOf(alice.userId)).length;
    mock.enqueue({ json: 'notreport' });
    const img = await image(alice);
    const r = await read<ErrorEnvelope>(alice, { imageIds: [img] });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('UNPROCESSABLE');
    expect((await reportsOf(alice.userId)).length).toBe(before);
    const [f] = await db.select().from(files).where(eq(files.id, img));
    expect(f?.labReportId).toBeNull();
  });

  it('broken JSON: 502 and nothing stored', async () => {
    const before = (await reportsOf(alice.userId)).length;
    mock.enqueue({ json: 'broken' });
    const r = await read<ErrorEnvelope>(alice, { imageIds: [await image(alice)] });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('UPSTREAM_ERROR');
    expect((await reportsOf(alice.userId)).length).toBe(before);
  });

  it('an answer outside the schema (a string where a list goes): 502', async () => {
    mock.enqueue({ reply: JSON.stringify({ isLabReport: true, items: 'GLU 6.8' }) });
    const r = await read(alice, { imageIds: [await image(alice)] });
    expect(r.status).toBe(502);
  });

  it('the model answers 500: 502 and nothing stored', async () => {
    const before = (await reportsOf(alice.userId)).length;
    mock.enqueue({ status: 500 });
    const r = await read<ErrorEnvelope>(alice, { imageIds: [await image(alice)] });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('UPSTREAM_ERROR');
    expect((await reportsOf(alice.userId)).length).toBe(before);
  });

  it('checks the images and member before the model: another user’s is 404, a pending one 422', async () => {
    const bobs = await image(bob);
    expect((await read(alice, { imageIds: [bobs] })).status).toBe(404);
    const pending = (await seedFile(h, alice.userId, { purpose: 'chat-image', status: 'pending' })).id;
    expect((await read(alice, { imageIds: [pending] })).status).toBe(422);
    const m = await h.call<Member>('POST', '/users/me/members', {
      token: bob.token,
      body: { name: '爸爸', relation: 'parent' },
    });
    expect((await read(alice, { imageIds: [await image(alice)], memberId: m.json.id })).status).toBe(404);
    expect((await read(alice, { imageIds: [] })).status).toBe(400);
    expect(mock.requests).toHaveLength(0);
  });
});

describe('reading, listing, deleting, trends', () => {
  let carol: U;
  let kidId: string;
  const ids: string[] = [];
  beforeAll(async () => {
    carol = await h.user('rec-carol');
    const kid = await h.call<Member>('POST', '/users/me/members', {
      token: carol.token,
      body: { name: '儿子', relation: 'child', gender: 'male', birthYear: 2015, guardianConsent: true },
    });
    kidId = kid.json.id;
    // Three of Carol's own reports, stored out of date order, and one of her son's.
    const glu = (v: string, date: string, extra: Record<string, unknown>[] = []) =>
      report(date, [
        {
          name: '空腹血糖',
          code: null,
          valueText: v,
          unit: 'mmol/L',
          referenceRangeText: '3.9～6.1',
          flag: null,
        },
        ...extra,
      ]);
    mock.enqueue(
      {
        reply: glu('7.2', '2026-09-01', [
          { name: '谷丙转氨酶', valueText: '30', unit: 'U/L', referenceRangeText: '9-50' },
        ]),
      },
      { reply: glu('5.4', '2026-03-15') },
      { reply: glu('6.3', '2026-06-10') },
      { reply: glu('4.8', '2026-05-01') },
    );
    for (let i = 0; i < 3; i++) {
      const r = await read(carol, { imageIds: [await image(carol)] });
      expect(r.status).toBe(201);
      ids.push(r.json.id);
    }
    const k = await read(carol, { imageIds: [await image(carol)], memberId: kidId });
    expect(k.status).toBe(201);
    ids.push(k.json.id);
  });

  it('lists newest first with a cursor; a member’s separately', async () => {
    const p1 = await h.call<Page<LabReport>>('GET', '/records/lab-reports?limit=2', { token: carol.token });
    expect(p1.status).toBe(200);
    expect(p1.json.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(p1.json.nextCursor).toEqual(expect.any(String));
    const p2 = await h.call<Page<LabReport>>(
      'GET',
      `/records/lab-reports?limit=2&cursor=${p1.json.nextCursor}`,
      {
        token: carol.token,
      },
    );
    expect(p2.json.items.map((r) => r.id)).toEqual([ids[0]]);
    expect(p2.json.nextCursor).toBeNull();
    const kids = await h.call<Page<LabReport>>('GET', `/records/lab-reports?memberId=${kidId}`, {
      token: carol.token,
    });
    expect(kids.json.items.map((r) => r.id)).toEqual([ids[3]]);
    expect(kids.json.items[0].memberId).toBe(kidId);
    expect((await h.call('GET', '/records/lab-reports?cursor=nonsense', { token: carol.token })).status).toBe(
      400,
    );
  });

  it('another user’s report or member is 404 on read, list, trend and delete', async () => {
    const id = ids[0] ?? '';
    expect((await h.call('GET', `/records/lab-reports/${id}`, { token: carol.token })).status).toBe(200);
    expect((await h.call('GET', `/records/lab-reports/${id}`, { token: bob.token })).status).toBe(404);
    expect((await h.call('DELETE', `/records/lab-reports/${id}`, { token: bob.token })).status).toBe(404);
    expect((await h.call('GET', `/records/lab-reports?memberId=${kidId}`, { token: bob.token })).status).toBe(
      404,
    );
    expect((await h.call('GET', `/records/indicators?memberId=${kidId}`, { token: bob.token })).status).toBe(
      404,
    );
    expect(
      (await h.call<Page<LabReport>>('GET', '/records/lab-reports', { token: bob.token })).json.items,
    ).toEqual([]);
    // Still there for Carol.
    expect((await h.call('GET', `/records/lab-reports/${id}`, { token: carol.token })).status).toBe(200);
  });

  it('each indicator over time, oldest first by the report’s date, per person', async () => {
    const r = await h.call<{ items: Indicator[] }>('GET', '/records/indicators', { token: carol.token });
    expect(r.status).toBe(200);
    const glu = r.json.items.find((i) => i.code === 'GLU');
    expect(glu).toMatchObject({ code: 'GLU', name: '空腹血糖', unit: 'mmol/L' });
    expect(glu?.points).toEqual([
      { at: '2026-03-15', value: 5.4, valueText: '5.4', flag: 'normal', reportId: ids[1] },
      { at: '2026-06-10', value: 6.3, valueText: '6.3', flag: 'high', reportId: ids[2] },
      { at: '2026-09-01', value: 7.2, valueText: '7.2', flag: 'high', reportId: ids[0] },
    ]);
    const alt = r.json.items.find((i) => i.code === 'ALT');
    expect(alt?.points.map((p) => p.value)).toEqual([30]);

    const only = await h.call<{ items: Indicator[] }>('GET', '/records/indicators?code=ALT', {
      token: carol.token,
    });
    expect(only.json.items.map((i) => i.code)).toEqual(['ALT']);
    // The son's values are his own series.
    const kid = await h.call<{ items: Indicator[] }>(
      'GET',
      `/records/indicators?memberId=${kidId}&code=GLU`,
      { token: carol.token },
    );
    expect(kid.json.items[0].points.map((p) => p.value)).toEqual([4.8]);
  });

  it('deleting a report removes its values, images and objects; it leaves the trend', async () => {
    const id = ids[2] ?? '';
    const [img] = await db.select().from(files).where(eq(files.labReportId, id));
    expect(img).toBeDefined();
    expect((await h.call('DELETE', `/records/lab-reports/${id}`, { token: carol.token })).status).toBe(204);
    expect((await h.call('GET', `/records/lab-reports/${id}`, { token: carol.token })).status).toBe(404);
    expect(await db.select().from(labResults).where(eq(labResults.reportId, id))).toEqual([]);
    const [after] = await db
      .select()
      .from(files)
      .where(eq(files.id, img?.id ?? ''));
    expect(after?.status).toBe('deleted');
    expect(await (await h.rt.storage()).getBytes(img?.key ?? '', 1e6)).toBeNull();
    const r = await h.call<{ items: Indicator[] }>('GET', '/records/indicators?code=GLU', {
      token: carol.token,
    });
    expect(r.json.items[0].points.map((p) => p.value)).toEqual([5.4, 7.2]);
  });
});
