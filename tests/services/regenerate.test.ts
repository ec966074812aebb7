// POST /conversations/:id/messages/:messageId/regenerate: a new answer to the same question, asked
// exactly as chat asks, with the earlier answer kept as a version; the model's history uses the
// current version, and only the conversation's last answer can be regenerated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResult, Message, MessageVersions, Page } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { readSse, textOf } from '../helpers/sse.js';

describe('regenerating an answer', () => {
  let mock: MockLlm;
  let h: Harness;
  let alice: { token: string };
  let bob: { token: string };
  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({
      db: 'postgres',
      env: {
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 't',
        CHAT_MODEL: 'mock-chat',
        LLM_MAX_RETRIES: '0',
      },
    });
    alice = await h.user('alice');
    bob = await h.user('bob');
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });

  const ask = async (content: string, conversationId?: string): Promise<ChatResult> =>
    (
      await h.call<ChatResult>('POST', '/text-chat?stream=false', {
        token: alice.token,
        body: { content, conversationId },
      })
    ).json;
  const regenerate = (c: string, m: string, token = alice.token, headers: Record<string, string> = {}) =>
    h.call<ChatResult>('POST', `/conversations/${c}/messages/${m}/regenerate?stream=false`, {
      token,
      headers,
    });

  it('answers the same question again, keeps the earlier answer as a version, and lists the current one', async () => {
    mock.enqueue({ reply: '第一次回答。' }, { reply: '第二次回答。' }, { reply: '第三次回答。' });
    const first = await ask('最近总是失眠');
    const c = first.conversationId;
    const second = await regenerate(c, first.assistantMessage.id);
    expect(second.status).toBe(200);
    expect(second.json.userMessage.id).toBe(first.userMessage.id);
    expect(second.json.assistantMessage).toMatchObject({ content: '第二次回答。', version: 2, versions: 2 });
    // The model was asked the stored question, without the answer being replaced in its history.
    const sent = JSON.stringify(mock.requests.at(-1)?.body);
    expect(sent).toContain('最近总是失眠');
    expect(sent).not.toContain('第一次回答');
    const list = await h.call<Page<Message>>('GET', `/conversations/${c}/messages`, { token: alice.token });
    expect(list.json.items.map((m) => m.content)).toEqual(['最近总是失眠', '第二次回答。']);
    const versions = await h.call<MessageVersions>(
      'GET',
      `/conversations/${c}/messages/${second.json.assistantMessage.id}/versions`,
      {
        token: alice.token,
      },
    );
    expect(versions.json.items.map((m) => m.content)).toEqual(['第一次回答。', '第二次回答。']);
    // Streamed, like chat.
    const res = await h.fetch(
      new Request(
        `http://api.test/api/v1/conversations/${c}/messages/${second.json.assistantMessage.id}/regenerate`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${alice.token}` },
        },
      ),
    );
    const read = await readSse(res);
    expect(read.names[0]).toBe('meta');
    expect(read.names.at(-1)).toBe('done');
    expect(textOf(read)).toBe('第三次回答。');
  });

  it('the next question sees the current version in its history', async () => {
    mock.enqueue({ reply: '旧的回答。' }, { reply: '新的回答。' }, { reply: '继续。' });
    const first = await ask('头疼怎么办');
    await regenerate(first.conversationId, first.assistantMessage.id);
    await ask('还需要注意什么', first.conversationId);
    const sent = JSON.stringify(mock.requests.at(-1)?.body);
    expect(sent).toContain('新的回答。');
    expect(sent).not.toContain('旧的回答。');
  });

  it('refuses an earlier answer (409), a question (422), another user’s or an unknown answer (404)', async () => {
    mock.enqueue({ reply: '一。' }, { reply: '二。' });
    const first = await ask('腰疼');
    const next = await ask('还有呢', first.conversationId);
    expect((await regenerate(first.conversationId, first.assistantMessage.id)).status).toBe(409);
    expect((await regenerate(first.conversationId, next.userMessage.id)).status).toBe(422);
    const other = await regenerate(first.conversationId, next.assistantMessage.id, bob.token);
    expect(other.status).toBe(404);
    expect(other.json).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await regenerate(first.conversationId, crypto.randomUUID())).status).toBe(404);
  });

  it('an Idempotency-Key retry gets the stored result instead of another answer', async () => {
    mock.enqueue({ reply: '原答案。' }, { reply: '重答。' });
    const first = await ask('咳嗽');
    const key = { 'idempotency-key': `regen-${crypto.randomUUID()}` };
    const a = await regenerate(first.conversationId, first.assistantMessage.id, alice.token, key);
    const before = mock.requests.length;
    const b = await regenerate(first.conversationId, first.assistantMessage.id, alice.token, key);
    expect(b.status).toBe(200);
    expect(b.json.assistantMessage.id).toBe(a.json.assistantMessage.id);
    expect(mock.requests.length).toBe(before);
  });
});
