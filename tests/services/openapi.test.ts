// The served OpenAPI document against what the functions really do:
//  (a) every route mounted in every function is documented, and the document is sound (3.1.0,
//      every $ref resolves, every schema compiles under strict JSON Schema 2020-12);
//  (b) what the routes answer, hit through the mini-program client, matches the document;
//  (c) the client's hand-written types (client/types.ts) match the server's zod schemas and the document.
import type { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { loaders } from '../../api/_functions.js';
import type { ComplaintSchema, NewComplaintSchema } from '../../api/_routes/complaints.js';
import type { MemberSchema } from '../../api/_routes/members.js';
import type { IndicatorSchema, LabReportSchema } from '../../api/v1/records.js';
import type { HealthProfileSchema, UserSchema } from '../../api/v1/users.js';
import type { Complaint, NewComplaint } from '../../client/complaints.js';
import {
  type Aigc,
  type AnswerStreamQuery,
  ApiError,
  type AuditEntry,
  type ChatDone,
  type ChatErrorData,
  type ChatMeta,
  type ChatResult,
  type Client,
  type ClientLogEntry,
  type CompletedUpload,
  type Consent,
  type ConsentState,
  type Conversation,
  type CreateUploadRequest,
  createClient,
  ERROR_STATUS,
  type ErrorCode,
  type ErrorEnvelope,
  type Health,
  type HealthProfile,
  type Indicator,
  type LabReport,
  type ListAuditQuery,
  type ListConversationsQuery,
  type ListLogsQuery,
  type ListMessagesQuery,
  type LoginResponse,
  type Member,
  type Message,
  memoryTokenStore,
  type PostLogsRequest,
  type PostLogsResponse,
  type ProfilePatch,
  type RecordConsentRequest,
  type SystemLogEntry,
  type TextChatRequest,
  type TokenPair,
  type Triage,
  type Upload,
  type UploadTicket,
  type Usage,
  type User,
  type UserExport,
  type VisionChatRequest,
} from '../../client/index.js';
import { fetchTransport } from '../../client/transports/fetch.js';
import type { MockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import type { DoneEvent, ErrorEvent } from '../../lib/chat/bus.js';
import type { MetaEvent } from '../../lib/chat/outcome.js';
import type { ChatResultSchema } from '../../lib/chat/schemas.js';
import type {
  ConversationSchema,
  MessageSchema,
  TriageSchema,
  UsageSchema,
} from '../../lib/conversations/schemas.js';
import { FUNCTION_NAMES } from '../../lib/functions.js';
import { CODE_TO_STATUS } from '../../lib/http/errors.js';
import type { ErrorSchema } from '../../lib/http/openapi.js';
import type { Harness } from '../helpers/harness.js';
import { pngImage } from '../helpers/images.js';
import {
  compileWithComponents,
  createAjv,
  isObject,
  type JsonObject,
  type OpenApiDoc,
  type Recorded,
  recordingFetch,
  refsIn,
  resolvePointer,
  responseValidator,
  templateRegex,
} from '../helpers/openapi.js';
import { type Stack, startStack } from '../helpers/stack.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Routes that need no access token (API.md, Auth). */
const PUBLIC = new Set([
  'get /api/v1/health',
  'get /api/v1/openapi.json',
  'get /api/v1/docs',
  'post /api/v1/users/login',
  'post /api/v1/users/refresh',
  'post /api/v1/users/logout',
]);

let stack: Stack;
let mock: MockLlm;
let h: Harness;
let server: LocalServer;
let doc: OpenApiDoc;

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_OPENIDS: 'dev:olga-admin' } });
  ({ mock, h, server } = stack);
  const res = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDoc;
});
afterAll(() => stack?.close());

