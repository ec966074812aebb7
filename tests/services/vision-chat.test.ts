// POST /vision-chat over real HTTP: images uploaded the mini-program's way to local storage, the
// answer streamed from the local OpenAI-compatible server, which must receive the images.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  Message as ApiMessage,
  ChatResult,
  ErrorEnvelope,
  Page,
  VisionChatRequest,
} from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import type { Db } from '../../lib/db/index.js';
import { files, messages } from '../../lib/db/schema.js';
import { objectKey } from '../../lib/storage/types.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { type Api, apiClient, pngImage, postForm, type Ticket, uploadImage } from '../helpers/images.js';
import { dataOf, readSse, textOf } from '../helpers/sse.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';

const REPLY = '图片中皮肤有轻度发红，建议保持清洁干燥，如加重请就医。';
const QUESTION = '这个红疹需要去医院吗？';

type User = { api: Api; token: string; userId: string };

async function setup(mock: MockLlm, s3: TestStorage, extra: Record<string, string> = {}) {
  const h = await createHarness({
    db: 'postgres',
    env: {
      ...s3.env,
      OPENAI_BASE_URL: mock.baseURL,
      OPENAI_API_KEY: 'test',
      VISION_MODEL: 'mock-vision',
      LLM_MAX_RETRIES: '0',
      ...extra,
    },
  });
  const server = await h.listen();
  const base = `${server.url}/api/v1`;
  const user = async (name: string): Promise<User> => {
    const u = await h.user(name);
    return { api: apiClient(base, u.token), token: u.token, userId: u.userId };
  };
  return { h, server, base, user };
}

/** The image_url parts of the last user message the model received. */
function imageUrlsSent(mock: MockLlm): string[] {
  const body = mock.requests.at(-1)?.body as ChatCompletionCreateParams | undefined;
  const last = body?.messages?.at(-1);
  if (!Array.isArray(last?.content)) return [];
  return last.content.flatMap((p) => (p.type === 'image_url' ? [p.image_url.url] : []));
}

