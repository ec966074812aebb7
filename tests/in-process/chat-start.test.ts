// A chat turn's first statement (lib/chat/start.ts) checks what the route no longer does before
// the flow starts: the session behind a validly signed token, consent, ownership, and the
// Idempotency-Key, claimed in the same statement and freed when the turn is refused.
import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResult, ErrorEnvelope, TextChatRequest } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { signAccessToken } from '../../lib/auth/jwt.js';
import { readTurnStart } from '../../lib/chat/start.js';
import { idempotencyKeys, messages, users } from '../../lib/db/schema.js';
import { createHarness, type Harness, testEnv } from '../helpers/harness.js';

let h: Harness;
let mock: MockLlm;

beforeAll(async () => {
  mock = await startMockLlm();
  h = await createHarness({
    env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'test', LLM_MAX_RETRIES: '0' },
  });
});
afterAll(async () => {
  await h?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

/** T: the answer (200), or the ErrorEnvelope of a refusal. */
const chat = <T = ChatResult>(token: string, body: TextChatRequest, key?: string) =>
  h.call<T>('POST', '/text-chat?stream=false', {
    token,
    body,
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });

async function storedQuestions(userId: string): Promise<number> {
  const db = await h.rt.db();
  const rows = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.role, 'user')));
  return rows.length;
}

async function keyRow(userId: string, key: string) {
  const db = await h.rt.db();
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
  return row;
}

describe('a chat turn checks the session in its first statement', () => {
  it('a logged-out session’s token is 401: nothing stored, no model call, no key kept', async () => {
    const u = await h.user('start-logout');
    expect((await h.call('POST', '/users/logout', { body: { refreshToken: u.refresh } })).status).toBe(204);
    const r = await chat<ErrorEnvelope>(u.token, { content: '最近总是失眠怎么办' }, 'key-after-logout');
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('UNAUTHORIZED');
    expect(mock.requests).toHaveLength(0);
    expect(await storedQuestions(u.userId)).toBe(0);
    expect(await keyRow(u.userId, 'key-after-logout')).toBeUndefined();
  });

  it('an emergency from an ended session is 401 too (the guidance is stored for live accounts only)', async () => {
    const u = await h.user('start-logout-emergency');
    await h.call('POST', '/users/logout', { body: { refreshToken: u.refresh } });
    const r = await chat(u.token, { content: '我爸突然胸口剧痛，喘不上气' });
    expect(r.status).toBe(401);
    expect(await storedQuestions(u.userId)).toBe(0);
  });

  it('without the current consent it is 403 CONSENT_REQUIRED and the key is freed', async () => {
    const u = await h.login('start-no-consent');
    const r = await chat<ErrorEnvelope>(u.token, { content: '感冒了吃什么好' }, 'key-no-consent');
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('CONSENT_REQUIRED');
    expect(await keyRow(u.userId, 'key-no-consent')).toBeUndefined();
    expect(mock.requests).toHaveLength(0);
  });

  it('a key claimed by a turn refused for another user’s conversation can be used again', async () => {
    const alice = await h.user('start-alice');
    const bob = await h.user('start-bob');
    const first = await chat(alice.token, { content: '头疼怎么办' });
    expect(first.status).toBe(200);
    const theirs = first.json.conversationId;
    const refused = await chat(bob.token, { conversationId: theirs, content: '头疼怎么办' }, 'key-reused');
    expect(refused.status).toBe(404);
    expect(await keyRow(bob.userId, 'key-reused')).toBeUndefined();
    const again = await chat(bob.token, { content: '头疼怎么办' }, 'key-reused');
    expect(again.status).toBe(200);
    expect((await keyRow(bob.userId, 'key-reused'))?.status).toBe('done');
  });

  it('the statement claims no key and reads nothing for an ended session', async () => {
    const alice = await h.user('start-dead-claims');
    const first = await chat(alice.token, { content: '头疼怎么办' });
    expect(first.status).toBe(200);
    const claims = { sub: alice.userId, sid: String(decodeJwt(alice.token).sid) };
    await h.call('POST', '/users/logout', { body: { refreshToken: alice.refresh } });
    const start = await readTurnStart(
      await h.rt.db(),
      claims,
      {
        conversationId: first.json.conversationId,
        historyMax: 10,
        claim: { scope: { userId: alice.userId, route: 'text-chat', key: 'dead-claim' }, hash: 'h' },
      },
      new Date(),
    );
    expect(start.account).toBeUndefined();
    expect(start.claimed).toBe(false);
    expect(start.history).toEqual([]);
    expect(await keyRow(alice.userId, 'dead-claim')).toBeUndefined();
  });

  it('a turn refused after the statement found the account logs whose request it was', async () => {
    const u = await h.user('start-logged');
    const r = await chat(u.token, { conversationId: crypto.randomUUID(), content: '头疼怎么办' });
    expect(r.status).toBe(404);
    const line = h.logs
      .map((l) => JSON.parse(l) as { msg?: string; status?: number; fn?: string; userId?: string })
      .findLast((l) => l.msg === 'request' && l.fn === 'text-chat' && l.status === 404);
    expect(line?.userId).toBe(u.userId);
  });

  it('a deleted account’s refused request names nobody in the log', async () => {
    const u = await h.user('start-deleted');
    expect((await h.call('DELETE', '/users/me', { token: u.token })).status).toBe(204);
    const from = h.logs.length;
    const r = await chat<ErrorEnvelope>(u.token, { content: '头疼怎么办' });
    expect(r.status).toBe(401);
    const after = h.logs.slice(from);
    expect(after.some((l) => l.includes('"fn":"text-chat"'))).toBe(true);
    expect(after.filter((l) => l.includes(u.userId))).toEqual([]);
  });

  it('a retry with the same key is answered from the first, with one model call in all', async () => {
    const u = await h.user('start-retry');
    const body = { content: '孩子咳嗽两天了，需要注意什么' };
    const a = await chat(u.token, body, 'key-retry');
    const b = await chat(u.token, body, 'key-retry');
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.json.assistantMessage.id).toBe(a.json.assistantMessage.id);
    expect(mock.requests).toHaveLength(1);
    expect(await storedQuestions(u.userId)).toBe(1);
  });
});

