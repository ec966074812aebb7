import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultReply,
  estimateTokens,
  type MockLlm,
  parseDirectives,
  SIMULATED_LABEL,
  startMockLlm,
} from '../../dev/mock-llm/index.js';

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

const textOf = (chunks: ChatCompletionChunk[]) =>
  chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('mock LLM via the real openai SDK', () => {
  let mock: MockLlm;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockLlm();
    client = new OpenAI({ baseURL: mock.baseURL, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(async () => {
    await mock.close();
  });
  beforeEach(() => {
    mock.reset();
  });

  it('streams role, content, finish_reason and a final usage chunk', async () => {
    mock.enqueue({ reply: '多喝水，注意休息。Drink water.', chunkSize: 3 });
    const stream = await client.chat.completions.create({
      model: 'mock-chat',
      stream: true,
      stream_options: { include_usage: true },
      messages: user('我头疼怎么办'),
    });
    const chunks = await collect(stream);

    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(textOf(chunks)).toBe('多喝水，注意休息。Drink water.');
    // content split in 3-char pieces, plus the role chunk, the finish chunk and the usage chunk
    expect(chunks.length).toBe(Math.ceil(Array.from('多喝水，注意休息。Drink water.').length / 3) + 3);
    const finish = chunks.at(-2);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({
      prompt_tokens: 4 + estimateTokens('我头疼怎么办'),
      completion_tokens: estimateTokens('多喝水，注意休息。Drink water.'),
      total_tokens: 4 + estimateTokens('我头疼怎么办') + estimateTokens('多喝水，注意休息。Drink water.'),
    });
    expect(chunks.every((c) => c.model === 'mock-chat' && c.object === 'chat.completion.chunk')).toBe(true);

    expect(mock.requests).toHaveLength(1);
    const rec = mock.requests[0];
    expect(rec?.path).toBe('/v1/chat/completions');
    expect(rec?.aborted).toBe(false);
    expect(rec?.body).toMatchObject({ model: 'mock-chat', stream: true, messages: user('我头疼怎么办') });
    // only presence of the key survives
    expect(rec?.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(rec?.headers)).not.toContain('Bearer test');
  });

  it('does not send usage when include_usage is not requested', async () => {
    const chunks = await collect(
      await client.chat.completions.create({ model: 'm', stream: true, messages: user('hi') }),
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(textOf(chunks)).toBe(defaultReply(0, false));
  });

  it('answers non-streaming requests with a chat.completion and usage', async () => {
    mock.enqueue({ reply: '好的' });
    const res = await client.chat.completions.create({ model: 'mock-mini', messages: user('hello world') });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('mock-mini');
    expect(res.choices[0]?.message).toMatchObject({ role: 'assistant', content: '好的' });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toEqual({ prompt_tokens: 4 + 3, completion_tokens: 2, total_tokens: 9 });
  });

  it('omitUsage suppresses the usage chunk even when include_usage is set', async () => {
    mock.enqueue({ omitUsage: true, reply: 'abc' });
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'm',
        stream: true,
        stream_options: { include_usage: true },
        messages: user('hi'),
      }),
    );
    expect(textOf(chunks)).toBe('abc');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('status 500 surfaces as OpenAI.APIError / InternalServerError', async () => {
    mock.enqueue({ status: 500 });
    const err = await caught(
      client.chat.completions.create({ model: 'm', stream: true, messages: user('x') }),
    );
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
  });

  it('status 429 surfaces as RateLimitError carrying retry-after', async () => {
    mock.enqueue({ status: 429 });
    const err = await caught(client.chat.completions.create({ model: 'm', messages: user('x') }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(429);
    expect(apiErr.code).toBe('rate_limit_exceeded');
    expect(apiErr.headers?.get('retry-after')).toBe('1');
  });

  it('cutAfterChunks: the SDK yields the sent chunks, then throws a bare undici TypeError("terminated")', async () => {
    mock.enqueue({ reply: 'abcdefghijkl', chunkSize: 4, cutAfterChunks: 2 });
    const stream = await client.chat.completions.create({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      messages: user('x'),
    });
    const got: ChatCompletionChunk[] = [];
    const err = await caught(
      (async () => {
        for await (const c of stream) got.push(c);
      })(),
    );
    // Not an OpenAI error class: the SDK lets fetch's body error through unchanged.
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(OpenAI.OpenAIError);
    expect((err as Error).message).toBe('terminated');
    expect((err as Error).cause).toMatchObject({ code: 'UND_ERR_SOCKET', message: 'other side closed' });
    expect(textOf(got)).toBe('abcdefgh');
    expect(got.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    // the server cut, the client did not go away
    expect(mock.requests[0]?.aborted).toBe(false);
  });

  it('cutAfterChunks on a non-streaming request is a connection error', async () => {
    mock.enqueue({ cutAfterChunks: 0 });
    const err = await caught(client.chat.completions.create({ model: 'm', messages: user('x') }));
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('firstTokenDelayMs longer than the SDK timeout gives APIConnectionTimeoutError and an aborted record', async () => {
    mock.enqueue({ firstTokenDelayMs: 1500 });
    const started = Date.now();
    const err = await caught(
      client.chat.completions.create({ model: 'm', stream: true, messages: user('x') }, { timeout: 200 }),
    );
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1400);
    await vi.waitFor(() => expect(mock.requests[0]?.aborted).toBe(true));
  });

  it('firstTokenDelayMs delays the first chunk but still completes', async () => {
    mock.enqueue({ firstTokenDelayMs: 300, reply: 'ok' });
    const started = Date.now();
    const chunks = await collect(
      await client.chat.completions.create({ model: 'm', stream: true, messages: user('x') }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(textOf(chunks)).toBe('ok');
  });

  it('records aborted: true when the client aborts mid-stream', async () => {
    mock.enqueue({ reply: 'x'.repeat(200), chunkSize: 1, chunkDelayMs: 20 });
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'm', stream: true, messages: user('x') },
      { signal: ac.signal },
    );
    let n = 0;
    const err = await caught(
      (async () => {
        for await (const _ of stream) {
          if (++n === 3) ac.abort();
        }
        throw new Error('stream ended without the abort being noticed');
      })(),
    );
    expect(err).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(mock.requests[0]?.aborted).toBe(true));
    // the mock must stop writing once the client is gone
    expect(n).toBeLessThan(10);
  });

  it('records aborted: true for a hanging request the client gives up on', async () => {
    mock.enqueue({ hang: true });
    const ac = new AbortController();
    const pending = client.chat.completions.create(
      { model: 'm', messages: user('x') },
      { signal: ac.signal },
    );
    await vi.waitFor(() => expect(mock.requests).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(mock.requests[0]?.aborted).toBe(false);
    ac.abort();
    expect(await caught(pending)).toBeInstanceOf(OpenAI.APIUserAbortError);
    await vi.waitFor(() => expect(mock.requests[0]?.aborted).toBe(true));
  });

  it('honours [[mock:...]] directives in the last user message', async () => {
    const err = await caught(
      client.chat.completions.create({ model: 'm', messages: user('头疼 [[mock:status=503]]') }),
    );
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);

    const cut = await client.chat.completions.create({
      model: 'm',
      stream: true,
      messages: user('[[mock:cut=2 chunk=2]] hi'),
    });
    const got: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const c of cut) got.push(c);
      })(),
    ).rejects.toThrow('terminated');
    expect(textOf(got)).toBe(defaultReply(0, false).slice(0, 4));

    const noUsage = await collect(
      await client.chat.completions.create({
        model: 'm',
        stream: true,
        stream_options: { include_usage: true },
        messages: user('x [[mock:nousage]]'),
      }),
    );
    expect(noUsage.some((c) => c.usage)).toBe(false);

    // only the LAST user message counts
    const ok = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: '[[mock:status=500]]' },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'fine' },
      ],
    });
    expect(ok.choices[0]?.finish_reason).toBe('stop');
  });

  it('a queued behaviour beats a directive, and the directive beats defaults', async () => {
    mock.setDefaults({ reply: 'from-defaults' });
    mock.enqueue({ reply: 'from-queue' });
    const a = await client.chat.completions.create({ model: 'm', messages: user('[[mock:status=500]]') });
    expect(a.choices[0]?.message.content).toBe('from-queue');

    const err = await caught(
      client.chat.completions.create({ model: 'm', messages: user('[[mock:status=502]]') }),
    );
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);

    const c = await client.chat.completions.create({ model: 'm', messages: user('plain') });
    expect(c.choices[0]?.message.content).toBe('from-defaults');
  });

  it('records image parts in the body and counts them in prompt tokens', async () => {
    const messages: ChatCompletionMessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: '看看这个' },
          { type: 'image_url', image_url: { url: 'https://example.invalid/a.jpg' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
    ];
    const res = await client.chat.completions.create({ model: 'mock-vision', messages });
    const body = mock.requests[0]?.body as { messages: { content: { type: string }[] }[] };
    expect(body.messages[0]?.content.filter((p) => p.type === 'image_url')).toHaveLength(2);
    expect(res.usage?.prompt_tokens).toBe(4 + 4 + 2 * 85);
    expect(res.choices[0]?.message.content).toContain('收到 2 张图片');
  });

  it('lists models, 404s unknown paths and 400s invalid JSON', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('mock-chat');

    const notFound = await fetch(`${mock.baseURL}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { type: 'not_found' } });

    const bad = await fetch(`${mock.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(mock.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/nope', '/v1/chat/completions']);
    expect(mock.requests[2]?.body).toBe('{not json');
    expect(mock.requests[1]?.headers.authorization).toBeUndefined();
  });
});

