// Graceful shutdown of the one-server deployment (npm start): open chat streams get the grace
// period to finish; those still open then are cut and stored as incomplete, never left streaming.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { messages } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { readSse } from '../helpers/sse.js';

describe('closing the server with chat streams open', () => {
  let h: Harness;
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({
      db: 'postgres',
      env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 't', LLM_MAX_RETRIES: '0' },
    });
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });

  async function openStream(url: string, token: string) {
    const res = await fetch(`${url}/api/v1/text-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: '失眠怎么办' }),
    });
    return readSse(res).catch(() => ({ events: [], comments: [], names: ['cut'] }));
  }

  async function statusOf(userId: string) {
    for (let i = 0; i < 100; i++) {
      const rows = await h.db.db.select().from(messages).where(eq(messages.userId, userId));
      const answer = rows.find((r) => r.role === 'assistant');
      if (answer && answer.status !== 'streaming') return answer;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('answer still streaming');
  }

  it('a stream that ends within the grace period completes', async () => {
    const u = await h.user('patient');
    const server = await h.listen();
    mock.enqueue({ reply: '早睡早起。'.repeat(10), chunkSize: 5, chunkDelayMs: 50 });
    const reading = openStream(server.url, u.token);
    await new Promise((r) => setTimeout(r, 200));
    await server.close(5_000);
    const read = await reading;
    expect(read.names.at(-1)).toBe('done');
    expect((await statusOf(u.userId)).status).toBe('complete');
  });

  it('a stream still open after the grace period is cut and stored as incomplete', async () => {
    const u = await h.user('impatient');
    const server = await h.listen();
    mock.enqueue({ reply: '慢慢来。'.repeat(200), chunkSize: 2, chunkDelayMs: 30 });
    const reading = openStream(server.url, u.token);
    await new Promise((r) => setTimeout(r, 300));
    await server.close(200);
    const read = await reading;
    expect(read.names.at(-1)).not.toBe('done');
    const answer = await statusOf(u.userId);
    expect(answer.status).toBe('incomplete');
    expect(answer.content.length).toBeGreaterThan(0);
    expect(mock.requests.at(-1)?.aborted).toBe(true);
  });
});
