// Model fallback against two local model servers through the real openai SDK: the configured one
// fails before its first token (HTTP 500, 429, a first-token timeout, a stream cut before any text)
// and LLM_FALLBACKS answers; a failure after the first token never falls back; a provider that keeps
// failing is skipped for a while; image questions use the fallback's visionModel. Then the whole
// chat route: the stored answer names the model that answered and carries its cost.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResult } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { messages } from '../../lib/db/schema.js';
import { createLlm } from '../../lib/llm/client.js';
import { type ChatMessage, type Llm, LlmError, type LlmEvent } from '../../lib/llm/types.js';
import { createHarness, type Harness, testEnv } from '../helpers/harness.js';

let primary: MockLlm;
let backup: MockLlm;
let vision: MockLlm;

beforeAll(async () => {
  [primary, backup, vision] = await Promise.all([startMockLlm(), startMockLlm(), startMockLlm()]);
});
afterAll(async () => {
  await Promise.all([primary?.close(), backup?.close(), vision?.close()]);
});
beforeEach(() => {
  for (const m of [primary, backup, vision]) m.reset();
});

const env = (extra: Record<string, string> = {}) =>
  testEnv({
    OPENAI_BASE_URL: primary.baseURL,
    OPENAI_API_KEY: 'primary-key',
    LLM_MAX_RETRIES: '0',
    LLM_FIRST_TOKEN_TIMEOUT_MS: '1500',
    LLM_FALLBACKS: JSON.stringify([
      // Text only: sits out image questions.
      { baseURL: backup.baseURL, apiKey: 'backup-key', model: 'mock-mini' },
      { baseURL: vision.baseURL, apiKey: 'vision-key', model: 'mock-chat', visionModel: 'mock-vision' },
    ]),
    ...extra,
  });

const question: ChatMessage[] = [{ role: 'user', content: '感冒了怎么办' }];

async function run(
  llm: Llm,
  msgs: ChatMessage[] = question,
): Promise<{ events: LlmEvent[]; text: string; error?: LlmError }> {
  const events: LlmEvent[] = [];
  try {
    for await (const ev of llm.streamChat({
      model: 'mock-chat',
      messages: msgs,
      signal: new AbortController().signal,
    })) {
      events.push(ev);
    }
    return { events, text: textOf(events) };
  } catch (err) {
    if (!(err instanceof LlmError)) throw err;
    return { events, text: textOf(events), error: err };
  }
}
const textOf = (events: LlmEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('');
const modelOf = (body: unknown) => (body as { model?: string }).model;

describe('createLlm with LLM_FALLBACKS', () => {
  it('answers from the configured model when it works, and says so first', async () => {
    const llm = createLlm(loadConfig(env()));
    const r = await run(llm);
    expect(r.error).toBeUndefined();
    expect(r.events[0]).toEqual({ type: 'model', model: 'mock-chat' });
    expect(r.events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(r.text.length).toBeGreaterThan(10);
    expect([primary.requests.length, backup.requests.length]).toEqual([1, 0]);
  });

  it('falls back when the configured model answers 500', async () => {
    const llm = createLlm(loadConfig(env()));
    primary.enqueue({ status: 500 });
    const r = await run(llm);
    expect(r.error).toBeUndefined();
    expect(r.events[0]).toEqual({ type: 'model', model: 'mock-mini' });
    expect(r.text.length).toBeGreaterThan(10);
    expect(primary.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(1);
    expect(modelOf(backup.requests[0]?.body)).toBe('mock-mini');
    // Each provider gets its own key.
    expect(backup.requests[0]?.headers.authorization).toBe('[redacted]');
  });

  it('falls back on a first-token timeout, a 429 and a stream cut before any text', async () => {
    const llm = createLlm(loadConfig(env()));
    for (const fault of [{ firstTokenDelayMs: 8_000 }, { status: 429 }, { cutAfterChunks: 0 }]) {
      primary.reset();
      backup.reset();
      primary.enqueue(fault);
      const started = Date.now();
      const r = await run(llm);
      expect(r.error, JSON.stringify(fault)).toBeUndefined();
      expect(r.events[0]).toEqual({ type: 'model', model: 'mock-mini' });
      expect(backup.requests).toHaveLength(1);
      if (fault.firstTokenDelayMs) {
        // Given up at the first-token timeout, not after the provider's delay.
        expect(Date.now() - started).toBeLessThan(6_000);
        await expect.poll(() => primary.requests[0]?.aborted).toBe(true);
      }
    }
  });

  it('never falls back once text was streamed: the answer stops where it was cut', async () => {
    const llm = createLlm(loadConfig(env()));
    primary.enqueue({ cutAfterChunks: 2, chunkSize: 3 });
    const r = await run(llm);
    expect(r.error?.code).toBe('UPSTREAM_ERROR');
    expect(r.events[0]).toEqual({ type: 'model', model: 'mock-chat' });
    expect(r.text).toHaveLength(6);
    expect(backup.requests).toHaveLength(0);
    expect(vision.requests).toHaveLength(0);
  });

  it('does not fall back on other 4xx answers (a refused request fails the same anywhere)', async () => {
    const llm = createLlm(loadConfig(env()));
    primary.enqueue({ status: 400 });
    const r = await run(llm);
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR', status: 400 });
    expect(backup.requests).toHaveLength(0);
  });

  it('when every provider fails, the last one’s error is the answer', async () => {
    const llm = createLlm(loadConfig(env()));
    primary.enqueue({ status: 500 });
    backup.enqueue({ status: 503 });
    vision.enqueue({ status: 502 });
    const r = await run(llm);
    expect(r.error).toMatchObject({ code: 'UPSTREAM_ERROR', status: 502 });
    expect(r.events).toEqual([]);
  });

  it('image questions use the fallbacks’ visionModel and skip those without one', async () => {
    const llm = createLlm(loadConfig(env()));
    primary.enqueue({ status: 500 });
    const withImage: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'text', text: '这是什么皮疹' },
        ],
      },
    ];
    const r = await run(llm, withImage);
    expect(r.error).toBeUndefined();
    expect(r.events[0]).toEqual({ type: 'model', model: 'mock-vision' });
    expect(backup.requests).toHaveLength(0);
    expect(vision.requests).toHaveLength(1);
    expect(modelOf(vision.requests[0]?.body)).toBe('mock-vision');
  });

  it('a provider that keeps failing is skipped until its cooldown ends', async () => {
    const llm = createLlm(loadConfig(env({ LLM_BREAKER_FAILURES: '2', LLM_BREAKER_COOLDOWN_MS: '1000' })));
    primary.setDefaults({ status: 500 });
    await run(llm);
    await run(llm);
    expect(primary.requests).toHaveLength(2);
    // Open: straight to the fallback.
    const skipped = await run(llm);
    expect(skipped.events[0]).toEqual({ type: 'model', model: 'mock-mini' });
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(3);

    // After the cooldown it is tried again, and a success closes it.
    await new Promise((r) => setTimeout(r, 1_100));
    primary.setDefaults({});
    const back = await run(llm);
    expect(back.events[0]).toEqual({ type: 'model', model: 'mock-chat' });
    expect(primary.requests).toHaveLength(3);
  });
});

