// POST /text-chat over real HTTP, on the real PostgreSQL (Neon driver), against the local
// OpenAI-compatible server with its fault modes. Streams are read with the client's SSE parser.
import { and, eq } from 'drizzle-orm';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  ChatDone,
  ChatMeta,
  ChatResult,
  Conversation,
  ErrorEnvelope,
  Message,
  Page,
} from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import { insertMessage } from '../../lib/conversations/messages.js';
import type { Db } from '../../lib/db/index.js';
import { conversations, messages, usageDaily, users } from '../../lib/db/schema.js';
import { estimateTokens } from '../../lib/llm/tokens.js';
import { AI_DISCLAIMER } from '../../lib/safety/index.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { dataOf, readSse, textOf } from '../helpers/sse.js';

type U = { token: string; userId: string };
type Body = Record<string, unknown>;
/** The body of a JSON answer, typed by the contract. */
const bodyOf = async <T>(res: Response): Promise<T> => res.json();
const errorCodeOf = async (res: Response) => (await bodyOf<ErrorEnvelope>(res)).error.code;
const REPLY = '多喝水，注意休息。如果头疼持续或加重，请及时就医。';

function llmEnv(mock: MockLlm, extra: Record<string, string> = {}) {
  return {
    OPENAI_BASE_URL: mock.baseURL,
    OPENAI_API_KEY: 'test',
    CHAT_MODEL: 'mock-chat',
    LLM_FIRST_TOKEN_TIMEOUT_MS: '300',
    LLM_MAX_RETRIES: '0',
    HISTORY_TOKEN_BUDGET: '100',
    ...extra,
  };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('POST /text-chat', () => {
  let mock: MockLlm;
  let h: Harness;
  let server: LocalServer;
  let db: Db;
  let alice: U;
  let bob: U;
  /** Every text the tests send or receive, checked against the logs at the end. */
  const secrets = new Set<string>([REPLY]);

  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({ db: 'postgres', env: llmEnv(mock) });
    server = await h.listen();
    db = await h.rt.db();
    alice = await h.user('alice');
    bob = await h.user('bob');
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });
  beforeEach(() => {
    mock.reset();
  });

  const post = (
    u: U | undefined,
    body: Body,
    o: { query?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ) => {
    // Only distinctive texts: 'a' or '' would match any line.
    if (typeof body.content === 'string' && /[\u4e00-\u9fff]{2}/.test(body.content))
      secrets.add(body.content);
    return fetch(`${server.url}/api/v1/text-chat${o.query ?? ''}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(u ? { authorization: `Bearer ${u.token}` } : {}),
        ...o.headers,
      },
      body: JSON.stringify(body),
      signal: o.signal,
    });
  };
  const answerRow = async (id: string) => {
    const [row] = await db.select().from(messages).where(eq(messages.id, id));
    return row;
  };
  const rowsOf = (conversationId: string) =>
    db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(messages.seq);

  describe('a first question', () => {
    const QUESTION = '我最近总是头疼，晚上睡不着觉，怎么办？';
    let res: Response;
    let s: Awaited<ReturnType<typeof readSse>>;
    let meta: ChatMeta;
    let done: ChatDone;
    let sent: ChatCompletionCreateParams;
    beforeAll(async () => {
      mock.reset();
      mock.enqueue({ reply: REPLY, chunkSize: 5 });
      res = await post(alice, { content: QUESTION });
      s = await readSse(res);
      meta = dataOf(s.events[0], 'meta');
      done = dataOf(s.events.at(-1), 'done');
      sent = mock.requests[0]?.body as ChatCompletionCreateParams;
    });

    it('is answered as an event stream', () => {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    });

    it('streams meta, deltas and done', () => {
      expect(s.names[0]).toBe('meta');
      expect(s.names.at(-1)).toBe('done');
      expect(s.names.slice(1, -1).every((n) => n === 'delta')).toBe(true);
      expect(s.names.filter((n) => n === 'delta').length).toBeGreaterThan(3);
      expect(textOf(s)).toBe(REPLY);
      expect(meta).toEqual({
        conversationId: expect.any(String),
        userMessageId: expect.any(String),
        assistantMessageId: expect.any(String),
      });
      expect(done).toEqual({
        assistantMessageId: meta.assistantMessageId,
        finishReason: 'stop',
        usage: { promptTokens: expect.any(Number), completionTokens: estimateTokens(REPLY) },
        disclaimer: AI_DISCLAIMER,
      });
    });

    it('starts a conversation of the caller, titled by the question', async () => {
      const [conv] = await db.select().from(conversations).where(eq(conversations.id, meta.conversationId));
      expect(conv).toMatchObject({ userId: alice.userId, title: '我最近总是头疼晚上睡不着觉怎么办' });
      expect(conv?.lastMessageAt).toBeInstanceOf(Date);
    });

    it('stores the question and the answer, with its model and usage', async () => {
      const rows = await rowsOf(meta.conversationId);
      expect(rows.map((r) => [r.id, r.role, r.status])).toEqual([
        [meta.userMessageId, 'user', 'complete'],
        [meta.assistantMessageId, 'assistant', 'complete'],
      ]);
      expect(rows[1]).toMatchObject({
        content: REPLY,
        aiGenerated: true,
        model: 'mock-chat',
        finishReason: 'stop',
        completionTokens: estimateTokens(REPLY),
        promptTokens: done.usage.promptTokens,
      });
    });

    it('counts the day’s usage', async () => {
      const [usage] = await db.select().from(usageDaily).where(eq(usageDaily.userId, alice.userId));
      expect(usage).toMatchObject({ requests: 1, completionTokens: estimateTokens(REPLY) });
    });

    it('asks the model with the system prompt and the question, streaming with usage', () => {
      expect(sent).toMatchObject({
        model: 'mock-chat',
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(sent.messages[0]).toMatchObject({
        role: 'system',
        content: expect.stringContaining('健康助手'),
      });
      expect(sent.messages.at(-1)).toEqual({ role: 'user', content: QUESTION });
      expect(sent.messages).toHaveLength(2);
    });

    it('lists the answer with its disclaimer, model and usage', async () => {
      const listed = await h.call<Page<Message>>('GET', `/conversations/${meta.conversationId}/messages`, {
        token: alice.token,
      });
      expect(listed.json.items[1]).toMatchObject({
        id: meta.assistantMessageId,
        status: 'complete',
        aiGenerated: true,
        disclaimer: AI_DISCLAIMER,
        model: 'mock-chat',
        usage: done.usage,
      });
    });
  });

  it('stream=false answers one JSON document; a missing usage chunk is estimated', async () => {
    mock.enqueue({ reply: REPLY, omitUsage: true });
    const res = await post(alice, { content: '感冒了能喝咖啡吗' }, { query: '?stream=false' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await bodyOf<ChatResult>(res);
    expect(body).toEqual({
      conversationId: expect.any(String),
      userMessage: expect.objectContaining({ role: 'user', content: '感冒了能喝咖啡吗', status: 'complete' }),
      assistantMessage: expect.objectContaining({
        role: 'assistant',
        content: REPLY,
        status: 'complete',
        aiGenerated: true,
        disclaimer: AI_DISCLAIMER,
        usage: { promptTokens: expect.any(Number), completionTokens: estimateTokens(REPLY) },
      }),
    });
    expect(body.assistantMessage.usage?.promptTokens).toBeGreaterThan(100);
    expect((await answerRow(body.assistantMessage.id))?.status).toBe('complete');
  });

  it('continues a conversation: history within the budget, the health profile, the new question', async () => {
    await db
      .update(users)
      .set({ healthProfile: { allergies: ['青霉素'], conditions: ['高血压'], medications: ['氨氯地平'] } })
      .where(eq(users.id, alice.userId));
    secrets.add('青霉素').add('氨氯地平');
    const c = (
      await h.call<Conversation>('POST', '/conversations', { token: alice.token, body: { title: 't' } })
    ).json;
    // 30 CJK characters cost 34 tokens: a budget of 100 holds the newest two.
    const texts = ['一', '二', '三', '四'].map((ch) => ch.repeat(30));
    let role: 'user' | 'assistant' = 'user';
    for (const content of texts) {
      await insertMessage(db, alice.userId, c.id, {
        role,
        content,
        status: 'complete',
        createdAt: new Date(),
      });
      role = role === 'user' ? 'assistant' : 'user';
    }
    // A failed answer is never shown to the model.
    await insertMessage(db, alice.userId, c.id, {
      role: 'user',
      content: '五问',
      status: 'complete',
      createdAt: new Date(),
    });
    await insertMessage(db, alice.userId, c.id, {
      role: 'assistant',
      content: '',
      status: 'error',
      createdAt: new Date(),
    });

    mock.enqueue({ reply: '好的' });
    const s = await readSse(await post(alice, { conversationId: c.id, content: '那我该怎么办' }));
    expect(s.names.at(-1)).toBe('done');
    expect(dataOf(s.events[0], 'meta').conversationId).toBe(c.id);

    const sent = (mock.requests[0]?.body as ChatCompletionCreateParams | undefined)?.messages ?? [];
    expect(sent[0].role).toBe('system');
    expect(sent[0].content).toContain('青霉素');
    expect(sent[0].content).toContain('氨氯地平');
    expect(sent.slice(1)).toEqual([
      { role: 'user', content: texts[2] },
      { role: 'assistant', content: texts[3] },
      // The unanswered question and the new one, joined so roles alternate.
      { role: 'user', content: '五问\n\n那我该怎么办' },
    ]);
    await db.update(users).set({ healthProfile: null }).where(eq(users.id, alice.userId));
  });

  it('triages an emergency without asking the model', async () => {
    const s = await readSse(await post(alice, { content: '我胸口剧痛、出冷汗' }));
    expect(s.names).toEqual(['meta', 'triage', 'delta', 'done']);
    const triage = dataOf(s.events[1], 'triage');
    expect(triage).toMatchObject({
      level: 'emergency',
      actions: [expect.objectContaining({ type: 'call', number: '120' })],
    });
    expect(dataOf(s.events[2], 'delta').text).toBe(triage.message);
    expect(s.events[3]?.data).toMatchObject({ finishReason: 'triage' });
    expect(s.events[3]?.data).not.toHaveProperty('disclaimer');
    expect(mock.requests).toHaveLength(0);

    const row = await answerRow(dataOf(s.events[0], 'meta').assistantMessageId);
    expect(row).toMatchObject({ status: 'complete', aiGenerated: false, content: triage.message, triage });
  });

  it('stream=false answers an emergency with the triage, without asking the model', async () => {
    const json = await bodyOf<ChatResult>(
      await post(alice, { content: '胸口剧痛、出冷汗' }, { query: '?stream=false' }),
    );
    expect(json.assistantMessage).toMatchObject({ triage: { level: 'emergency' }, aiGenerated: false });
    expect(json.assistantMessage).not.toHaveProperty('disclaimer');
    expect(mock.requests).toHaveLength(0);
  });

  describe('failures', () => {
    it('upstream 500 before the first token: an error event, the question kept, the answer `error`', async () => {
      mock.enqueue({ status: 500 });
      const s = await readSse(await post(alice, { content: '血压高吃什么' }));
      expect(s.names).toEqual(['meta', 'error']);
      expect(s.events[1]?.data).toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.any(String) });
      const meta = dataOf(s.events[0], 'meta');
      const rows = await rowsOf(meta.conversationId);
      expect(rows.map((r) => [r.role, r.status, r.content])).toEqual([
        ['user', 'complete', '血压高吃什么'],
        ['assistant', 'error', ''],
      ]);
      expect(rows[1]).toMatchObject({ errorCode: 'UPSTREAM_ERROR', aiGenerated: false, promptTokens: null });
    });

    it('upstream 5xx with stream=false: 502 UPSTREAM_ERROR', async () => {
      mock.enqueue({ status: 503 });
      const json = await post(alice, { content: '血压高吃什么' }, { query: '?stream=false' });
      expect(json.status).toBe(502);
      expect(await errorCodeOf(json)).toBe('UPSTREAM_ERROR');
    });

    it('no first token in time: UPSTREAM_TIMEOUT, the upstream request aborted', async () => {
      for (const behavior of [{ firstTokenDelayMs: 5_000 }, { hang: true }]) {
        mock.reset();
        mock.enqueue(behavior);
        const started = Date.now();
        const s = await readSse(await post(alice, { content: '发烧三天了' }));
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(s.names).toEqual(['meta', 'error']);
        expect(dataOf(s.events[1], 'error').code).toBe('UPSTREAM_TIMEOUT');
        expect((await answerRow(dataOf(s.events[0], 'meta').assistantMessageId))?.status).toBe('error');
        await until(() => mock.requests[0]?.aborted);
      }
    });

    it('a stall between chunks: UPSTREAM_TIMEOUT after some text, stored as incomplete', async () => {
      mock.enqueue({ reply: REPLY, chunkSize: 4, chunkDelayMs: 5_000 });
      const s = await readSse(await post(alice, { content: '咳嗽怎么办' }));
      expect(s.names).toEqual(['meta', 'delta', 'error']);
      expect(dataOf(s.events[2], 'error').code).toBe('UPSTREAM_TIMEOUT');
      const row = await answerRow(dataOf(s.events[0], 'meta').assistantMessageId);
      expect(row).toMatchObject({ status: 'incomplete', content: REPLY.slice(0, 4), aiGenerated: true });
      await until(() => mock.requests[0]?.aborted);
    });

    it('a stream cut mid-way keeps the partial answer as incomplete with estimated usage', async () => {
      mock.enqueue({ reply: REPLY, chunkSize: 4, cutAfterChunks: 3 });
      const s = await readSse(await post(alice, { content: '胃疼怎么办' }));
      expect(s.names).toEqual(['meta', 'delta', 'delta', 'delta', 'error']);
      expect(s.events[4]?.data).toMatchObject({
        code: 'UPSTREAM_ERROR',
        assistantMessageId: dataOf(s.events[0], 'meta').assistantMessageId,
      });
      const row = await answerRow(dataOf(s.events[0], 'meta').assistantMessageId);
      expect(row).toMatchObject({
        status: 'incomplete',
        content: REPLY.slice(0, 12),
        completionTokens: estimateTokens(REPLY.slice(0, 12)),
      });
      const listed = await h.call<Page<Message>>(
        'GET',
        `/conversations/${dataOf(s.events[0], 'meta').conversationId}/messages`,
        { token: alice.token },
      );
      expect(listed.json.items.map((m) => m.status)).toEqual(['complete', 'incomplete']);
    });

    it('the client going away does not stop the answer: it is written to its end and stored complete', async () => {
      mock.enqueue({ reply: REPLY.repeat(5), chunkSize: 2, chunkDelayMs: 30 });
      const ac = new AbortController();
      const res = await post(alice, { content: '腰疼怎么办' }, { signal: ac.signal });
      let deltas = 0;
      let meta: ChatMeta | undefined;
      await readSse(res, (e) => {
        if (e.event === 'meta') meta = e.data;
        if (e.event === 'delta') deltas++;
        if (deltas === 3) ac.abort();
        return deltas === 3;
      }).catch(() => undefined);
      const seen = meta;
      if (!seen) throw new Error('no meta event');
      const row = await until(async () => {
        const r = await answerRow(seen.assistantMessageId);
        return r && r.status !== 'streaming' ? r : undefined;
      }, 10_000);
      expect(row.status).toBe('complete');
      expect(row.content).toBe(REPLY.repeat(5));
      expect(row.finishReason).toBe('stop');
      expect(mock.requests.at(-1)?.aborted).toBe(false);
    });
  });

  describe('Idempotency-Key', () => {
    /** Alice's question answered once under a new key. */
    const answeredOnce = async () => {
      const key = { 'idempotency-key': `k-${crypto.randomUUID()}` };
      mock.enqueue({ reply: REPLY });
      const first = await readSse(await post(alice, { content: '失眠怎么办' }, { headers: key }));
      expect(first.names.at(-1)).toBe('done');
      return { key, first };
    };

    it('replays a finished answer as a stream and as JSON without asking again', async () => {
      const { key, first } = await answeredOnce();
      const again = await readSse(await post(alice, { content: '失眠怎么办' }, { headers: key }));
      expect(again.names).toEqual(['meta', 'delta', 'done']);
      expect(again.events[0]?.data).toEqual(first.events[0]?.data);
      expect(textOf(again)).toBe(REPLY);
      expect(again.events[2]?.data).toEqual(first.events.at(-1)?.data);
      const json = await bodyOf<ChatResult>(
        await post(alice, { content: '失眠怎么办' }, { headers: key, query: '?stream=false' }),
      );
      expect(json.assistantMessage).toMatchObject({
        id: dataOf(first.events[0], 'meta').assistantMessageId,
        content: REPLY,
      });
      expect(mock.requests).toHaveLength(1);
      expect(await rowsOf(dataOf(first.events[0], 'meta').conversationId)).toHaveLength(2);
    });

    it('another body under a used key is 422', async () => {
      const { key } = await answeredOnce();
      const other = await post(alice, { content: '换个问题' }, { headers: key });
      expect(other.status).toBe(422);
      expect(await errorCodeOf(other)).toBe('UNPROCESSABLE');
      expect(mock.requests).toHaveLength(1);
    });

    it('keys are per user: bob’s same key is his own', async () => {
      const { key } = await answeredOnce();
      mock.enqueue({ reply: '好' });
      const bobs = await readSse(await post(bob, { content: '失眠怎么办' }, { headers: key }));
      expect(bobs.names.at(-1)).toBe('done');
      expect(mock.requests).toHaveLength(2);
    });

    it('answers 409 while the first request still runs', async () => {
      const key = { 'idempotency-key': `k-${crypto.randomUUID()}` };
      mock.enqueue({ reply: REPLY, chunkSize: 2, chunkDelayMs: 20 });
      const firstRes = await post(alice, { content: '便秘怎么办' }, { headers: key });
      const firstRead = readSse(firstRes);
      const during = await post(alice, { content: '便秘怎么办' }, { headers: key });
      expect(during.status).toBe(409);
      expect(await errorCodeOf(during)).toBe('CONFLICT');
      expect((await firstRead).names.at(-1)).toBe('done');
      const after = await readSse(await post(alice, { content: '便秘怎么办' }, { headers: key }));
      expect(textOf(after)).toBe(REPLY);
      expect(mock.requests).toHaveLength(1);
    });

    it('an answer that failed before any text frees the key for a retry', async () => {
      const key = { 'idempotency-key': `k-${crypto.randomUUID()}` };
      mock.enqueue({ status: 500 }, { reply: REPLY });
      const failed = await readSse(await post(alice, { content: '过敏了' }, { headers: key }));
      expect(failed.names).toEqual(['meta', 'error']);
      const retry = await readSse(await post(alice, { content: '过敏了' }, { headers: key }));
      expect(textOf(retry)).toBe(REPLY);
      expect(mock.requests).toHaveLength(2);
    });

    it('a key that is not a token is 400', async () => {
      const bad = await post(alice, { content: '过敏了' }, { headers: { 'idempotency-key': 'has space' } });
      expect(bad.status).toBe(400);
    });
  });

  describe('refusals before the stream are plain JSON envelopes', () => {
    it('another user’s conversation is 404 and nothing is stored or asked', async () => {
      const c = (
        await h.call<Conversation>('POST', '/conversations', { token: alice.token, body: { title: 'a' } })
      ).json;
      for (const query of ['', '?stream=false']) {
        const r = await post(bob, { conversationId: c.id, content: '看看别人的' }, { query });
        expect(r.status).toBe(404);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await errorCodeOf(r)).toBe('NOT_FOUND');
      }
      expect(await rowsOf(c.id)).toEqual([]);
      expect(mock.requests).toHaveLength(0);
      // The owner can use it, so the 404 is about ownership.
      mock.enqueue({ reply: '好' });
      expect(
        (await post(alice, { conversationId: c.id, content: '我的' }, { query: '?stream=false' })).status,
      ).toBe(200);
    });

    it('a user without consent is 403 CONSENT_REQUIRED', async () => {
      const noConsent = await h.login('carol');
      const r = await post(noConsent, { content: '头疼' });
      expect(r.status).toBe(403);
      expect(await errorCodeOf(r)).toBe('CONSENT_REQUIRED');
      expect(mock.requests).toHaveLength(0);
    });

    it('no token is 401', async () => {
      expect((await post(undefined, { content: '头疼' })).status).toBe(401);
      expect(mock.requests).toHaveLength(0);
    });

    it('an invalid body or stream flag is 400 BAD_REQUEST', async () => {
      for (const body of [
        {},
        { content: '' },
        { content: '   ' },
        { content: 'x'.repeat(4001) },
        { content: 'a', role: 'system' },
      ]) {
        const bad = await post(alice, body);
        expect(bad.status, JSON.stringify(body).slice(0, 40)).toBe(400);
        expect(await errorCodeOf(bad)).toBe('BAD_REQUEST');
      }
      expect((await post(alice, { content: 'x'.repeat(4000) }, { query: '?stream=maybe' })).status).toBe(400);
      expect(mock.requests).toHaveLength(0);
    });
  });

  it('never logs what users wrote or what the model answered', () => {
    const lines = h.logs;
    // The log is not empty, so this test can fail.
    expect(lines.some((l) => l.includes('"msg":"chat"'))).toBe(true);
    for (const text of secrets) {
      for (const line of lines)
        expect(line.includes(text), `log line contains user text: ${text}`).toBe(false);
    }
    // Stored texts too: each content snippet of the tests above.
    for (const line of lines) expect(line).not.toMatch(/头疼|胸口|多喝水/);
  });
});

describe('POST /text-chat with SDK retries', () => {
  let mock: MockLlm;
  let h: Harness;
  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({
      db: 'postgres',
      env: llmEnv(mock, { LLM_MAX_RETRIES: '1', LLM_FIRST_TOKEN_TIMEOUT_MS: '5000' }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });

  it('a 5xx before streaming is retried once, and the answer completes', async () => {
    const u = await h.user('retry');
    mock.enqueue({ status: 503 }, { reply: REPLY });
    const r = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: u.token,
      body: { content: '牙疼' },
    });
    expect(r.status).toBe(200);
    expect(r.json.assistantMessage).toMatchObject({ content: REPLY, status: 'complete' });
    expect(mock.requests).toHaveLength(2);
    const db = await h.rt.db();
    const rows = await db
      .select()
      .from(messages)
      .where(and(eq(messages.userId, u.userId), eq(messages.role, 'assistant')));
    expect(rows.map((m) => m.status)).toEqual(['complete']);
  });
});
