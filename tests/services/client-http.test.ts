// The HTTP walk-through, through the mini-program's own client (client/) over real HTTP: sign in,
// consent, a conversation, a streamed answer, its messages, an image uploaded to local object storage
// and asked about, logs, export, an access token that expires mid-session, and deletion. Every JSON
// answer on the way is checked against the served OpenAPI document.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  type ChatEvent,
  type Client,
  type CompletedUpload,
  type Conversation,
  createClient,
  memoryTokenStore,
  type TokenStore,
  type User,
} from '../../client/index.js';
import { fetchTransport } from '../../client/transports/fetch.js';
import type { MockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import type { Harness } from '../helpers/harness.js';
import { pngImage } from '../helpers/images.js';
import { type OpenApiDoc, type Recorded, recordingFetch, responseValidator } from '../helpers/openapi.js';
import { type Stack, startStack } from '../helpers/stack.js';

const REPLY = '多喝温水，保证睡眠。如果头疼持续三天以上或伴有呕吐，请及时就医。';
const VISION_REPLY = '图片中皮肤轻度发红，建议保持清洁干燥；如范围扩大或发热，请就医。';

describe('the mini-program client over HTTP', () => {
  let stack: Stack;
  let mock: MockLlm;
  let h: Harness;
  let server: LocalServer;
  /** Added to the server's clock: moving it past the access token's lifetime expires the token. */
  let clockOffsetMs = 0;
  const recorded: Recorded[] = [];
  const authFailures: string[] = [];

  const clientFor = (name: string, tokens: TokenStore = memoryTokenStore()): Client =>
    createClient({
      baseUrl: server.url,
      transport: fetchTransport(recordingFetch(server.url, recorded)),
      tokens,
      onAuthFailure: () => authFailures.push(name),
    });

  let alice: Client;
  let aliceTokens: TokenStore;
  let me: User;
  let conversation: Conversation;
  let image: CompletedUpload;

  beforeAll(async () => {
    stack = await startStack({
      env: { ADMIN_OPENIDS: 'dev:carol-admin' },
      overrides: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
    ({ mock, h, server } = stack);
    aliceTokens = memoryTokenStore();
    alice = clientFor('alice', aliceTokens);
  });
  afterAll(() => stack?.close());
  beforeEach(() => mock.reset());

  it('health answers without a session', async () => {
    const health = await alice.health();
    expect(health.status).toBe('ok');
    expect(health.checks.database?.status).toBe('ok');
  });

  it('signs in with a dev code and keeps the token pair', async () => {
    const answer = await alice.login('dev:alice');
    expect(answer.user).toMatchObject({ nickname: 'alice', role: 'user', healthProfile: null });
    expect(answer.expiresIn).toBe(h.rt.config.ACCESS_TOKEN_TTL_SECONDS);
    expect(await aliceTokens.get()).toEqual({
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
    });
    me = await alice.me();
    expect(me.id).toBe(answer.user.id);
    expect(me.consent).toEqual({
      required: true,
      currentVersion: h.rt.config.CONSENT_VERSION,
      acceptedVersion: null,
      text: null,
      crossBorderTransfer: null,
    });
  });

  it('refuses chat before consent with a plain CONSENT_REQUIRED, no stream', async () => {
    const events: ChatEvent[] = [];
    const err = await alice
      .textChat({ content: '我头疼' }, { onEvent: (e) => events.push(e) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: 'CONSENT_REQUIRED', requestId: expect.any(String) });
    expect(events).toEqual([]);
    expect(mock.requests).toHaveLength(0);
  });

  it('records consent, and the account no longer asks for it', async () => {
    const record = await alice.consents.record({ version: me.consent.currentVersion, accepted: true });
    expect(record).toMatchObject({ version: me.consent.currentVersion, accepted: true });
    const list = await alice.consents.list();
    expect(list.items.map((c) => c.id)).toEqual([record.id]);
    me = await alice.me();
    expect(me.consent).toMatchObject({ required: false, acceptedVersion: me.consent.currentVersion });
  });

  it('updates the profile (PATCH)', async () => {
    const healthProfile = { allergies: ['青霉素'], conditions: [], medications: ['布洛芬'] };
    const updated = await alice.updateMe({ nickname: '小爱', birthYear: 1990, healthProfile });
    expect(updated).toMatchObject({ nickname: '小爱', birthYear: 1990, healthProfile });
    const err = await alice.updateMe({ birthYear: 1800 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'BAD_REQUEST', details: [{ path: 'birthYear' }] });
  });

  it('creates, lists, reads and renames a conversation', async () => {
    conversation = await alice.conversations.create({ title: '头疼咨询' });
    expect(conversation).toMatchObject({ title: '头疼咨询', archived: false, lastMessageAt: null });
    const page = await alice.conversations.list({ limit: 10 });
    expect(page).toEqual({ items: [conversation], nextCursor: null });
    expect(await alice.conversations.get(conversation.id)).toEqual(conversation);
    const renamed = await alice.conversations.update(conversation.id, { title: '反复头疼' });
    expect(renamed.title).toBe('反复头疼');
    await expect(alice.conversations.get('no-such-conversation')).rejects.toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
  });

  it('streams an answer: meta, deltas and done, as events and as the result', async () => {
    mock.enqueue({ reply: REPLY, chunkSize: 3 });
    const events: ChatEvent[] = [];
    const r = await alice.textChat(
      { conversationId: conversation.id, content: '最近总是头疼，晚上睡不好，怎么办？' },
      { onEvent: (e) => events.push(e) },
    );
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('meta');
    expect(names.at(-1)).toBe('done');
    expect(names.slice(1, -1).every((n) => n === 'delta')).toBe(true);
    expect(names.length).toBeGreaterThan(5);
    expect(r).toMatchObject({ conversationId: conversation.id, text: REPLY, finishReason: 'stop' });
    expect(r.disclaimer).toEqual(expect.any(String));
    expect(r.usage.completionTokens).toBeGreaterThan(0);
    expect(r.requestId).toMatch(/^[A-Za-z0-9._:-]{8,64}$/);
    // The profile is part of the model's context once consented.
    expect(JSON.stringify(mock.requests[0]?.body)).toContain('青霉素');

    const page = await alice.conversations.messages(conversation.id);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((m) => [m.id, m.role, m.status])).toEqual([
      [r.userMessageId, 'user', 'complete'],
      [r.assistantMessageId, 'assistant', 'complete'],
    ]);
    expect(page.items[1]).toMatchObject({ content: REPLY, aiGenerated: true, model: 'mock-chat' });
  });

  it('answers with one JSON document when stream is false, and replays it for the same Idempotency-Key', async () => {
    mock.enqueue({ reply: '注意休息。' });
    const body = { conversationId: conversation.id, content: '需要吃止痛药吗？' };
    const first = await alice.textChat(body, { stream: false, idempotencyKey: 'client-walk-0001' });
    expect(first.conversationId).toBe(conversation.id);
    expect(first.userMessage).toMatchObject({ role: 'user', content: body.content });
    expect(first.assistantMessage).toMatchObject({
      role: 'assistant',
      content: '注意休息。',
      status: 'complete',
    });
    const again = await alice.textChat(body, { stream: false, idempotencyKey: 'client-walk-0001' });
    expect(again.assistantMessage.id).toBe(first.assistantMessage.id);
    expect(mock.requests).toHaveLength(1);
  });

  it('uploads an image (ticket → form to object storage → complete) and reads it back', async () => {
    const png = await pngImage(24, 16);
    const file = new Blob([new Uint8Array(png)], { type: 'image/png' });
    image = await alice.uploadImage(file, { filename: 'rash.png' });
    expect(image).toMatchObject({ status: 'ready', width: 24, height: 16, contentType: 'image/png' });
    const stored = await alice.uploads.get(image.id);
    expect(stored).toMatchObject({ id: image.id, status: 'ready', purpose: 'chat-image' });
    expect(stored.url).toEqual(expect.any(String));
    // Storage answered the form itself: only the API's answers are recorded.
    expect(recorded.some((r) => !r.path.startsWith('/api/v1/'))).toBe(false);
  });

  it('asks about the image: the vision model receives it and the answer streams', async () => {
    mock.enqueue({ reply: VISION_REPLY });
    const events: ChatEvent[] = [];
    const r = await alice.visionChat(
      { conversationId: conversation.id, content: '这个红疹要紧吗？', imageIds: [image.id] },
      { onEvent: (e) => events.push(e) },
    );
    expect(r.text).toBe(VISION_REPLY);
    expect(events[0]?.event).toBe('meta');
    const sent = JSON.stringify(mock.requests[0]?.body);
    expect(sent).toContain('mock-vision');
    expect(sent).toContain('image_url');
    const page = await alice.conversations.messages(conversation.id, { limit: 2 });
    expect(page.items[0]).toMatchObject({ id: r.userMessageId, imageIds: [image.id] });
    expect(page.nextCursor).toEqual(expect.any(String));
    const older = await alice.conversations.messages(conversation.id, { before: page.nextCursor ?? '' });
    expect(older.items.length).toBeGreaterThan(0);
  });

  it('sends client logs; admins read system and audit logs, others are refused', async () => {
    const posted = await alice.logs.post({
      entries: [
        { level: 'warn', message: 'chat page slow', context: { ms: 5200 }, at: new Date().toISOString() },
      ],
    });
    expect(posted).toEqual({ accepted: 1 });
    await expect(alice.logs.list()).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });

    const carol = clientFor('carol');
    const login = await carol.login('dev:carol-admin');
    expect(login.user.role).toBe('admin');
    const logs = await carol.logs.list({ userId: me.id, limit: 20 });
    expect(logs.items.some((e) => e.source === 'client' && e.message === 'chat page slow')).toBe(true);
    const audit = await carol.logs.audit({ action: 'user.login', actorId: me.id });
    expect(audit.items.map((a) => a.action)).toContain('user.login');
  });

  it('exports everything held about the caller', async () => {
    const doc = await alice.exportMe();
    expect(doc).toMatchObject({ format: 'health-assistant-export', version: 1 });
    expect(doc.conversations.length).toBe(1);
    expect(doc.messages.length).toBe(6);
    expect(doc.files.length).toBe(1);
  });

  it('an expired access token is refreshed once, transparently, for calls made together', async () => {
    const before = await aliceTokens.get();
    const mark = recorded.length;
    clockOffsetMs = (h.rt.config.ACCESS_TOKEN_TTL_SECONDS + 60) * 1000;
    const [account, page] = await Promise.all([alice.me(), alice.conversations.list()]);
    expect(account.id).toBe(me.id);
    expect(page.items).toHaveLength(1);
    const after = await aliceTokens.get();
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    const calls = recorded.slice(mark).map((r) => `${r.status} ${r.method} ${r.path}`);
    expect(calls.filter((c) => c.endsWith('/users/refresh'))).toEqual(['200 POST /api/v1/users/refresh']);
    expect(calls.filter((c) => c.startsWith('401'))).toHaveLength(2);
    expect(authFailures).toEqual([]);
    // The spent refresh token is refused by the server (and would revoke the session).
    const reuse = await h.call('POST', '/users/refresh', { body: { refreshToken: before?.refreshToken } });
    expect(reuse.status).toBe(401);
  });

  it('after the reuse above revoked the session, the client reports it and forgets the tokens', async () => {
    clockOffsetMs += (h.rt.config.ACCESS_TOKEN_TTL_SECONDS + 60) * 1000;
    await expect(alice.me()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(authFailures).toEqual(['alice']);
    expect(await aliceTokens.get()).toBeNull();
    await alice.login('dev:alice');
    expect((await alice.me()).id).toBe(me.id);
  });

  it('deletes the image and the conversation', async () => {
    await alice.uploads.delete(image.id);
    await expect(alice.uploads.get(image.id)).rejects.toMatchObject({ status: 404 });
    await alice.conversations.delete(conversation.id);
    await expect(alice.conversations.get(conversation.id)).rejects.toMatchObject({ status: 404 });
    expect((await alice.conversations.list()).items).toEqual([]);
  });

  it('logs out: the refresh token stops working', async () => {
    const tokens = await aliceTokens.get();
    await alice.logout();
    expect(await aliceTokens.get()).toBeNull();
    const r = await h.call('POST', '/users/refresh', { body: { refreshToken: tokens?.refreshToken } });
    expect(r.status).toBe(401);
  });

  it('deletes the account: the client forgets the session and the old tokens stop working', async () => {
    const bobTokens = memoryTokenStore();
    const bob = clientFor('bob', bobTokens);
    await bob.login('dev:bob');
    const stale = await bobTokens.get();
    await bob.deleteMe();
    expect(await bobTokens.get()).toBeNull();
    // A client still holding the old pair: the 401 leads to a refused refresh and an auth failure.
    const ghost = clientFor('bob-ghost', memoryTokenStore(stale));
    await expect(ghost.me()).rejects.toMatchObject({ status: 401 });
    expect(authFailures).toContain('bob-ghost');
  });

  it('every JSON answer of this walk matches the OpenAPI document', async () => {
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    const validator = responseValidator((await res.json()) as OpenApiDoc);
    const problems = recorded.flatMap((r) => validator.check(r));
    expect(problems).toEqual([]);
    expect(recorded.length).toBeGreaterThan(40);
  });
});
