// The model client reads streamed usage where each provider puts it: top-level on the last chunk
// (OpenAI, Qwen, DeepSeek) or in choices[0].usage of the finishing chunk (Moonshot / Kimi).
// Real openai SDK against the local stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens, type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLlm } from '../../lib/llm/client.js';
import type { Llm, LlmEvent } from '../../lib/llm/types.js';

describe('streamed usage', () => {
  let mock: MockLlm;
  let llm: Llm;
  beforeAll(async () => {
    mock = await startMockLlm();
    llm = createLlm(loadConfig({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 't', LLM_MAX_RETRIES: '0' }));
  });
  afterAll(() => mock?.close());

  async function events(question: string): Promise<LlmEvent[]> {
    const out: LlmEvent[] = [];
    const signal = new AbortController().signal;
    for await (const e of llm.streamChat({
      model: 'm',
      messages: [{ role: 'user', content: question }],
      signal,
    })) {
      out.push(e);
    }
    return out;
  }

  it.each([
    ['OpenAI shape (a last chunk with top-level usage)', 'chunk'],
    ['Moonshot shape (choices[0].usage)', 'choice'],
  ] as const)('reads usage in the %s', async (_name, usageIn) => {
    const reply = '多喝温水，注意休息。';
    mock.enqueue({ reply, usageIn });
    const got = await events('嗓子疼');
    const usage = got.filter((e) => e.type === 'usage');
    expect(usage).toEqual([
      { type: 'usage', promptTokens: expect.any(Number), completionTokens: estimateTokens(reply) },
    ]);
    expect(got.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(
      got
        .filter((e) => e.type === 'text')
        .map((e) => (e.type === 'text' ? e.text : ''))
        .join(''),
    ).toBe(reply);
  });

  it('the Moonshot shape can also be asked for with a directive', async () => {
    const got = await events('[[mock:usage=choice]] 头疼');
    expect(got.some((e) => e.type === 'usage' && e.completionTokens > 0)).toBe(true);
  });

  it('no usage at all gives no usage event (the caller estimates)', async () => {
    mock.enqueue({ reply: '好的', usageIn: 'choice', omitUsage: true });
    expect((await events('x')).filter((e) => e.type === 'usage')).toEqual([]);
  });
});