/** Every operation of the document, as `method path`. */
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m} ${path}`),
  );

const operation = (key: string): JsonObject => {
  const [method = '', path = ''] = key.split(' ');
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`no operation ${key}`);
  return op;
};

describe('(a) the document covers every route and is sound', () => {
  it('documents every route mounted in every function, with its method', async () => {
    const mounted = new Set<string>();
    for (const name of FUNCTION_NAMES) {
      const app = (await loaders[name]()).build(() => h.rt);
      for (const r of app.routes) {
        // Middleware-only entries (app.use) are ALL; every real route has its own method.
        if (r.method === 'ALL') continue;
        mounted.add(`${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
      }
    }
    expect(mounted.size).toBeGreaterThan(20);
    const documented = new Set(operations());
    expect([...mounted].filter((r) => !documented.has(r))).toEqual([]);
    // And nothing documented that no function serves.
    expect([...documented].filter((r) => !mounted.has(r))).toEqual([]);
  });

  it('is OpenAPI 3.1.0 with info, and every $ref resolves', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter(({ ref }) => resolvePointer(doc, ref) === undefined)).toEqual([]);
  });

  it('every operation: a success response, descriptions, declared path parameters, auth as the contract says', () => {
    const problems: string[] = [];
    for (const key of operations()) {
      const op = operation(key);
      const path = key.split(' ')[1] ?? '';
      const responses = isObject(op.responses) ? op.responses : {};
      const statuses = Object.keys(responses);
      if (!statuses.some((s) => /^2\d\d$/.test(s))) problems.push(`${key}: no 2xx response`);
      for (const s of statuses) {
        const r = responses[s];
        if (!isObject(r) || typeof r.description !== 'string') problems.push(`${key} ${s}: no description`);
      }
      const params = (Array.isArray(op.parameters) ? op.parameters : []).filter(isObject);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = params.filter((p) => p.in === 'path');
      for (const name of inPath) {
        if (!declared.some((p) => p.name === name && p.required === true)) {
          problems.push(`${key}: path parameter ${name} not declared as required`);
        }
      }
      for (const p of declared) {
        if (!inPath.includes(String(p.name)))
          problems.push(`${key}: declares path parameter ${String(p.name)}`);
      }
      const secured = Array.isArray(op.security) && op.security.some((s) => isObject(s) && 'bearerAuth' in s);
      if (!PUBLIC.has(key)) {
        if (!secured) problems.push(`${key}: no bearerAuth security`);
        if (!responses['401']) problems.push(`${key}: 401 not documented`);
      }
    }
    expect(problems).toEqual([]);
    expect(doc.components?.securitySchemes).toMatchObject({ bearerAuth: { type: 'http', scheme: 'bearer' } });
  });

  it('every schema compiles under strict JSON Schema 2020-12; patterns are plain sources', () => {
    const ajv = createAjv();
    const problems: string[] = [];
    const tryCompile = (where: string, schema: unknown) => {
      try {
        compileWithComponents(ajv, schema, doc);
      } catch (err) {
        problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      tryCompile(`components.schemas.${name}`, schema);
    }
    for (const key of operations()) {
      const op = operation(key);
      for (const [status, r] of Object.entries(isObject(op.responses) ? op.responses : {})) {
        const content = isObject(r) && isObject(r.content) ? r.content : {};
        for (const [type, media] of Object.entries(content)) {
          if (isObject(media) && media.schema !== undefined)
            tryCompile(`${key} ${status} ${type}`, media.schema);
        }
      }
      const body = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content : {};
      for (const [type, media] of Object.entries(body)) {
        if (isObject(media)) tryCompile(`${key} request ${type}`, media.schema);
      }
    }
    // A RegExp's flags printed into the pattern (`…$/u`) make a pattern that matches nothing.
    const patterns: string[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (isObject(v))
        for (const [k, x] of Object.entries(v)) {
          if (k === 'pattern' && typeof x === 'string') patterns.push(x);
          else collect(x);
        }
    };
    collect(doc);
    expect(patterns.filter((p) => /\/[dgimsuvy]+$/.test(p))).toEqual([]);
    expect(problems).toEqual([]);
  });
});

// ---- (b) ---------------------------------------------------------------------------------------

