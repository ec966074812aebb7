// WeChat content security in chat (when WeChat is configured): a refused question never reaches
// the model, a refused answer is stored as blocked, and emergencies are never withheld.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResult, LoginResponse, Message, Page } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { startWechatStub, type WechatStub } from '../../dev/wechat-stub/index.js';
import { BLOCKED_NOTICE } from '../../lib/chat/writer.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { dataOf, readSse, textOf } from '../helpers/sse.js';

describe('chat with WeChat content security', () => {
  let h: Harness;
  let stub: WechatStub;
  let mock: MockLlm;
  let token = '';

  beforeAll(async () => {
    stub = await startWechatStub({ appid: 'wx-app', secret: 'wx-secret', riskyWords: ['违禁测试词'] });
    mock = await startMockLlm();
    h = await createHarness({
      env: {
        WECHAT_APPID: 'wx-app',
        WECHAT_SECRET: 'wx-secret',
        WECHAT_API_BASE_URL: stub.baseUrl,
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 'test',
        LLM_MAX_RETRIES: '0',
      },
    });
    const login = await h.call<LoginResponse>('POST', '/users/login', { body: { code: 'ok:o-checked' } });
    token = login.json.accessToken;
    const version = h.rt.config.CONSENT_VERSION;
    await h.call('POST', '/users/me/consents', { token, body: { version, accepted: true } });
  });
  afterAll(async () => {
    await h?.close();
    await stub?.close();
    await mock?.close();
  });

  const ask = (content: string) =>
    h.call<ChatResult>('POST', '/text-chat?stream=false', { token, body: { content } });

  it('passes ordinary questions through to the model', async () => {
    const before = mock.requests.length;
    mock.enqueue({ reply: '多休息。' });
    const r = await ask('感冒了怎么办');
    expect(r.status).toBe(200);
    expect(r.json.assistantMessage).toMatchObject({
      status: 'complete',
      content: '多休息。',
      aiGenerated: true,
    });
    expect(mock.requests.length).toBe(before + 1);
  });

  it('blocks a refused question before any model call', async () => {
    const before = mock.requests.length;
    const r = await ask('这里有违禁测试词');
    expect(r.status).toBe(200);
    expect(r.json.userMessage.status).toBe('blocked');
    expect(r.json.assistantMessage).toMatchObject({
      status: 'blocked',
      content: BLOCKED_NOTICE,
      aiGenerated: false,
    });
    expect(mock.requests.length).toBe(before);
  });

  it('stores a refused model answer as blocked, replaced by the notice', async () => {
    mock.enqueue({ reply: '回答里有违禁测试词。' });
    const r = await ask('随便问问');
    expect(r.json.assistantMessage).toMatchObject({ status: 'blocked', content: BLOCKED_NOTICE });
    const msgs = await h.call<Page<Message>>('GET', `/conversations/${r.json.conversationId}/messages`, {
      token,
    });
    expect(msgs.json.items.map((m) => m.status)).toEqual(['complete', 'blocked']);
    expect(JSON.stringify(msgs.json)).not.toContain('违禁测试词。');
  });

  it('checks the answer while it streams: a risky phrase early in a long answer is replaced before it ends', async () => {
    const long = `开头一句违禁测试词。${'这是正常的健康建议内容。'.repeat(300)}`;
    mock.enqueue({ reply: long, chunkSize: 10, chunkDelayMs: 15 });
    const res = await h.fetch(
      new Request('http://api.test/api/v1/text-chat', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: '随便问问' }),
      }),
    );
    const read = await readSse(res);
    expect(read.names.slice(-2)).toEqual(['replace', 'done']);
    expect(dataOf(read.events.at(-2), 'replace').text).toBe(BLOCKED_NOTICE);
    expect(dataOf(read.events.at(-1), 'done').finishReason).toBe('blocked');
    // Replaced well before the model finished: most of the long answer was never streamed.
    expect(textOf(read).length).toBeLessThan(long.length / 2);
    // The model server hears the abort a moment after the stream ended.
    for (let i = 0; i < 100 && !mock.requests.at(-1)?.aborted; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(mock.requests.at(-1)?.aborted).toBe(true);
    const msgs = await h.call<Page<Message>>(
      'GET',
      `/conversations/${dataOf(read.events[0], 'meta').conversationId}/messages`,
      { token },
    );
    expect(msgs.json.items.at(-1)).toMatchObject({
      status: 'blocked',
      content: BLOCKED_NOTICE,
      aiGenerated: false,
    });
    expect(JSON.stringify(msgs.json)).not.toContain('违禁测试词');
  });

  it('never withholds emergency guidance', async () => {
    const r = await ask('违禁测试词 我胸口剧痛、出冷汗');
    expect(r.json.assistantMessage.triage?.category).toBe('cardiac');
  });
});
