// Limits on chat, against the real Redis through both client paths (Upstash REST via a local
// Upstash-compatible endpoint, and REDIS_URL): request rates, concurrent streams, the daily token
// quota with refunds, emergencies that pass regardless, and failing closed when Redis is gone.
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMeta, ChatResult, ErrorEnvelope } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { startUpstashRest, type UpstashRestServer } from '../../dev/upstash-rest/index.js';
import { messages } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const REDIS = 'redis://127.0.0.1:6379';
let rest: UpstashRestServer;
let mock: MockLlm;

beforeAll(async () => {
  rest = await startUpstashRest({ redisUrl: REDIS, token: 'local-token' });
  mock = await startMockLlm({ defaults: { reply: '注意休息。' } });
});
afterAll(async () => {
  await rest?.close();
  await mock?.close();
});

type Backend = 'upstash' | 'redis';
function env(backend: Backend, extra: Record<string, string> = {}) {
  return {
    OPENAI_BASE_URL: mock.baseURL,
    OPENAI_API_KEY: 'test',
    LLM_MAX_RETRIES: '0',
    LLM_FIRST_TOKEN_TIMEOUT_MS: '2000',
    HISTORY_TOKEN_BUDGET: '100',
    LLM_MAX_OUTPUT_TOKENS: '100',
    REDIS_TIMEOUT_MS: '1000',
    RATE_LIMIT_PREFIX: `t:${crypto.randomUUID()}:`,
    ...(backend === 'upstash'
      ? { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: 'local-token' }
      : { REDIS_URL: REDIS }),
    ...extra,
  };
}
const limits = (p: Record<string, { limit: number }>) => ({ RATE_LIMITS: JSON.stringify(p) });

/** T: the answer of stream=false (200), or the ErrorEnvelope of a refusal. */
async function chat<T = ChatResult>(h: Harness, token: string, content: string, query = '?stream=false') {
  return h.call<T>('POST', `/text-chat${query}`, { token, body: { content } });
}

