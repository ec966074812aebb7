// A model that keeps trickling text still ends within LLM_TIMEOUT_MS: the answer is stored as
// incomplete with what arrived, and the upstream request is aborted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResult } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { createHarness, type Harness } from '../helpers/harness.js';

describe('the whole-answer deadline', () => {
  let h: Harness;
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({
      env: {
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 't',
        LLM_MAX_RETRIES: '0',
        LLM_TIMEOUT_MS: '1000',
        LLM_FIRST_TOKEN_TIMEOUT_MS: '500',
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });

  it('ends a trickling answer as UPSTREAM_TIMEOUT, incomplete, upstream aborted', async () => {
    const u = await h.user('waiting');
    // Never silent for longer than 100 ms, but 200 chunks take 20 s in all.
    mock.enqueue({ reply: '慢'.repeat(400), chunkSize: 2, chunkDelayMs: 100 });
    const started = Date.now();
    const r = await h.call<ChatResult>('POST', '/text-chat?stream=false', {
      token: u.token,
      body: { content: '睡不着' },
    });
    const took = Date.now() - started;
    // stream=false with some text answers the stored, incomplete answer.
    expect(r.status).toBe(200);
    expect(r.json.assistantMessage.status).toBe('incomplete');
    expect(r.json.assistantMessage.content.length).toBeGreaterThan(0);
    expect(r.json.assistantMessage.content.length).toBeLessThan(400);
    expect(took).toBeLessThan(5_000);
    for (let i = 0; i < 40 && !mock.requests.at(-1)?.aborted; i++)
      await new Promise((res) => setTimeout(res, 50));
    expect(mock.requests.at(-1)?.aborted).toBe(true);
  });
});