describe('the chat route with a fallback', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      db: 'postgres',
      env: {
        OPENAI_BASE_URL: primary.baseURL,
        OPENAI_API_KEY: 'primary-key',
        CHAT_MODEL: 'mock-chat',
        LLM_MAX_RETRIES: '0',
        LLM_FIRST_TOKEN_TIMEOUT_MS: '1500',
        LLM_FALLBACKS: JSON.stringify([{ baseURL: backup.baseURL, apiKey: 'k', model: 'mock-mini' }]),
        MODEL_PRICES: JSON.stringify({ 'mock-mini': { input: 4, output: 16 } }),
      },
    });
  });
  afterAll(() => h?.close());

  it('stores the model that answered, with the answer’s cost at its price', async () => {
    const u = await h.user('fallback-user');
    primary.enqueue({ status: 500 });
    const r = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: u.token,
      body: { content: '嗓子疼怎么办' },
    });
    expect(r.status).toBe(200);
    const a = r.json.assistantMessage;
    expect(a).toMatchObject({ model: 'mock-mini', status: 'complete' });
    const [row] = await h.db.db.select().from(messages).where(eq(messages.id, a.id));
    expect(row?.model).toBe('mock-mini');
    if (!a.usage) throw new Error('no usage on the answer');
    const { promptTokens, completionTokens } = a.usage;
    expect(row?.costCny).toBeCloseTo((promptTokens * 4 + completionTokens * 16) / 1e6, 6);
    expect(row?.costCny).toBeGreaterThan(0);

    // The configured model answering: its own name, and no price means cost 0.
    const again = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: u.token,
      body: { conversationId: r.json.conversationId, content: '还要注意什么' },
    });
    expect(again.json.assistantMessage.model).toBe('mock-chat');
    const [second] = await h.db.db
      .select()
      .from(messages)
      .where(eq(messages.id, again.json.assistantMessage.id));
    expect(second?.costCny).toBe(0);
  });
});