describe('simulated dev stand-in', () => {
  it('labels the default reply, mentions images and paces chunks', async () => {
    const mock = await startMockLlm({ simulated: true });
    try {
      const client = new OpenAI({ baseURL: mock.baseURL, apiKey: 'x', maxRetries: 0 });
      const started = Date.now();
      const chunks = await collect(
        await client.chat.completions.create({
          model: 'm',
          stream: true,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: '皮疹' },
                { type: 'image_url', image_url: { url: 'https://example.invalid/1.jpg' } },
              ],
            },
          ],
        }),
      );
      const text = textOf(chunks);
      expect(text.startsWith(SIMULATED_LABEL)).toBe(true);
      expect(text).toContain('收到 1 张图片');
      expect(text.length).toBeGreaterThan(100);
      expect(text.length).toBeLessThan(250);
      // ~15 ms between chunks
      expect(Date.now() - started).toBeGreaterThanOrEqual(15 * (chunks.length - 4));
    } finally {
      await mock.close();
    }
  });

  it('close() resolves even with a hanging request open', async () => {
    const mock = await startMockLlm({ defaults: { hang: true } });
    const client = new OpenAI({ baseURL: mock.baseURL, apiKey: 'x', maxRetries: 0 });
    const pending = caught(client.chat.completions.create({ model: 'm', messages: user('x') }));
    await vi.waitFor(() => expect(mock.requests).toHaveLength(1));
    await mock.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    // shutting down is not the client going away
    expect(mock.requests[0]?.aborted).toBe(false);
  });
});

describe('helpers', () => {
  it('estimates tokens deterministically', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('头疼')).toBe(2);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('头疼abcde')).toBe(2 + 2);
  });

  it('parses directives', () => {
    expect(parseDirectives('no tags here')).toBeUndefined();
    expect(
      parseDirectives('a [[mock:status=500]] b [[mock:cut=3, delay=20 nousage hang chunkdelay=5 chunk=7]]'),
    ).toEqual({
      status: 500,
      cutAfterChunks: 3,
      firstTokenDelayMs: 20,
      omitUsage: true,
      hang: true,
      chunkDelayMs: 5,
      chunkSize: 7,
    });
    expect(parseDirectives('[[mock:status=200 cut=-1 bogus=1]]')).toEqual({});
  });
});