describe('the quota follows the account’s stored role, not the token’s', () => {
  // A user's daily quota too small for one turn, an administrator's large enough.
  let q: Harness;
  beforeAll(async () => {
    q = await createHarness({
      env: {
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 'test',
        LLM_MAX_RETRIES: '0',
        DAILY_TOKEN_QUOTA_USER: '10',
        DAILY_TOKEN_QUOTA_ADMIN: '10000000',
      },
    });
  });
  afterAll(async () => {
    await q?.close();
  });
  const ask = <T = ChatResult>(token: string) =>
    q.call<T>('POST', '/text-chat?stream=false', { token, body: { content: '经常口腔溃疡是什么原因' } });

  it('a role changed after the token was minted: the quota follows the account as stored', async () => {
    const plain = await q.user('start-plain');
    const promoted = await q.user('start-promoted');
    await (await q.rt.db()).update(users).set({ role: 'admin' }).where(eq(users.id, promoted.userId));
    const refused = await ask(plain.token);
    expect(refused.status).toBe(429);
    const r = await ask(promoted.token);
    expect(r.status).toBe(200);
    expect(r.json.assistantMessage.status).toBe('complete');
  });

  it('a token minted for an administrator since demoted gets a user’s quota', async () => {
    // A token as sign-in made it while the account was an administrator: the same session.
    const u = await q.user('start-demoted');
    const adminToken = await signAccessToken(
      q.rt.config,
      { sub: u.userId, role: 'admin', sid: String(decodeJwt(u.token).sid) },
      new Date(),
    );
    const r = await ask<ErrorEnvelope>(adminToken);
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe('QUOTA_EXCEEDED');
  });
});

describe('what the limits counted is given back when the first statement refuses the turn', () => {
  let q: Harness;
  const LIMIT = 2;
  beforeAll(async () => {
    const base = JSON.parse(testEnv().RATE_LIMITS ?? '{}') as Record<string, unknown>;
    q = await createHarness({
      env: {
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 'test',
        LLM_MAX_RETRIES: '0',
        RATE_LIMITS: JSON.stringify({ ...base, 'chat:user:minute': { limit: LIMIT } }),
      },
    });
  });
  afterAll(async () => {
    await q?.close();
  });
  const ask = (token: string, content: string, key?: string) =>
    q.call<ErrorEnvelope>('POST', '/text-chat?stream=false', {
      token,
      body: { content },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });

  it('a token whose sign-in ended cannot spend its account’s chat limit', async () => {
    const old = await q.user('refund-dead');
    await q.call('POST', '/users/logout', { body: { refreshToken: old.refresh } });
    for (let i = 0; i < LIMIT + 2; i++) expect((await ask(old.token, `问题 ${i}`)).status).toBe(401);
    await q.rt.settled();
    const now = await q.user('refund-dead');
    for (let i = 0; i < LIMIT; i++) expect((await ask(now.token, `新问题 ${i}`)).status).toBe(200);
    const over = await ask(now.token, '再问一个');
    expect(over.status).toBe(429);
    expect(over.json.error.code).toBe('RATE_LIMITED');
  });

  it('retries answered from the first request cost nothing', async () => {
    const u = await q.user('refund-retry');
    expect((await ask(u.token, '第一个问题', 'k1')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await ask(u.token, '第一个问题', 'k1')).status).toBe(200);
    await q.rt.settled();
    expect((await ask(u.token, '第二个问题')).status).toBe(200);
    expect((await ask(u.token, '第三个问题')).status).toBe(429);
  });
});
