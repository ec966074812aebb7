// The model-judged triage layer against the local model stand-in, through the real openai SDK.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLlm } from '../../lib/llm/client.js';
import type { Llm } from '../../lib/llm/types.js';
import {
  CLASSIFIER_PROMPT,
  CLASSIFIER_TAG,
  classifyEmergency,
  parseVerdict,
  triageModel,
} from '../../lib/safety/classifier.js';

type Line = { level: 'info' | 'warn'; obj: Record<string, unknown>; msg: string };

function recorder() {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      info: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'info', obj, msg }),
      warn: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', obj, msg }),
    },
  };
}

describe('classifyEmergency with the mock model', () => {
  let mock: MockLlm;
  let llm: Llm;
  const signal = () => new AbortController().signal;

  beforeAll(async () => {
    mock = await startMockLlm();
    llm = createLlm(
      loadConfig({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'test', LLM_MAX_RETRIES: '2' }),
    );
  });
  afterAll(async () => {
    await mock.close();
  });
  beforeEach(() => mock.reset());

  it('returns the category of an emergency verdict and logs the request id and category only', async () => {
    const { lines, log } = recorder();
    const text = '我爸说胸口有点怪怪的 [[triage:emergency:cardiac]]';
    const verdict = await classifyEmergency(llm, {
      text,
      model: 'mock-mini',
      signal: signal(),
      log,
      requestId: 'r1',
    });
    expect(verdict).toEqual({ category: 'cardiac' });
    expect(lines).toEqual([
      { level: 'info', obj: { requestId: 'r1', category: 'cardiac' }, msg: expect.any(String) },
    ]);
    expect(JSON.stringify(lines)).not.toContain('胸口');

    // One small JSON request, kept apart from chat requests; the message goes as user data.
    expect(mock.requests).toHaveLength(0);
    expect(mock.classifications).toHaveLength(1);
    const body = mock.classifications[0]?.body as Record<string, unknown>;
    expect(body.model).toBe('mock-mini');
    expect(body.stream).toBe(false);
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages).toEqual([
      { role: 'system', content: CLASSIFIER_PROMPT },
      { role: 'user', content: text },
    ]);
    expect(CLASSIFIER_PROMPT).toContain(CLASSIFIER_TAG);
  });

  it('no marker: not an emergency, and nothing is logged', async () => {
    const { lines, log } = recorder();
    expect(
      await classifyEmergency(llm, { text: '高血压吃什么好', model: 'mock-mini', signal: signal(), log }),
    ).toBeNull();
    expect(lines).toEqual([]);
  });

  it('an unreadable answer or an unknown category is no verdict', async () => {
    const { lines, log } = recorder();
    const run = (text: string) => classifyEmergency(llm, { text, model: 'mock-mini', signal: signal(), log });
    expect(await run('头疼 [[triage:unreadable]]')).toBeNull();
    expect(await run('头疼 [[triage:emergency:zombie_bite]]')).toBeNull();
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(JSON.stringify(lines)).not.toContain('头疼');
  });

  it('a slow model is no verdict once the timeout passes, without retries', async () => {
    const { lines, log } = recorder();
    const started = Date.now();
    const verdict = await classifyEmergency(llm, {
      text: '[[triage:emergency:stroke]] [[mock:delay=3000]]',
      model: 'mock-mini',
      signal: signal(),
      timeoutMs: 300,
      log,
    });
    expect(verdict).toBeNull();
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(lines).toEqual([
      { level: 'warn', obj: { requestId: undefined, code: 'UPSTREAM_TIMEOUT' }, msg: expect.any(String) },
    ]);
  });

  it('an upstream error is no verdict and is not retried', async () => {
    const { lines, log } = recorder();
    const verdict = await classifyEmergency(llm, {
      text: '[[triage:emergency:stroke]] [[mock:status=500]]',
      model: 'mock-mini',
      signal: signal(),
      log,
    });
    expect(verdict).toBeNull();
    expect(mock.classifications).toHaveLength(1);
    expect(lines[0]?.obj.code).toBe('UPSTREAM_ERROR');
  });

  it('an aborted request (the answer finished, the client left) is no verdict and not logged', async () => {
    const { lines, log } = recorder();
    const ctrl = new AbortController();
    const pending = classifyEmergency(llm, {
      text: '[[triage:emergency:stroke]] [[mock:delay=3000]]',
      model: 'mock-mini',
      signal: ctrl.signal,
      log,
    });
    setTimeout(() => ctrl.abort(), 50);
    expect(await pending).toBeNull();
    expect(lines).toEqual([]);
  });

  it('chat requests still take queued behaviours; the classifier does not consume them', async () => {
    mock.enqueue({ reply: '排队的回答' });
    await classifyEmergency(llm, {
      text: '[[triage:emergency:burns]]',
      model: 'mock-mini',
      signal: signal(),
    });
    const events: string[] = [];
    for await (const ev of llm.streamChat({
      model: 'mock-chat',
      messages: [{ role: 'user', content: '你好' }],
      signal: signal(),
    })) {
      if (ev.type === 'text') events.push(ev.text);
    }
    expect(events.join('')).toBe('排队的回答');
  });
});

describe('classifier configuration and parsing', () => {
  it('TRIAGE_MODEL defaults to CHAT_MODEL; off disables', () => {
    expect(triageModel({ TRIAGE_MODEL: undefined, CHAT_MODEL: 'qwen-plus' })).toBe('qwen-plus');
    expect(triageModel({ TRIAGE_MODEL: 'qwen-turbo', CHAT_MODEL: 'qwen-plus' })).toBe('qwen-turbo');
    expect(triageModel({ TRIAGE_MODEL: 'off', CHAT_MODEL: 'qwen-plus' })).toBeNull();
    expect(triageModel({ TRIAGE_MODEL: 'OFF', CHAT_MODEL: 'qwen-plus' })).toBeNull();
    const c = loadConfig({});
    expect(c.TRIAGE_TIMEOUT_MS).toBe(4_000);
    expect(c.POLICE_NUMBER).toBe('110');
    expect(() => loadConfig({ POLICE_NUMBER: 'call the police' })).toThrow(/POLICE_NUMBER/);
  });

  it.each([
    ['{"emergency":true,"category":"stroke"}', { category: 'stroke' }],
    ['```json\n{"emergency":true,"category":"self_harm"}\n```', { category: 'self_harm' }],
    ['{"emergency":false,"category":"stroke"}', null],
    ['{"emergency":true,"category":null}', null],
    ['{"emergency":"yes","category":"stroke"}', null],
    ['{"emergency":true,"category":"unknown"}', null],
    ['not json', null],
    ['', null],
  ])('parseVerdict(%j)', (raw, expected) => {
    expect(parseVerdict(raw)).toEqual(expected);
  });
});
