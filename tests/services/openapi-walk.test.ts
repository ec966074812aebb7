// What the routes answer, against the served OpenAPI document: one walk through the mini-program
// client over real HTTP (real PostgreSQL, local S3, the local model server) visits every documented
// operation, area by area, with its happy paths and its refusals; every answer recorded on the way
// must validate against the schema the document gives for its route and status.
// The document itself: openapi-document.test.ts; the client's types: openapi-client-types.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  type ChatStreamResult,
  type Client,
  type Conversation,
  createClient,
  type LoginResponse,
  memoryTokenStore,
  type User,
} from '../../client/index.js';
import { fetchTransport } from '../../client/transports/fetch.js';
import type { MockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import { pngImage } from '../helpers/images.js';
import {
  isObject,
  type OpenApiDoc,
  operations,
  type Recorded,
  recordingFetch,
  responseValidator,
  servedDocument,
} from '../helpers/openapi.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let mock: MockLlm;
let server: LocalServer;
let doc: OpenApiDoc;

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_OPENIDS: 'dev:olga-admin' } });
  ({ mock, server } = stack);
  doc = await servedDocument(server.url);
});
afterAll(() => stack?.close());

describe('what the routes answer matches the document', () => {
  const recorded: Recorded[] = [];
  const client = (tokens = memoryTokenStore()): Client =>
    createClient({
      baseUrl: server.url,
      transport: fetchTransport(recordingFetch(server.url, recorded)),
      tokens,
    });
  /** A request outside the client (pages, cron), recorded like any answer. */
  const raw = (method: string, path: string, token?: string) =>
    recordingFetch(server.url, recorded)(`${server.url}/api/v1${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  /** The call must fail with this status; its envelope is recorded like any answer. */
  const refused = async (p: Promise<unknown>, status: number) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status });
  };

  // The walk, area by area: each step goes on from where the one before it left off (ann's session,
  // her conversation and its first answer, the admin's session).
  const tokens = memoryTokenStore();
  let ann: Client;
  let olga: Client;
  let login: LoginResponse;
  let admin: LoginResponse;
  let me: User;
  let conv: Conversation;
  let streamed: ChatStreamResult;
  let png: Buffer;
  beforeAll(() => {
    ann = client(tokens);
    olga = client();
  });

  it('anonymous: health, the document, the docs page; refused sign-ins and sessions', async () => {
    const anon = client();
    await anon.health();
    await raw('GET', '/openapi.json');
    await raw('GET', '/docs');
    await refused(anon.login('not-a-dev-code'), 401);
    await refused(anon.login(''), 400);
    await refused(anon.me(), 401);
    await refused(client(memoryTokenStore({ accessToken: 'x', refreshToken: 'short' })).refresh(), 400);
  });

  it('sign-in, refresh, consent and profile', async () => {
    login = await ann.login('dev:ann');
    await ann.refresh();
    me = await ann.me();
    await refused(ann.textChat({ content: '头疼' }), 403);
    await refused(
      ann.uploads.create({ filename: 'a.png', contentType: 'image/png', size: 10, purpose: 'chat-image' }),
      403,
    );
    await refused(ann.consents.record({ version: 'not-the-current-one', accepted: true }), 422);
    await ann.consents.record({ version: me.consent.currentVersion, accepted: true });
    await ann.consents.list();
    await ann.updateMe({
      gender: 'female',
      healthProfile: { allergies: [], conditions: ['高血压'], medications: [] },
    });
    await refused(ann.updateMe({ birthYear: 3000 }), 400);
  });

  it('conversations: create, list, read, archive, and their refusals', async () => {
    conv = await ann.conversations.create();
    await ann.conversations.list({ limit: 500 });
    await refused(ann.conversations.list({ cursor: '' }), 400);
    await ann.conversations.get(conv.id);
    await ann.conversations.update(conv.id, { archived: true });
    await ann.conversations.update(conv.id, { archived: false });
    await refused(ann.conversations.update(conv.id, {}), 400);
    await refused(ann.conversations.get('missing'), 404);
  });

  it('text chat: streamed, followed, stopped, idempotent, refused; warning signs; messages', async () => {
    mock.enqueue({ reply: '多休息。' }, { reply: '多喝水。' });
    streamed = await ann.textChat({ conversationId: conv.id, content: '头疼怎么办？' });
    // The answer after its request: followed from an offset, stopped (a finished one is answered as it is).
    const followed = await ann.followAnswer(conv.id, streamed.assistantMessageId, { after: 2 });
    expect(followed.text).toBe('息。');
    await refused(ann.followAnswer(conv.id, streamed.assistantMessageId, { after: 999 }), 400);
    await refused(ann.followAnswer(conv.id, streamed.userMessageId), 404);
    await ann.stopAnswer(conv.id, streamed.assistantMessageId);
    await refused(ann.stopAnswer(conv.id, 'missing'), 404);
    await ann.textChat(
      { conversationId: conv.id, content: '还需要注意什么？' },
      { stream: false, idempotencyKey: 'walk-0001' },
    );
    await refused(
      ann.textChat(
        { conversationId: conv.id, content: '另一个问题' },
        { stream: false, idempotencyKey: 'walk-0001' },
      ),
      422,
    );
    await refused(ann.textChat({ content: '   ' }), 400);
    await refused(ann.textChat({ conversationId: 'missing', content: '头疼' }), 404);
    // Warning signs: the fixed guidance, with its triage, and no model call.
    const emergency = await ann.textChat({ content: '胸口剧痛、出冷汗' }, { stream: false });
    expect(emergency.assistantMessage.triage?.level).toBe('emergency');
    await ann.conversations.messages(conv.id, { limit: 1 });
    await refused(ann.conversations.messages('missing'), 404);
  });

  it('steering: versions, feedback, and regenerating the last answer', async () => {
    // Versions and feedback of the last answer.
    const page = await ann.conversations.messages(conv.id);
    const answer = page.items.at(-1);
    const question = page.items.at(-2);
    if (!answer || !question) throw new Error('no messages');
    expect((await ann.versions(conv.id, answer.id)).items.map((m) => m.id)).toEqual([answer.id]);
    await refused(ann.versions(conv.id, question.id), 422);
    await refused(ann.versions(conv.id, 'missing'), 404);
    expect(
      await ann.feedback(conv.id, answer.id, { rating: 'down', reason: 'unhelpful', comment: '太笼统' }),
    ).toMatchObject({ rating: 'down', reason: 'unhelpful', comment: '太笼统' });
    await refused(ann.feedback(conv.id, question.id, { rating: 'up' }), 422);
    await refused(ann.feedback(conv.id, question.id, null), 422);
    await refused(ann.feedback(conv.id, 'missing', null), 404);
    expect((await ann.conversations.messages(conv.id)).items.at(-1)?.feedback).toEqual({
      rating: 'down',
      reason: 'unhelpful',
    });
    expect(await ann.feedback(conv.id, answer.id, null)).toBeNull();
    await ann.feedback(conv.id, answer.id, { rating: 'up' });
    // Regenerate the last answer: as JSON, then streamed; an earlier version or a question cannot be.
    mock.enqueue({ reply: '换个说法：多休息。' }, { reply: '再换一个说法。' });
    const again = await ann.regenerate(conv.id, answer.id, { stream: false });
    expect(again.assistantMessage).toMatchObject({ version: 2, versions: 2, content: '换个说法：多休息。' });
    expect(await ann.regenerate(conv.id, again.assistantMessage.id)).toMatchObject({
      text: '再换一个说法。',
    });
    await refused(ann.regenerate(conv.id, answer.id, { stream: false }), 409);
    await refused(ann.regenerate(conv.id, question.id, { stream: false }), 422);
  });

  it('uploads and vision chat', async () => {
    png = await pngImage(8, 8);
    const image = await ann.uploadImage(new Blob([new Uint8Array(png)], { type: 'image/png' }));
    await ann.uploads.get(image.id);
    const pending = await ann.uploads.create({
      filename: 'b.png',
      contentType: 'image/png',
      size: 100,
      purpose: 'chat-image',
    });
    await refused(ann.uploads.complete(pending.fileId), 409);
    await refused(
      ann.uploads.create({
        filename: 'a.pdf',
        contentType: 'application/pdf',
        size: 10,
        purpose: 'chat-image',
      }),
      415,
    );
    await refused(
      ann.uploads.create({
        filename: 'a.png',
        contentType: 'image/png',
        size: 1024 ** 3,
        purpose: 'chat-image',
      }),
      413,
    );
    mock.enqueue({ reply: '看起来是轻度皮疹。' });
    await ann.visionChat(
      { conversationId: conv.id, content: '这是什么？', imageIds: [image.id] },
      { stream: false },
    );
    mock.enqueue({ reply: '建议观察。' });
    await ann.visionChat({ conversationId: conv.id, content: '要紧吗？', imageIds: [image.id] });
    await refused(ann.visionChat({ content: '这是什么？', imageIds: [] }), 400);
    await refused(ann.visionChat({ content: '这是什么？', imageIds: ['missing'] }), 404);
    await ann.uploads.delete(pending.fileId);
    await refused(ann.uploads.get(pending.fileId), 404);
    // Deleting again is allowed (204); an id that was never the caller's is not.
    await ann.uploads.delete(pending.fileId);
    await refused(ann.uploads.delete('missing'), 404);
  });

  it('family members and lab reports', async () => {
    const kid = await ann.members.create({
      name: '豆豆',
      relation: 'child',
      birthYear: 2020,
      guardianConsent: true,
    });
    await refused(ann.members.create({ name: '豆豆', relation: 'child', birthYear: 2020 }), 422);
    await ann.members.list();
    await ann.members.update(kid.id, {
      healthProfile: { allergies: ['花生'], conditions: [], medications: [] },
    });
    await refused(ann.members.update('missing', { name: '某人' }), 404);
    await ann.conversations.create({ memberId: kid.id });
    const photo = () => ann.uploadImage(new Blob([new Uint8Array(png)], { type: 'image/png' }));
    const report = await ann.records.readLabReport({ imageIds: [(await photo()).id], memberId: kid.id });
    const notReport = await photo();
    mock.enqueue({ json: 'notreport' }, { json: 'broken' });
    await refused(ann.records.readLabReport({ imageIds: [notReport.id] }), 422);
    await refused(ann.records.readLabReport({ imageIds: [notReport.id] }), 502);
    await refused(ann.records.readLabReport({ imageIds: ['missing'] }), 404);
    await ann.records.listLabReports({ memberId: kid.id, limit: 5 });
    await ann.records.getLabReport(report.id);
    await refused(ann.records.getLabReport('missing'), 404);
    await ann.records.indicators({ memberId: kid.id, code: 'GLU' });
    await refused(ann.records.indicators({ memberId: 'missing' }), 404);
    await ann.records.deleteLabReport(report.id);
    await refused(ann.records.deleteLabReport(report.id), 404);
    await ann.members.delete(kid.id);
    await refused(ann.members.delete(kid.id), 404);
  });

  it('client logs, and the admin log and audit lists', async () => {
    await ann.logs.post({ entries: [{ level: 'info', message: 'opened chat' }] });
    await refused(ann.logs.post({ entries: [] }), 400);
    await refused(ann.logs.list(), 403);
    await refused(ann.logs.audit(), 403);
    admin = await olga.login('dev:olga-admin');
    await olga.logs.list({ limit: 5 });
    await olga.logs.list({ userId: me.id, level: 'info' });
    await olga.logs.audit({ actorId: me.id });
  });

  it('complaints, the feedback and usage reports, the retention cron', async () => {
    // The user files and follows a complaint; only admins list and answer them.
    const filed = await ann.complaints.file({
      messageId: streamed.assistantMessageId,
      category: 'inaccurate',
      description: '回答不够准确',
    });
    await ann.complaints.list();
    await refused(ann.complaints.file({ messageId: 'missing', category: 'other', description: 'x' }), 404);
    await refused(ann.complaints.file({ category: 'other', description: '' }), 400);
    await refused(ann.complaints.adminList(), 403);
    await refused(ann.complaints.answer(filed.id, { status: 'resolved', resolution: '自己批准' }), 403);
    await olga.complaints.adminList({ status: 'open', limit: 5 });
    await olga.complaints.answer(filed.id, { status: 'resolved', resolution: '已核实处理' });
    await refused(olga.complaints.answer(filed.id, { status: 'rejected', resolution: '改口' }), 409);
    await refused(olga.complaints.answer('missing', { status: 'rejected', resolution: '无' }), 404);
    await refused(ann.feedbackLog(), 403);
    expect((await olga.feedbackLog({ rating: 'up', limit: 5 })).items.map((i) => i.model)).toEqual([
      'mock-chat',
    ]);
    await refused(olga.feedbackLog({ since: 'yesterday' }), 400);
    expect((await olga.usageReport({ groupBy: 'model' })).items.map((i) => i.model)).toContain('mock-chat');
    await olga.usageReport();
    await refused(olga.logs.list({ since: 'yesterday' }), 400);
    await raw('GET', '/logs/retention', admin.accessToken);
    await raw('GET', '/logs/retention', login.accessToken);
  });

  it('export, deletion and sign-out', async () => {
    await ann.exportMe();
    await ann.conversations.delete(conv.id);
    await refused(ann.conversations.delete(conv.id), 404);
    const stale = await tokens.get();
    await ann.logout();
    await ann.login('dev:ann');
    await ann.deleteMe();
    await refused(client(memoryTokenStore(stale)).me(), 401);
  });

  it('every answer recorded on the way validates against its documented schema', () => {
    const validator = responseValidator(doc);
    expect(recorded.length).toBeGreaterThan(60);
    expect(recorded.flatMap((r) => validator.check(r))).toEqual([]);
  });

  it('the walk reached every documented operation', () => {
    const validator = responseValidator(doc);
    const hit = new Set(recorded.map((r) => `${r.method.toLowerCase()} ${validator.templateFor(r.path)}`));
    expect(operations(doc).filter((op) => !hit.has(op))).toEqual([]);
  });

  describe('the validator is not a rubber stamp', () => {
    const meAnswer = () => {
      const me = recorded.find(
        (r) => r.method === 'GET' && r.path === '/api/v1/users/me' && r.status === 200,
      );
      expect(me).toBeDefined();
      return isObject(me?.body) ? me.body : {};
    };
    const asMe = (body: unknown): Recorded => ({
      method: 'GET',
      path: '/api/v1/users/me',
      status: 200,
      contentType: 'application/json',
      body,
    });
    const base = { method: 'GET', path: '/api/v1/conversations/abc', contentType: 'application/json' };

    it('passes a real GET /users/me answer', () => {
      expect(responseValidator(doc).check(asMe(meAnswer()))).toEqual([]);
    });

    it('fails that answer without a required field, with a value outside its enum, of the wrong type', () => {
      const { consent: _dropped, ...withoutConsent } = meAnswer();
      const problems = responseValidator(doc)
        .check(asMe({ ...withoutConsent, role: 'root', birthYear: '1990' }))
        .join('\n');
      expect(problems).toMatch(/consent/);
      expect(problems).toMatch(/\/role/);
      expect(problems).toMatch(/\/birthYear/);
    });

    it('fails an error envelope with a code outside the contract', () => {
      const body = { error: { code: 'GONE', message: 'x', requestId: 'r' } };
      expect(responseValidator(doc).check({ ...base, status: 404, body })).not.toEqual([]);
    });

    it('fails a status the route does not document', () => {
      expect(responseValidator(doc).check({ ...base, status: 418, body: {} })[0]).toMatch(
        /status not documented/,
      );
    });

    it('fails a path that is not in the document', () => {
      expect(
        responseValidator(doc).check({ ...base, path: '/api/v1/nowhere', status: 200, body: {} })[0],
      ).toMatch(/not in the document/);
    });
  });
});