describe.each(['upstash', 'redis'] as const)('chat limits over %s', (backend) => {
  let h: Harness;
  afterAll(async () => {
    await h?.close();
  });

  describe('past the per-minute limit', () => {
    let perMinute: Harness;
    let busy: Awaited<ReturnType<Harness['user']>>;
    let answered: Awaited<ReturnType<typeof chat>>[];
    let refused: Awaited<ReturnType<typeof chat<ErrorEnvelope>>>;
    let modelCalls: number;
    beforeAll(async () => {
      perMinute = await createHarness({ env: env(backend, limits({ 'chat:user:minute': { limit: 2 } })) });
      busy = await perMinute.user('busy');
      const before = mock.requests.length;
      answered = [
        await chat(perMinute, busy.token, '头疼怎么办'),
        await chat(perMinute, busy.token, '头疼怎么办'),
      ];
      refused = await chat<ErrorEnvelope>(perMinute, busy.token, '头疼怎么办');
      modelCalls = mock.requests.length - before;
    });
    afterAll(async () => {
      await perMinute?.close();
    });

    it('answers up to the limit, the last with RateLimit-Remaining 0', () => {
      expect(answered[0]?.status).toBe(200);
      expect(answered[1]?.status).toBe(200);
      expect(answered[1]?.headers.get('ratelimit-remaining')).toBe('0');
    });

    it('answers 429 with Retry-After and RateLimit headers past the per-minute limit', () => {
      expect(refused.status).toBe(429);
      expect(refused.json.error.code).toBe('RATE_LIMITED');
      const retry = Number(refused.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60);
      expect(refused.headers.get('ratelimit-limit')).toBe('2');
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(Number(refused.headers.get('ratelimit-reset'))).toBe(retry);
    });

    it('neither stores the refused question nor sends it to the model', async () => {
      expect(modelCalls).toBe(2);
      const [stored] = await perMinute.db.db
        .select({ n: count() })
        .from(messages)
        .where(eq(messages.userId, busy.userId));
      expect(stored?.n).toBe(4);
    });

    it('replays a retry of an answered request under its Idempotency-Key, limits or not', async () => {
      const key = { 'idempotency-key': `k-${crypto.randomUUID()}` };
      const retrier = await perMinute.user('retrier');
      const q = { token: retrier.token, body: { content: '头疼怎么办' }, headers: key };
      const first = await perMinute.call<ChatResult>('POST', '/text-chat?stream=false', q);
      expect(first.status).toBe(200);
      expect((await chat(perMinute, retrier.token, '头疼怎么办')).status).toBe(200);
      expect((await chat(perMinute, retrier.token, '头疼怎么办')).status).toBe(429);
      const replayed = await perMinute.call<ChatResult>('POST', '/text-chat?stream=false', q);
      expect(replayed.status).toBe(200);
      expect(replayed.json.assistantMessage.id).toBe(first.json.assistantMessage.id);
    });

    it('answers a warning sign even so: the emergency guidance costs no model call', async () => {
      const before = mock.requests.length;
      const urgent = await chat(perMinute, busy.token, '我胸口剧痛、出冷汗');
      expect(urgent.status).toBe(200);
      expect(urgent.json.assistantMessage.triage?.category).toBe('cardiac');
      expect(mock.requests.length).toBe(before);
    });

    it('does not limit another user', async () => {
      const calm = await perMinute.user('calm');
      expect((await chat(perMinute, calm.token, '头疼怎么办')).status).toBe(200);
    });
  });

  it('gives back what a refused turn counted: an ended sign-in and a replayed retry spend nothing', async () => {
    h = await createHarness({ env: env(backend, limits({ 'chat:user:minute': { limit: 2 } })) });
    const old = await h.user('refunded');
    await h.call('POST', '/users/logout', { body: { refreshToken: old.refresh } });
    for (let i = 0; i < 3; i++) expect((await chat(h, old.token, `问题 ${i}`)).status).toBe(401);
    const u = await h.user('refunded');
    const key = { 'idempotency-key': `k-${crypto.randomUUID()}` };
    const q = { token: u.token, body: { content: '第一个问题' }, headers: key };
    expect((await h.call('POST', '/text-chat?stream=false', q)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await h.call('POST', '/text-chat?stream=false', q)).status).toBe(200);
    // The refunds run after the answer: wait for them as a later request would find them.
    await h.rt.settled();
    expect((await chat(h, u.token, '第二个问题')).status).toBe(200);
    const over = await chat<ErrorEnvelope>(h, u.token, '第三个问题');
    expect(over.status).toBe(429);
    expect(over.json.error.code).toBe('RATE_LIMITED');
    await h.close();
  });

  it('caps concurrent answers: the slot is held while the answer is written, not while a client listens', async () => {
    h = await createHarness({ db: 'postgres', env: env(backend, { MAX_CONCURRENT_STREAMS: '1' }) });
    const server = await h.listen();
    const u = await h.user('streamer');
    mock.enqueue({ reply: '慢慢说。'.repeat(25), chunkSize: 2, chunkDelayMs: 30 });
    const abort = new AbortController();
    const first = await fetch(`${server.url}/api/v1/text-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: '睡不着怎么办' }),
      signal: abort.signal,
    });
    // Read until the answer is streaming.
    const reader = first.body?.getReader();
    let seen = '';
    while (reader && !seen.includes('event: delta')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(seen).toContain('event: delta');
    const second = await chat<ErrorEnvelope>(h, u.token, '还是睡不着', '');
    expect(second.status).toBe(429);
    expect(second.json.error.code).toBe('RATE_LIMITED');
    // The client leaves; the answer goes on being written, and keeps its slot meanwhile.
    abort.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect((await chat(h, u.token, '还是睡不着', '')).status).toBe(429);
    // Once the answer is stored, its slot is free again.
    const meta: ChatMeta = JSON.parse(/event: meta\ndata: (.*)\n/.exec(seen)?.[1] ?? '{}');
    for (let i = 0; i < 200; i++) {
      const [row] = await h.db.db.select().from(messages).where(eq(messages.id, meta.assistantMessageId));
      if (row && row.status !== 'streaming') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    let third = await chat(h, u.token, '还是睡不着');
    for (let i = 0; i < 20 && third.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 50));
      third = await chat(h, u.token, '还是睡不着');
    }
    expect(third.status).toBe(200);
    await h.close();
  });

  it('reserves the daily quota before a call, refunds a failed call, and then refuses with the reset time', async () => {
    // Each turn reserves ≈ 800 + question + 100 history + 100 output tokens.
    h = await createHarness({ env: env(backend, { DAILY_TOKEN_QUOTA_USER: '1100' }) });
    const u = await h.user('spender');
    for (let i = 0; i < 3; i++) {
      // Upstream failures use nothing: without the refund the second reservation would not fit.
      mock.enqueue({ status: 500 });
      const failed = await chat(h, u.token, '咳嗽怎么办');
      expect(failed.status).toBe(502);
    }
    const ok = await chat(h, u.token, '咳嗽怎么办');
    expect(ok.status).toBe(200);
    const usage = ok.json.assistantMessage.usage;
    if (!usage) throw new Error('no usage on the answer');
    const used = usage.promptTokens + usage.completionTokens;
    expect(used).toBeGreaterThan(100);
    const refused = await chat<ErrorEnvelope>(h, u.token, '咳嗽怎么办');
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('QUOTA_EXCEEDED');
    const resetAt = /resets at (\S+)$/.exec(refused.json.error.message)?.[1] ?? '';
    const reset = new Date(resetAt);
    // The next midnight in Asia/Shanghai is 16:00 UTC.
    expect(reset.getUTCHours()).toBe(16);
    expect(reset.getTime()).toBeGreaterThan(Date.now());
    expect(reset.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    await h.close();
  });
});

describe('failing closed when Redis does not answer', () => {
  it.each([
    ['REDIS_URL at a closed port', { REDIS_URL: 'redis://127.0.0.1:1' }],
    [
      'Upstash REST at a closed port',
      { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1', UPSTASH_REDIS_REST_TOKEN: 't' },
    ],
  ])('%s: chat answers 503 quickly, stores nothing and asks no model', async (_name, extra) => {
    const h = await createHarness({
      env: {
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 'test',
        REDIS_TIMEOUT_MS: '300',
        // Sign-in fails closed too; opened here so the test can get a token to show chat refusing.
        RATE_LIMITS: JSON.stringify({
          'login:ip': { failMode: 'open' },
          'login:openid': { failMode: 'open' },
        }),
        ...extra,
      },
    });
    try {
      const u = await h.user('unlucky');
      const before = mock.requests.length;
      const started = Date.now();
      const r = await chat<ErrorEnvelope>(h, u.token, '头疼怎么办', '');
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(r.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(mock.requests.length).toBe(before);
      const [stored] = await h.db.db
        .select({ n: count() })
        .from(messages)
        .where(eq(messages.userId, u.userId));
      expect(stored?.n).toBe(0);
    } finally {
      await h.close();
    }
  });
});