describe('(b) what the routes answer matches the document', () => {
  const recorded: Recorded[] = [];
  const client = (tokens = memoryTokenStore()): Client =>
    createClient({
      baseUrl: server.url,
      transport: fetchTransport(recordingFetch(server.url, recorded)),
      tokens,
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

  it('walks every documented route through the client, happy paths and refusals', async () => {
    const record = recordingFetch(server.url, recorded);
    const raw = (method: string, path: string, token?: string) =>
      record(`${server.url}/api/v1${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });

    const anon = client();
    await anon.health();
    await raw('GET', '/openapi.json');
    await raw('GET', '/docs');
    await refused(anon.login('not-a-dev-code'), 401);
    await refused(anon.login(''), 400);
    await refused(anon.me(), 401);
    await refused(client(memoryTokenStore({ accessToken: 'x', refreshToken: 'short' })).refresh(), 400);

    const tokens = memoryTokenStore();
    const ann = client(tokens);
    const login = await ann.login('dev:ann');
    await ann.refresh();
    const me = await ann.me();
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

    const conv = await ann.conversations.create();
    await ann.conversations.list({ limit: 500 });
    await refused(ann.conversations.list({ cursor: '' }), 400);
    await ann.conversations.get(conv.id);
    await ann.conversations.update(conv.id, { archived: true });
    await ann.conversations.update(conv.id, { archived: false });
    await refused(ann.conversations.update(conv.id, {}), 400);
    await refused(ann.conversations.get('missing'), 404);

    mock.enqueue({ reply: '多休息。' }, { reply: '多喝水。' });
    const streamed = await ann.textChat({ conversationId: conv.id, content: '头疼怎么办？' });
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
    // Steering: versions and feedback of the last answer (regenerate is a chat route).
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

    const png = await pngImage(8, 8);
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

    // Family members and lab reports.
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

    await ann.logs.post({ entries: [{ level: 'info', message: 'opened chat' }] });
    await refused(ann.logs.post({ entries: [] }), 400);
    await refused(ann.logs.list(), 403);
    await refused(ann.logs.audit(), 403);
    const olga = client();
    const admin = await olga.login('dev:olga-admin');
    await olga.logs.list({ limit: 5 });
    await olga.logs.list({ userId: me.id, level: 'info' });
    await olga.logs.audit({ actorId: me.id });

    // Complaints: the user files and follows; only admins list and answer.
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
    expect(operations().filter((op) => !hit.has(op))).toEqual([]);
  });

  it('a deliberately wrong answer fails the validator', () => {
    const validator = responseValidator(doc);
    const me = recorded.find((r) => r.method === 'GET' && r.path === '/api/v1/users/me' && r.status === 200);
    expect(me).toBeDefined();
    const good = isObject(me?.body) ? me.body : {};
    expect(
      validator.check({
        method: 'GET',
        path: '/api/v1/users/me',
        status: 200,
        contentType: 'application/json',
        body: good,
      }),
    ).toEqual([]);
    const { consent: _dropped, ...withoutConsent } = good;
    const wrong = { ...withoutConsent, role: 'root', birthYear: '1990' };
    const problems = validator.check({
      method: 'GET',
      path: '/api/v1/users/me',
      status: 200,
      contentType: 'application/json',
      body: wrong,
    });
    expect(problems.join('\n')).toMatch(/consent/);
    expect(problems.join('\n')).toMatch(/\/role/);
    expect(problems.join('\n')).toMatch(/\/birthYear/);
    // An envelope with a code outside the contract, a status the route does not document, an unknown path.
    const base = { method: 'GET', path: '/api/v1/conversations/abc', contentType: 'application/json' };
    expect(
      validator.check({
        ...base,
        status: 404,
        body: { error: { code: 'GONE', message: 'x', requestId: 'r' } },
      }),
    ).not.toEqual([]);
    expect(validator.check({ ...base, status: 418, body: {} })[0]).toMatch(/status not documented/);
    expect(validator.check({ ...base, path: '/api/v1/nowhere', status: 200, body: {} })[0]).toMatch(
      /not in the document/,
    );
  });
});

// ---- (c) ---------------------------------------------------------------------------------------

// Field presence as the client's types say it: required or optional, null allowed or not.
type Presence = 'required' | 'nullable' | 'optional' | 'optional-nullable';
type PresenceOf<T, K extends keyof T> =
  object extends Pick<T, K>
    ? null extends T[K]
      ? 'optional-nullable'
      : 'optional'
    : null extends T[K]
      ? 'nullable'
      : 'required';
/** Every key of T with its presence: a literal of this type mirrors T exactly (the compiler checks it). */
type Shape<T> = { [K in keyof T]-?: PresenceOf<T, K> };
const shape =
  <T>() =>
  (s: Shape<T>): Record<string, Presence> =>
    s;
/** Every member of a string union, exactly: a literal of this type lists them all and nothing else. */
const members =
  <U extends string>() =>
  (m: { [K in U]: true }): string[] =>
    Object.keys(m);

const component = (name: string) => ({ component: name });
const response = (path: string, method: string, status: string) => ({
  response: [path, method, status] as const,
});
const request = (path: string, method: string) => ({ request: [path, method] as const });
type Where = ReturnType<typeof component> | ReturnType<typeof response> | ReturnType<typeof request>;

function schemaAt(where: Where, at: string[] = []): JsonObject {
  let node: unknown;
  if ('component' in where) node = doc.components?.schemas?.[where.component];
  else if ('response' in where) {
    const [p, m, s] = where.response;
    node = resolvePointer(
      doc.paths,
      `#/${p.replace(/\//g, '~1')}/${m}/responses/${s}/content/application~1json/schema`,
    );
  } else {
    const [p, m] = where.request;
    node = resolvePointer(
      doc.paths,
      `#/${p.replace(/\//g, '~1')}/${m}/requestBody/content/application~1json/schema`,
    );
  }
  node = deref(node);
  for (const key of at) {
    const props = isObject(node) && isObject(node.properties) ? node.properties : {};
    node = deref(props[key]);
  }
  if (!isObject(node)) throw new Error(`no schema at ${JSON.stringify(where)} ${at.join('.')}`);
  return node;
}

function deref(node: unknown): unknown {
  let n = node;
  while (isObject(n) && typeof n.$ref === 'string') n = resolvePointer(doc, n.$ref);
  return n;
}

function allowsNull(schema: unknown): boolean {
  const s = deref(schema);
  if (!isObject(s)) return false;
  if (s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'))) return true;
  const alternatives = [s.anyOf, s.oneOf].flatMap((a) => (Array.isArray(a) ? a : []));
  return alternatives.some(allowsNull);
}

function docShape(schema: JsonObject): Record<string, Presence> {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const out: Record<string, Presence> = {};
  for (const [k, v] of Object.entries(props)) {
    const nul = allowsNull(v);
    out[k] = required.includes(k) ? (nul ? 'nullable' : 'required') : nul ? 'optional-nullable' : 'optional';
  }
  return out;
}

describe('(c) the client’s types match the server', () => {
  it('type-level: the client’s types are the zod schemas’ and the engine’s types', () => {
    // Checked by tsc (npm run typecheck): a drift is a compile error in this file.
    expectTypeOf<User>().toEqualTypeOf<z.output<typeof UserSchema>>();
    expectTypeOf<HealthProfile>().toEqualTypeOf<z.output<typeof HealthProfileSchema>>();
    expectTypeOf<Conversation>().toEqualTypeOf<z.output<typeof ConversationSchema>>();
    expectTypeOf<Message>().toEqualTypeOf<z.output<typeof MessageSchema>>();
    expectTypeOf<Triage>().toEqualTypeOf<z.output<typeof TriageSchema>>();
    expectTypeOf<Usage>().toEqualTypeOf<z.output<typeof UsageSchema>>();
    expectTypeOf<ChatResult>().toEqualTypeOf<z.output<typeof ChatResultSchema>>();
    expectTypeOf<ErrorEnvelope>().toEqualTypeOf<z.output<typeof ErrorSchema>>();
    expectTypeOf<ChatMeta>().toEqualTypeOf<MetaEvent>();
    expectTypeOf<ChatDone>().toEqualTypeOf<DoneEvent>();
    expectTypeOf<ChatErrorData>().toEqualTypeOf<ErrorEvent>();
    expectTypeOf<ErrorCode>().toEqualTypeOf<keyof typeof CODE_TO_STATUS>();
    expectTypeOf<Complaint>().toEqualTypeOf<z.output<typeof ComplaintSchema>>();
    expectTypeOf<NewComplaint>().toEqualTypeOf<z.input<typeof NewComplaintSchema>>();
    expectTypeOf<Member>().toEqualTypeOf<z.output<typeof MemberSchema>>();
    expectTypeOf<LabReport>().toEqualTypeOf<z.output<typeof LabReportSchema>>();
    expectTypeOf<Indicator>().toEqualTypeOf<z.output<typeof IndicatorSchema>>();
    expect(ERROR_STATUS).toEqual(CODE_TO_STATUS);
  });

  it('every field of every shape: the same names, required/optional and nullability as the document', () => {
    const cases: [string, Where, string[], Record<string, Presence>][] = [
      [
        'User',
        component('User'),
        [],
        shape<User>()({
          id: 'required',
          nickname: 'nullable',
          avatarFileId: 'nullable',
          gender: 'nullable',
          birthYear: 'nullable',
          healthProfile: 'nullable',
          role: 'required',
          consent: 'required',
          createdAt: 'required',
        }),
      ],
      [
        'ConsentState',
        component('User'),
        ['consent'],
        shape<ConsentState>()({
          required: 'required',
          currentVersion: 'required',
          acceptedVersion: 'nullable',
          text: 'nullable',
          crossBorderTransfer: 'nullable',
        }),
      ],
      [
        'HealthProfile',
        component('HealthProfile'),
        [],
        shape<HealthProfile>()({
          allergies: 'required',
          conditions: 'required',
          medications: 'required',
        }),
      ],
      [
        'LoginResponse',
        component('LoginAnswer'),
        [],
        shape<LoginResponse>()({
          accessToken: 'required',
          refreshToken: 'required',
          expiresIn: 'required',
          user: 'required',
        }),
      ],
      [
        'TokenPair',
        response('/api/v1/users/refresh', 'post', '200'),
        [],
        shape<TokenPair>()({
          accessToken: 'required',
          refreshToken: 'required',
          expiresIn: 'required',
        }),
      ],
      [
        'ProfilePatch',
        request('/api/v1/users/me', 'patch'),
        [],
        shape<ProfilePatch>()({
          nickname: 'optional-nullable',
          avatarFileId: 'optional-nullable',
          gender: 'optional-nullable',
          birthYear: 'optional-nullable',
          healthProfile: 'optional-nullable',
        }),
      ],
      [
        'Consent',
        component('Consent'),
        [],
        shape<Consent>()({
          id: 'required',
          version: 'required',
          accepted: 'required',
          createdAt: 'required',
        }),
      ],
      [
        'RecordConsentRequest',
        request('/api/v1/users/me/consents', 'post'),
        [],
        shape<RecordConsentRequest>()({
          version: 'required',
          accepted: 'required',
        }),
      ],
      [
        'UserExport',
        component('UserExport'),
        [],
        shape<UserExport>()({
          format: 'required',
          version: 'required',
          exportedAt: 'required',
          user: 'required',
          consents: 'required',
          conversations: 'required',
          messages: 'required',
          feedback: 'required',
          members: 'required',
          labReports: 'required',
          files: 'required',
          usage: 'required',
          complaints: 'required',
        }),
      ],
      [
        'Conversation',
        component('Conversation'),
        [],
        shape<Conversation>()({
          id: 'required',
          memberId: 'nullable',
          title: 'required',
          archived: 'required',
          createdAt: 'required',
          updatedAt: 'required',
          lastMessageAt: 'nullable',
        }),
      ],
      [
        'Message',
        component('Message'),
        [],
        shape<Message>()({
          id: 'required',
          role: 'required',
          content: 'required',
          imageIds: 'required',
          status: 'required',
          triage: 'optional',
          finishReason: 'optional-nullable',
          model: 'optional',
          usage: 'optional',
          aiGenerated: 'required',
          disclaimer: 'optional',
          aigc: 'nullable',
          version: 'optional',
          versions: 'optional',
          feedback: 'optional-nullable',
          createdAt: 'required',
        }),
      ],
      [
        'Aigc',
        component('Aigc'),
        [],
        shape<Aigc>()({
          Label: 'required',
          ContentProducer: 'required',
          ProduceID: 'required',
          ReservedCode1: 'required',
          ContentPropagator: 'required',
          PropagateID: 'required',
          ReservedCode2: 'required',
        }),
      ],
      [
        'Triage',
        component('Triage'),
        [],
        shape<Triage>()({
          level: 'required',
          category: 'required',
          message: 'required',
          actions: 'required',
          source: 'optional',
        }),
      ],
      [
        'TextChatRequest',
        component('TextChatRequest'),
        [],
        shape<TextChatRequest>()({
          conversationId: 'optional',
          memberId: 'optional',
          content: 'required',
        }),
      ],
      [
        'VisionChatRequest',
        component('VisionChatRequest'),
        [],
        shape<VisionChatRequest>()({
          conversationId: 'optional',
          memberId: 'optional',
          content: 'required',
          imageIds: 'required',
        }),
      ],
      [
        'ChatResult',
        component('ChatResult'),
        [],
        shape<ChatResult>()({
          conversationId: 'required',
          userMessage: 'required',
          assistantMessage: 'required',
        }),
      ],
      [
        'CreateUploadRequest',
        component('CreateUpload'),
        [],
        shape<CreateUploadRequest>()({
          filename: 'required',
          contentType: 'required',
          size: 'required',
          purpose: 'required',
        }),
      ],
      [
        'UploadTicket',
        component('UploadTicket'),
        [],
        shape<UploadTicket>()({
          fileId: 'required',
          method: 'required',
          url: 'required',
          fields: 'required',
          expiresAt: 'required',
          maxBytes: 'required',
          put: 'required',
        }),
      ],
      [
        'CompletedUpload',
        component('CompletedUpload'),
        [],
        shape<CompletedUpload>()({
          id: 'required',
          status: 'required',
          contentType: 'required',
          size: 'required',
          width: 'required',
          height: 'required',
        }),
      ],
      [
        'Upload',
        component('Upload'),
        [],
        shape<Upload>()({
          id: 'required',
          status: 'required',
          purpose: 'required',
          contentType: 'required',
          size: 'required',
          width: 'nullable',
          height: 'nullable',
          createdAt: 'required',
          completedAt: 'nullable',
          url: 'nullable',
          urlExpiresAt: 'nullable',
        }),
      ],
      [
        'PostLogsRequest',
        request('/api/v1/logs', 'post'),
        [],
        shape<PostLogsRequest>()({ entries: 'required' }),
      ],
      [
        'PostLogsResponse',
        response('/api/v1/logs', 'post', '202'),
        [],
        shape<PostLogsResponse>()({
          accepted: 'required',
        }),
      ],
      [
        'SystemLogEntry',
        component('SystemLogEntry'),
        [],
        shape<SystemLogEntry>()({
          id: 'required',
          at: 'required',
          level: 'required',
          source: 'required',
          route: 'nullable',
          method: 'nullable',
          status: 'nullable',
          latencyMs: 'nullable',
          userId: 'nullable',
          requestId: 'nullable',
          errorCode: 'nullable',
          message: 'nullable',
          context: 'nullable',
        }),
      ],
      [
        'AuditEntry',
        component('AuditEntry'),
        [],
        shape<AuditEntry>()({
          id: 'required',
          at: 'required',
          actorId: 'nullable',
          action: 'required',
          targetType: 'nullable',
          targetId: 'nullable',
          requestId: 'nullable',
        }),
      ],
      [
        'Health',
        component('Health'),
        [],
        shape<Health>()({ status: 'required', version: 'required', checks: 'required' }),
      ],
    ];
    const drift = cases.flatMap(([name, where, at, client]) => {
      const documented = docShape(schemaAt(where, at));
      const keys = new Set([...Object.keys(client), ...Object.keys(documented)]);
      return [...keys]
        .filter((k) => client[k] !== documented[k])
        .map((k) => `${name}.${k}: client ${client[k] ?? 'absent'}, document ${documented[k] ?? 'absent'}`);
    });
    expect(drift).toEqual([]);
  });

  it('the entries of POST /logs and the query parameters of the list routes', () => {
    const entry = schemaAt(request('/api/v1/logs', 'post'), ['entries']);
    const items = deref(entry.items);
    expect(docShape(isObject(items) ? items : {})).toEqual(
      shape<ClientLogEntry>()({
        level: 'required',
        message: 'required',
        context: 'optional',
        at: 'optional',
      }),
    );
    const queryOf = (path: string) => {
      const params = doc.paths[path]?.get?.parameters;
      return (Array.isArray(params) ? params : [])
        .filter(isObject)
        .filter((p) => p.in === 'query')
        .map((p) => String(p.name))
        .sort();
    };
    const keysOf = (s: Record<string, Presence>) => Object.keys(s).sort();
    expect(queryOf('/api/v1/conversations')).toEqual(
      keysOf(
        shape<ListConversationsQuery>()({ limit: 'optional', cursor: 'optional', archived: 'optional' }),
      ),
    );
    expect(queryOf('/api/v1/conversations/{id}/messages')).toEqual(
      keysOf(shape<ListMessagesQuery>()({ limit: 'optional', before: 'optional' })),
    );
    expect(queryOf('/api/v1/conversations/{id}/messages/{messageId}/stream')).toEqual(
      keysOf(shape<AnswerStreamQuery>()({ after: 'optional' })),
    );
    expect(queryOf('/api/v1/logs')).toEqual(
      keysOf(
        shape<ListLogsQuery>()({
          level: 'optional',
          since: 'optional',
          until: 'optional',
          route: 'optional',
          userId: 'optional',
          requestId: 'optional',
          cursor: 'optional',
          limit: 'optional',
        }),
      ),
    );
    expect(queryOf('/api/v1/logs/audit')).toEqual(
      keysOf(
        shape<ListAuditQuery>()({
          action: 'optional',
          actorId: 'optional',
          since: 'optional',
          until: 'optional',
          cursor: 'optional',
          limit: 'optional',
        }),
      ),
    );
  });

  it('every enumerated value: the same members as the document', () => {
    const enumAt = (where: Where, at: string[]) => {
      const s = schemaAt(where, at);
      return (Array.isArray(s.enum) ? s.enum : [])
        .filter((v) => v !== null)
        .map(String)
        .sort();
    };
    const cases: [string, string[], string[]][] = [
      [
        'User.gender',
        enumAt(component('User'), ['gender']),
        members<NonNullable<User['gender']>>()({ male: true, female: true, other: true, unknown: true }),
      ],
      [
        'User.role',
        enumAt(component('User'), ['role']),
        members<User['role']>()({ user: true, admin: true }),
      ],
      [
        'Message.role',
        enumAt(component('Message'), ['role']),
        members<Message['role']>()({ user: true, assistant: true }),
      ],
      [
        'Message.status',
        enumAt(component('Message'), ['status']),
        members<Message['status']>()({
          streaming: true,
          complete: true,
          incomplete: true,
          error: true,
          blocked: true,
        }),
      ],
      [
        'Upload.status',
        enumAt(component('Upload'), ['status']),
        members<Upload['status']>()({ pending: true, ready: true }),
      ],
      [
        'Upload.purpose',
        enumAt(component('Upload'), ['purpose']),
        members<Upload['purpose']>()({ 'chat-image': true, avatar: true }),
      ],
      [
        'CreateUpload.purpose',
        enumAt(component('CreateUpload'), ['purpose']),
        members<CreateUploadRequest['purpose']>()({ 'chat-image': true, avatar: true }),
      ],
      [
        'SystemLogEntry.level',
        enumAt(component('SystemLogEntry'), ['level']),
        members<SystemLogEntry['level']>()({ debug: true, info: true, warn: true, error: true }),
      ],
      [
        'SystemLogEntry.source',
        enumAt(component('SystemLogEntry'), ['source']),
        members<SystemLogEntry['source']>()({ server: true, client: true }),
      ],
      [
        'Health.status',
        enumAt(component('Health'), ['status']),
        members<Health['status']>()({ ok: true, degraded: true }),
      ],
      ['Error.code', enumAt(component('Error'), ['error', 'code']), Object.keys(ERROR_STATUS)],
    ];
    expect(
      cases
        .filter(([, doc, client]) => doc.join() !== [...client].sort().join())
        .map(([n, d, c]) => `${n}: document ${d}, client ${c}`),
    ).toEqual([]);
  });

  it('every documented path has a client call (templates the client builds)', () => {
    // The client's paths, as templates; a new route in the document without a client call fails here.
    const clientPaths = [
      'get /api/v1/health',
      'post /api/v1/users/login',
      'post /api/v1/users/refresh',
      'post /api/v1/users/logout',
      'get /api/v1/users/me',
      'patch /api/v1/users/me',
      'delete /api/v1/users/me',
      'get /api/v1/users/me/export',
      'get /api/v1/users/me/consents',
      'post /api/v1/users/me/consents',
      'get /api/v1/conversations',
      'post /api/v1/conversations',
      'get /api/v1/conversations/{id}',
      'patch /api/v1/conversations/{id}',
      'delete /api/v1/conversations/{id}',
      'get /api/v1/conversations/{id}/messages',
      'get /api/v1/conversations/{id}/messages/{messageId}/stream',
      'post /api/v1/conversations/{id}/messages/{messageId}/stop',
      'post /api/v1/conversations/{id}/messages/{messageId}/regenerate',
      'get /api/v1/conversations/{id}/messages/{messageId}/versions',
      'put /api/v1/conversations/{id}/messages/{messageId}/feedback',
      'delete /api/v1/conversations/{id}/messages/{messageId}/feedback',
      'post /api/v1/text-chat',
      'post /api/v1/vision-chat',
      'post /api/v1/uploads',
      'post /api/v1/uploads/{id}/complete',
      'get /api/v1/uploads/{id}',
      'delete /api/v1/uploads/{id}',
      'post /api/v1/logs',
      'get /api/v1/logs',
      'get /api/v1/logs/audit',
      'post /api/v1/users/me/complaints',
      'get /api/v1/users/me/complaints',
      'get /api/v1/logs/complaints',
      'patch /api/v1/logs/complaints/{id}',
      'get /api/v1/logs/feedback',
      'get /api/v1/logs/usage',
      'get /api/v1/users/me/members',
      'post /api/v1/users/me/members',
      'patch /api/v1/users/me/members/{id}',
      'delete /api/v1/users/me/members/{id}',
      'post /api/v1/records/lab-reports',
      'get /api/v1/records/lab-reports',
      'get /api/v1/records/lab-reports/{id}',
      'delete /api/v1/records/lab-reports/{id}',
      'get /api/v1/records/indicators',
    ];
    // Served for people and cron, not for the mini-program.
    const notForTheApp = ['get /api/v1/openapi.json', 'get /api/v1/docs', 'get /api/v1/logs/retention'];
    expect(operations().filter((op) => !clientPaths.includes(op) && !notForTheApp.includes(op))).toEqual([]);
    for (const p of clientPaths) expect(operations()).toContain(p);
    expect(templateRegex('/api/v1/uploads/{id}/complete').test('/api/v1/uploads/abc/complete')).toBe(true);
  });
});
