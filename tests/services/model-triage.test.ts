// The second triage layer, end to end through the chat flow: TRIAGE_MODEL judges the question next
// to the answer (the local model stand-in answers the classifier by its test marker). An emergency
// verdict replaces what was shown (`triage` then `replace`), aborts the model's answer and stores
// the guidance with source "model"; no verdict or a broken classifier changes nothing.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { messages } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { dataOf, readSse, textOf } from '../helpers/sse.js';

const SLOW = { reply: '可以先休息一下，多喝温水，观察一下。'.repeat(10), chunkSize: 2, chunkDelayMs: 40 };

describe('model-judged triage while the answer is written', () => {
  let mock: MockLlm;
  let h: Harness;
  let off: Harness;
  let token = '';
  let offToken = '';
  beforeAll(async () => {
    mock = await startMockLlm();
    const env = {
      OPENAI_BASE_URL: mock.baseURL,
      OPENAI_API_KEY: 't',
      CHAT_MODEL: 'mock-chat',
      LLM_MAX_RETRIES: '0',
    };
    h = await createHarness({ db: 'postgres', env });
    off = await createHarness({ env: { ...env, TRIAGE_MODEL: 'off' } });
    token = (await h.user('judged')).token;
    offToken = (await off.user('unjudged')).token;
  });
  afterAll(async () => {
    await h?.close();
    await off?.close();
    await mock?.close();
  });

  const ask = (on: Harness, t: string, content: string) =>
    on.fetch(
      new Request('http://api.test/api/v1/text-chat', {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content }),
      }),
    );

  it('an emergency verdict replaces the answer, aborts the model and stores the guidance', async () => {
    mock.enqueue(SLOW);
    const read = await readSse(
      await ask(h, token, '我爸说有点不舒服，在沙发上躺着 [[triage:emergency:cardiac]]'),
    );
    const names = read.names;
    expect(names[0]).toBe('meta');
    expect(names.slice(-3)).toEqual(['triage', 'replace', 'done']);
    const triage = dataOf(read.events.at(-3), 'triage');
    expect(triage).toMatchObject({ level: 'emergency', category: 'cardiac', source: 'model' });
    expect(triage.actions[0]).toMatchObject({ type: 'call', number: '120' });
    const replaced = dataOf(read.events.at(-2), 'replace').text;
    expect(replaced).toBe(triage.message);
    expect(read.events.at(-1)?.data).toMatchObject({ finishReason: 'triage' });
    expect(read.events.at(-1)?.data).not.toHaveProperty('disclaimer');
    const id = dataOf(read.events[0], 'meta').assistantMessageId;
    const [row] = await h.db.db.select().from(messages).where(eq(messages.id, id));
    expect(row).toMatchObject({
      status: 'complete',
      content: replaced,
      aiGenerated: false,
      finishReason: 'triage',
    });
    expect(row?.triage).toMatchObject({ category: 'cardiac', source: 'model' });
    expect(mock.requests.at(-1)?.aborted).toBe(true);
    expect(mock.classifications.length).toBeGreaterThan(0);
  });

  it('no verdict, or an unreadable one, leaves the answer as the model wrote it', async () => {
    for (const content of ['最近睡不好怎么办', '最近睡不好怎么办 [[triage:unreadable]]']) {
      mock.enqueue({ reply: '规律作息。' });
      const read = await readSse(await ask(h, token, content));
      expect(read.names).not.toContain('triage');
      expect(read.names).not.toContain('replace');
      expect(read.names.at(-1)).toBe('done');
      expect(textOf(read)).toBe('规律作息。');
    }
  });

  it('TRIAGE_MODEL=off asks no classifier', async () => {
    const before = mock.classifications.length;
    mock.enqueue({ reply: '规律作息。' });
    const read = await readSse(await ask(off, offToken, '有点不舒服 [[triage:emergency:cardiac]]'));
    expect(read.names).not.toContain('replace');
    expect(textOf(read)).toBe('规律作息。');
    expect(mock.classifications.length).toBe(before);
  });
});