describe('POST /vision-chat (images as data URLs)', () => {
  let mock: MockLlm;
  let s3: TestStorage;
  let h: Harness;
  let server: LocalServer;
  let db: Db;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    mock = await startMockLlm();
    s3 = await startTestStorage();
    const s = await setup(mock, s3);
    ({ h, server } = s);
    db = await h.rt.db();
    alice = await s.user('alice');
    bob = await s.user('bob');
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
    await mock?.close();
  });
  beforeEach(() => mock.reset());

  const chat = (u: Pick<User, 'token'>, body: Partial<VisionChatRequest>, query = '') =>
    fetch(`${server.url}/api/v1/vision-chat${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${u.token}` },
      body: JSON.stringify(body),
    });
  const ready = async (u: User, w = 12, hgt = 8) => {
    const r = await uploadImage(u.api, await pngImage(w, hgt), 'image/png');
    expect(r.complete.status).toBe(200);
    return r.fileId;
  };
  const expectRefused = async (res: Response, status: number, code: string, message?: RegExp) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body: ErrorEnvelope = await res.json();
    expect(body).toMatchObject({
      error: { code, message: message ? expect.stringMatching(message) : expect.any(String) },
    });
    expect(mock.requests).toHaveLength(0);
  };

  it('streams an answer from the vision model, which receives the images as data URLs', async () => {
    const a = await ready(alice, 12, 8);
    const b = await ready(alice, 6, 6);
    mock.enqueue({ reply: REPLY, chunkSize: 6 });
    const res = await chat(alice, { content: QUESTION, imageIds: [a, b] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const s = await readSse(res);
    expect(s.names[0]).toBe('meta');
    expect(s.names.at(-1)).toBe('done');
    expect(textOf(s)).toBe(REPLY);

    expect(mock.requests).toHaveLength(1);
    const sent = mock.requests[0]?.body as ChatCompletionCreateParams;
    expect(sent.model).toBe('mock-vision');
    const last = sent.messages.at(-1);
    expect(last?.role).toBe('user');
    expect(last?.content).toContainEqual({ type: 'text', text: QUESTION });
    const urls = imageUrlsSent(mock);
    expect(urls).toHaveLength(2);
    // Each is the stored, checked image, in the order given.
    for (const [i, [id, w, hgt]] of (
      [
        [a, 12, 8],
        [b, 6, 6],
      ] as const
    ).entries()) {
      const url = urls[i] ?? '';
      expect(url.startsWith('data:image/png;base64,')).toBe(true);
      const decoded = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
      expect(await sharp(decoded).metadata()).toMatchObject({ format: 'png', width: w, height: hgt });
      const stored = await (await h.rt.storage()).getBytes(objectKey(alice.userId, id), 1e6);
      expect(decoded.equals(Buffer.from(stored ?? []))).toBe(true);
    }

    // The question keeps its images; the images now belong to the conversation.
    const meta = dataOf(s.events[0], 'meta');
    const [question] = await db.select().from(messages).where(eq(messages.id, meta.userMessageId));
    expect(question?.imageIds).toEqual([a, b]);
    const rows = await db.select().from(files).where(eq(files.conversationId, meta.conversationId));
    expect(rows.map((r) => r.id).sort()).toEqual([a, b].sort());
    const listed = await alice.api<Page<ApiMessage>>('GET', `/conversations/${meta.conversationId}/messages`);
    expect(listed.json.items[0]).toMatchObject({ role: 'user', imageIds: [a, b] });
  });

  it('stream=false answers one JSON document', async () => {
    const a = await ready(alice);
    mock.enqueue({ reply: REPLY });
    const res = await chat(alice, { content: QUESTION, imageIds: [a] }, '?stream=false');
    expect(res.status).toBe(200);
    const body: ChatResult = await res.json();
    expect(body).toMatchObject({
      userMessage: { role: 'user', imageIds: [a] },
      assistantMessage: { role: 'assistant', content: REPLY, model: 'mock-vision', status: 'complete' },
    });
    expect(imageUrlsSent(mock)).toHaveLength(1);
  });

  it('a retry under the same Idempotency-Key replays, although its images now belong to the new conversation', async () => {
    const a = await ready(alice);
    mock.enqueue({ reply: REPLY });
    const key = `vk-${crypto.randomUUID()}`;
    const send = () =>
      fetch(`${server.url}/api/v1/vision-chat?stream=false`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${alice.token}`,
          'idempotency-key': key,
        },
        body: JSON.stringify({ content: QUESTION, imageIds: [a] }),
      });
    const first = await send();
    expect(first.status).toBe(200);
    const firstBody: ChatResult = await first.json();
    const retry = await send();
    expect(retry.status).toBe(200);
    const retryBody: ChatResult = await retry.json();
    expect(retryBody.conversationId).toBe(firstBody.conversationId);
    expect(retryBody.assistantMessage.id).toBe(firstBody.assistantMessage.id);
    expect(mock.requests).toHaveLength(1);
  });

  it('continues a conversation with an image already in it, not with another conversation’s', async () => {
    const a = await ready(alice);
    mock.enqueue({ reply: REPLY }, { reply: REPLY });
    const first: ChatResult = await (
      await chat(alice, { content: QUESTION, imageIds: [a] }, '?stream=false')
    ).json();
    const again = await chat(
      alice,
      { conversationId: first.conversationId, content: '那需要涂药吗？', imageIds: [a] },
      '?stream=false',
    );
    expect(again.status).toBe(200);
    mock.reset();
    // A new conversation cannot take it: deleting the first one deletes the image.
    await expectRefused(await chat(alice, { content: QUESTION, imageIds: [a] }), 422, 'UNPROCESSABLE');
  });

  it('an image not completed answers 422 before any model call', async () => {
    const png = await pngImage();
    const pre = await alice.api('POST', '/uploads', {
      filename: 'p.png',
      contentType: 'image/png',
      size: png.length,
      purpose: 'chat-image',
    });
    const t = pre.json as unknown as Ticket;
    // Even with the bytes in the bucket: not checked means not usable.
    await postForm(t.url, t.fields, png, 'image/png');
    const ok = await ready(alice);
    const before = await db.select().from(messages).where(eq(messages.userId, alice.userId));
    await expectRefused(
      await chat(alice, { content: QUESTION, imageIds: [ok, t.fileId] }),
      422,
      'UNPROCESSABLE',
      /not completed/,
    );
    // Nothing was stored either.
    expect(await db.select().from(messages).where(eq(messages.userId, alice.userId))).toHaveLength(
      before.length,
    );
  });

  it('a deleted image answers 422, an avatar 422, before any model call', async () => {
    const gone = await ready(alice);
    expect((await alice.api('DELETE', `/uploads/${gone}`)).status).toBe(204);
    await expectRefused(
      await chat(alice, { content: QUESTION, imageIds: [gone] }),
      422,
      'UNPROCESSABLE',
      /deleted/,
    );
    const avatar = await uploadImage(alice.api, await pngImage(), 'image/png', { purpose: 'avatar' });
    expect(avatar.complete.status).toBe(200);
    await expectRefused(
      await chat(alice, { content: QUESTION, imageIds: [avatar.fileId] }),
      422,
      'UNPROCESSABLE',
    );
  });

  it('another user’s image, or an unknown id, answers 404 before any model call', async () => {
    const bobs = await ready(bob);
    const mine = await ready(alice);
    await expectRefused(await chat(alice, { content: QUESTION, imageIds: [mine, bobs] }), 404, 'NOT_FOUND');
    await expectRefused(
      await chat(alice, { content: QUESTION, imageIds: ['no-such-image'] }),
      404,
      'NOT_FOUND',
    );
    // Bob's image was not tied to anything.
    const [row] = await db.select().from(files).where(eq(files.id, bobs));
    expect(row?.conversationId).toBeNull();
  });

  it('validates the body: 1–4 distinct images, strict fields', async () => {
    const a = await ready(alice);
    for (const body of [
      { content: QUESTION, imageIds: [] },
      { content: QUESTION, imageIds: [a, 'b', 'c', 'd', 'e'] },
      { content: QUESTION, imageIds: [a, a] },
      { content: QUESTION },
      { content: '   ', imageIds: [a] },
      { content: QUESTION, imageIds: [a], model: 'gpt-4o' },
    ]) {
      await expectRefused(await chat(alice, body), 400, 'BAD_REQUEST');
    }
  });

  it('needs consent', async () => {
    const carol = await h.login('carol');
    await expectRefused(await chat(carol, { content: QUESTION, imageIds: ['x'] }), 403, 'CONSENT_REQUIRED');
  });

  it('deleting the conversation removes its images from storage', async () => {
    const a = await ready(alice);
    mock.enqueue({ reply: REPLY });
    const body: ChatResult = await (
      await chat(alice, { content: QUESTION, imageIds: [a] }, '?stream=false')
    ).json();
    expect(await s3.keys(objectKey(alice.userId, a))).toHaveLength(1);
    expect((await alice.api('DELETE', `/conversations/${body.conversationId}`)).status).toBe(204);
    expect(await s3.keys(objectKey(alice.userId, a))).toEqual([]);
    expect((await alice.api('GET', `/uploads/${a}`)).status).toBe(404);
  });

  it('never logs image data', async () => {
    const a = await ready(alice);
    mock.enqueue({ reply: REPLY });
    await (await chat(alice, { content: QUESTION, imageIds: [a] })).text();
    const all = h.logs.join('\n');
    expect(all).not.toContain('base64');
    expect(all).not.toContain(QUESTION);
    expect(all).not.toContain(REPLY);
  });
});

describe('POST /vision-chat (VISION_IMAGE_MODE=url)', () => {
  let mock: MockLlm;
  let s3: TestStorage;
  let h: Harness;
  let server: LocalServer;
  let alice: User;

  beforeAll(async () => {
    mock = await startMockLlm();
    s3 = await startTestStorage();
    const s = await setup(mock, s3, { VISION_IMAGE_MODE: 'url', READ_URL_TTL_SECONDS: '60' });
    ({ h, server } = s);
    alice = await s.user('alice');
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
    await mock?.close();
  });

  it('sends short-lived signed URLs the provider can fetch', async () => {
    const r = await uploadImage(alice.api, await pngImage(10, 4), 'image/png');
    mock.enqueue({ reply: REPLY });
    const res = await fetch(`${server.url}/api/v1/vision-chat?stream=false`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ content: QUESTION, imageIds: [r.fileId] }),
    });
    expect(res.status).toBe(200);
    const [url] = imageUrlsSent(mock);
    expect(url?.startsWith(`${s3.endpoint}/local/${objectKey(alice.userId, r.fileId)}?`)).toBe(true);
    expect(url).toMatch(/X-Amz-Expires=60(&|$)/);
    const fetched = await fetch(url ?? '');
    expect(fetched.status).toBe(200);
    expect(await sharp(Buffer.from(await fetched.arrayBuffer())).metadata()).toMatchObject({
      width: 10,
      height: 4,
    });
    expect(h.logs.join('\n')).not.toContain('X-Amz-Signature');
  });
});

describe('the vision-chat function’s footprint', () => {
  it('loads neither sharp nor the upload form signer, even when it reads and signs images', async () => {
    // A fresh process: the test runner itself has loaded everything.
    const script = `
      import { createRequire } from 'node:module';
      const { createStorage } = await import('./lib/storage/index.ts');
      const { loadConfig } = await import('./lib/config/index.ts');
      await import('./api/v1/vision-chat.ts');
      await import('./lib/uploads/chat-images.ts');
      const s = createStorage(loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' }));
      await s.presignGet('k', 60);
      const snapshot = () => {
        const cjs = Object.keys(createRequire(import.meta.url).cache);
        const libs = process.report.getReport().sharedObjects;
        return {
          presignedPost: cjs.some((k) => k.includes('s3-presigned-post')),
          clientS3: cjs.some((k) => k.includes('client-s3')),
          sharp: libs.some((l) => /vips|sharp/.test(l)),
        };
      };
      const chatSide = snapshot();
      // The control: the same probes see them once the uploads side runs.
      await (await import('./lib/uploads/image.ts')).heicSupported();
      await s.presignPost({ key: 'k', contentType: 'image/png', maxBytes: 1, expiresSeconds: 1 });
      console.log(JSON.stringify({ chatSide, uploadSide: snapshot() }));
    `;
    const { stdout } = await promisify(execFile)('npx', ['tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_ENV: 'test' },
    });
    const loaded: unknown = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(loaded).toEqual({
      chatSide: { presignedPost: false, clientS3: true, sharp: false },
      uploadSide: { presignedPost: true, clientS3: true, sharp: true },
    });
  });
});
