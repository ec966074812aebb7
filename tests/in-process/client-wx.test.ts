// The wx transport against a fake `wx` that delivers the chat stream the hard way: an event split
// across chunks, several events in one chunk, a UTF-8 character cut mid-bytes, CRLF line ends,
// headers late or never (DevTools), no chunks at all (old base libraries); aborts through
// RequestTask.abort(); uploads through wx.uploadFile. Type-checked by client/tsconfig.json (the
// mini-program's typings), not by the root program.
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  type ChatEvent,
  ChatStreamError,
  type ClientOptions,
  createAbort,
  createClient,
  memoryTokenStore,
} from '../../client/index.js';
import {
  METHOD_OVERRIDE_HEADER,
  type WxApi,
  type WxStorage,
  wxStorageTokenStore,
  wxTransport,
} from '../../client/transports/wx.js';

/** UTF-8 bytes (this program has the mini-program's typings, so no TextEncoder). */
function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return new Uint8Array(out);
}

/** `bytes` cut at the given offsets. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [0, ...at, bytes.length];
  return points.slice(1).map((end, i) => bytes.slice(points[i], end));
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('needle not found');
}

const toArrayBuffer = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** What the fake saw of one wx.request call. */
type Seen = {
  url: string;
  method: string | undefined;
  header: Record<string, string>;
  data: unknown;
  enableChunked: boolean | undefined;
  responseType: string | undefined;
  dataType: string | undefined;
};

/** The test's side of one request: deliver headers, chunks, the end, or a failure. */
type Io = {
  seen: Seen;
  headers(header: Record<string, string>, statusCode?: number): void;
  chunk(bytes: Uint8Array): void;
  succeed(statusCode: number, header: Record<string, string>, data?: string | ArrayBuffer): void;
  fail(errMsg: string): void;
  readonly aborted: boolean;
};

type Script = (io: Io) => void | Promise<void>;

function fakeWx(script: Script) {
  const seen: Seen[] = [];
  const uploads: WechatMiniprogram.UploadFileOption[] = [];
  const wx: WxApi = {
    request: <T extends string | WechatMiniprogram.IAnyObject | ArrayBuffer>(
      option: WechatMiniprogram.RequestOption<T>,
    ): WechatMiniprogram.RequestTask => {
      const s: Seen = {
        url: option.url,
        method: option.method,
        header: { ...option.header },
        data: option.data,
        enableChunked: option.enableChunked,
        responseType: option.responseType,
        dataType: option.dataType,
      };
      seen.push(s);
      const onChunk: WechatMiniprogram.OnChunkReceivedCallback[] = [];
      const onHeaders: WechatMiniprogram.RequestTaskOnHeadersReceivedCallback[] = [];
      let finished = false;
      let aborted = false;
      const io: Io = {
        seen: s,
        get aborted() {
          return aborted;
        },
        headers: (header, statusCode) => {
          // DevTools leave statusCode out of onHeadersReceived; the cast admits that.
          const r = { header, cookies: [], ...(statusCode ? { statusCode } : {}) };
          for (const l of onHeaders) l(r as WechatMiniprogram.RequestTaskOnHeadersReceivedListenerResult);
        },
        chunk: (bytes) => {
          for (const l of onChunk) l({ data: toArrayBuffer(bytes) });
        },
        succeed: (statusCode, header, data) => {
          if (finished) return;
          finished = true;
          const body = data ?? (option.responseType === 'arraybuffer' ? new ArrayBuffer(0) : '');
          // The transport reads statusCode, header and data; the rest of the result is platform detail.
          const r = { statusCode, header, data: body, cookies: [], errMsg: 'request:ok' };
          option.success?.(r as unknown as WechatMiniprogram.RequestSuccessCallbackResult<T>);
        },
        fail: (errMsg) => {
          if (finished) return;
          finished = true;
          option.fail?.({ errMsg, errno: 0 } as WechatMiniprogram.RequestFailCallbackErr);
        },
      };
      // Like wx, nothing is answered before request() has handed back its task.
      setTimeout(() => void script(io), 0);
      return {
        abort: () => {
          aborted = true;
          io.fail('request:fail abort');
        },
        onChunkReceived: (l) => {
          onChunk.push(l);
        },
        offChunkReceived: () => {},
        onHeadersReceived: (l) => {
          onHeaders.push(l);
        },
        offHeadersReceived: () => {},
      };
    },
    uploadFile: (option) => {
      uploads.push(option);
      setTimeout(() => {
        const r = { statusCode: 204, data: '', errMsg: 'uploadFile:ok' };
        option.success?.(r as WechatMiniprogram.UploadFileSuccessCallbackResult);
      }, 0);
      return {
        abort: () => {},
        onHeadersReceived: () => {},
        offHeadersReceived: () => {},
        onProgressUpdate: () => {},
        offProgressUpdate: () => {},
      };
    },
  };
  return { wx, seen, uploads };
}

const TOKENS = { accessToken: 'access-1', refreshToken: 'refresh-1-0123456789' };

function clientOver(script: Script, o: Partial<ClientOptions> = {}) {
  const fake = fakeWx(script);
  const tokens = memoryTokenStore(TOKENS);
  const client = createClient({ baseUrl: 'https://api.test', transport: wxTransport(fake.wx), tokens, ...o });
  return { ...fake, client, tokens };
}

const SSE_HEADERS = { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Request-Id': 'req-stream-0001' };
const META = { conversationId: 'c1', userMessageId: 'm1', assistantMessageId: 'm2' };
const DONE = {
  assistantMessageId: 'm2',
  finishReason: 'stop',
  usage: { promptTokens: 12, completionTokens: 5 },
  disclaimer: '以上内容由 AI 生成，仅供参考',
};
const ANSWER = '胸口疼😀，请就医';
const WIRE = [
  `event: meta\r\ndata: ${JSON.stringify(META)}\r\n\r\n`,
  ': ping\r\n\r\n',
  `event: delta\r\ndata: ${JSON.stringify({ text: '胸口' })}\r\n\r\n`,
  `event: delta\r\ndata: ${JSON.stringify({ text: '疼😀' })}\r\n\r\n`,
  `event: delta\r\ndata: ${JSON.stringify({ text: '，请就医' })}\r\n\r\n`,
  `event: done\r\ndata: ${JSON.stringify(DONE)}\r\n\r\n`,
].join('');
const BYTES = utf8(WIRE);

/**
 * Five chunks: meta cut in two; the rest of meta, a ping and a delta together, ending inside 疼;
 * the rest of 疼 and half of 😀; the rest up to the CR of a line end; its LF and the rest.
 */
function hardChunks(): Uint8Array[] {
  const midMeta = indexOfBytes(BYTES, utf8('"userMessageId"'));
  const inTeng = indexOfBytes(BYTES, utf8('疼')) + 1;
  const inEmoji = indexOfBytes(BYTES, utf8('😀')) + 2;
  const thirdDelta = indexOfBytes(BYTES, utf8('，请就医'));
  const betweenCrLf = indexOfBytes(BYTES, utf8('\r\n'), thirdDelta) + 1;
  return cut(BYTES, [midMeta, inTeng, inEmoji, betweenCrLf]);
}

const expectedEvents: ChatEvent[] = [
  { event: 'meta', data: META },
  { event: 'delta', data: { text: '胸口' } },
  { event: 'delta', data: { text: '疼😀' } },
  { event: 'delta', data: { text: '，请就医' } },
  { event: 'done', data: DONE },
];

describe('wx transport: the chat stream', () => {
  it('parses chunks cut mid-event, mid-character and between CR and LF, as they arrive', async () => {
    const chunks = hardChunks();
    expect(chunks.length).toBe(5);
    const events: ChatEvent[] = [];
    const comments: string[] = [];
    const seenAfterChunk: number[] = [];
    const t = clientOver(async (io) => {
      io.headers(SSE_HEADERS, 200);
      for (const c of chunks) {
        io.chunk(c);
        seenAfterChunk.push(events.length);
        await tick();
      }
      io.succeed(200, SSE_HEADERS);
    });
    const result = await t.client.textChat(
      { content: '胸口疼' },
      { onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), idempotencyKey: 'idem-1' },
    );
    expect(events).toEqual(expectedEvents);
    expect(comments).toEqual(['ping']);
    // Delivered while the body was still arriving, not at its end.
    expect(seenAfterChunk).toEqual([0, 2, 2, 3, 5]);
    expect(result).toEqual({
      ...META,
      text: ANSWER,
      finishReason: 'stop',
      usage: DONE.usage,
      disclaimer: DONE.disclaimer,
      requestId: 'req-stream-0001',
    });
    const [req] = t.seen;
    expect(req).toMatchObject({
      url: 'https://api.test/api/v1/text-chat',
      method: 'POST',
      enableChunked: true,
      responseType: 'arraybuffer',
      data: JSON.stringify({ content: '胸口疼' }),
    });
    expect(req?.header).toMatchObject({
      authorization: 'Bearer access-1',
      'content-type': 'application/json',
      'idempotency-key': 'idem-1',
    });
  });

  it('byte by byte, with DevTools’ headers without a status', async () => {
    const events: ChatEvent[] = [];
    const t = clientOver(async (io) => {
      io.headers(SSE_HEADERS);
      for (const b of BYTES) io.chunk(new Uint8Array([b]));
      io.succeed(200, SSE_HEADERS);
    });
    const r = await t.client.textChat({ content: 'x' }, { onEvent: (e) => events.push(e) });
    expect(events).toEqual(expectedEvents);
    expect(r.text).toBe(ANSWER);
  });

  it('chunks before any headers event are kept until the end says what they are', async () => {
    const events: ChatEvent[] = [];
    const t = clientOver(async (io) => {
      for (const c of hardChunks()) io.chunk(c);
      io.succeed(200, SSE_HEADERS);
    });
    const r = await t.client.visionChat(
      { content: 'x', imageIds: ['f1'] },
      { onEvent: (e) => events.push(e) },
    );
    expect(events).toEqual(expectedEvents);
    expect(r.text).toBe(ANSWER);
    expect(t.seen[0]?.url).toBe('https://api.test/api/v1/vision-chat');
  });

  it('a base library without chunked responses hands the whole body to success', async () => {
    const t = clientOver((io) => io.succeed(200, SSE_HEADERS, toArrayBuffer(BYTES)));
    const r = await t.client.textChat({ content: 'x' });
    expect(r.text).toBe(ANSWER);
  });

  it('a 401 envelope arriving in chunks refreshes the token and asks again', async () => {
    const envelope = utf8(
      JSON.stringify({ error: { code: 'UNAUTHORIZED', message: '令牌已过期', requestId: 'req-401-000001' } }),
    );
    const fresh = { accessToken: 'access-2', refreshToken: 'refresh-2-0123456789', expiresIn: 900 };
    const t = clientOver(async (io) => {
      if (io.seen.url.endsWith('/users/refresh')) {
        return io.succeed(200, { 'Content-Type': 'application/json' }, JSON.stringify(fresh));
      }
      if (io.seen.header.authorization === 'Bearer access-1') {
        const json = { 'Content-Type': 'application/json; charset=utf-8' };
        io.headers(json, 401);
        // Cut inside 令 (a three-byte character).
        const at = indexOfBytes(envelope, utf8('令')) + 2;
        for (const c of cut(envelope, [at])) io.chunk(c);
        return io.succeed(401, json);
      }
      io.headers(SSE_HEADERS, 200);
      io.chunk(BYTES);
      io.succeed(200, SSE_HEADERS);
    });
    const r = await t.client.textChat({ content: 'x' });
    expect(r.text).toBe(ANSWER);
    expect(t.seen.map((s) => `${s.method} ${s.url.replace('https://api.test/api/v1', '')}`)).toEqual([
      'POST /text-chat',
      'POST /users/refresh',
      'POST /text-chat',
    ]);
    expect(t.seen[1]?.data).toBe(JSON.stringify({ refreshToken: TOKENS.refreshToken }));
    expect(t.seen[2]?.header.authorization).toBe('Bearer access-2');
    expect(await t.tokens.get()).toEqual({ accessToken: 'access-2', refreshToken: 'refresh-2-0123456789' });
  });

  it('abort() aborts the request task; what was written comes with the error', async () => {
    const a = createAbort();
    const metaAndDelta = utf8(WIRE.split('event: delta')[0] ?? '');
    let taskAborted = false;
    const t = clientOver(async (io) => {
      io.headers(SSE_HEADERS, 200);
      io.chunk(metaAndDelta);
      io.chunk(utf8(`event: delta\r\ndata: {"text":"胸口"}\r\n\r\n`));
      await tick();
      a.abort();
      taskAborted = io.aborted;
    });
    const err = await t.client.textChat({ content: 'x' }, { signal: a.signal }).catch((e: unknown) => e);
    expect(taskAborted).toBe(true);
    expect(err).toBeInstanceOf(ChatStreamError);
    expect(err).toMatchObject({ code: 'ABORTED', status: 0, partial: { ...META, text: '胸口' } });
  });

  it('a network failure before any answer is NETWORK_ERROR with wx’s message', async () => {
    const t = clientOver((io) => io.fail('request:fail url not in domain list'));
    await expect(t.client.textChat({ content: 'x' })).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      status: 0,
      message: 'request:fail url not in domain list',
    });
  });
});

describe('wx transport: JSON calls and uploads', () => {
  it('sends JSON as text, reads headers in any case, and maps the envelope to ApiError', async () => {
    const t = clientOver((io) => {
      if (io.seen.url.endsWith('/users/me')) {
        return io.succeed(200, { 'Content-Type': 'application/json', 'X-Request-Id': 'r1' }, '{"id":"u1"}');
      }
      io.succeed(
        404,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: { code: 'NOT_FOUND', message: 'conversation not found', requestId: 'r2' } }),
      );
    });
    await expect(t.client.me()).resolves.toEqual({ id: 'u1' });
    expect(t.seen[0]).toMatchObject({
      method: 'GET',
      dataType: 'text',
      responseType: 'text',
      data: undefined,
    });
    expect(t.seen[0]?.header.authorization).toBe('Bearer access-1');
    const err = await t.client.conversations.get('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      message: 'conversation not found',
      requestId: 'r2',
    });
  });

  it('PATCH, which wx.request lacks, goes as POST naming the method in a header', async () => {
    const t = clientOver((io) => io.succeed(200, { 'content-type': 'application/json' }, '{"id":"c1"}'));
    await t.client.conversations.update('c1', { title: '头疼' });
    expect(t.seen[0]).toMatchObject({ method: 'POST', data: JSON.stringify({ title: '头疼' }) });
    expect(t.seen[0]?.header[METHOD_OVERRIDE_HEADER]).toBe('PATCH');
  });

  it('uploadImage: the ticket, wx.uploadFile with the form fields under name "file", complete', async () => {
    const ticket = {
      fileId: 'f1',
      method: 'POST',
      url: 'https://bucket.cos.test/',
      fields: { key: 'uploads/u1/f1', policy: 'cG9saWN5', 'Content-Type': 'image/jpeg' },
      expiresAt: '2026-11-25T08:05:00.000Z',
      maxBytes: 10485760,
      put: { url: 'https://bucket.cos.test/uploads/u1/f1', headers: {} },
    };
    const done = { id: 'f1', status: 'ready', contentType: 'image/jpeg', size: 2048, width: 40, height: 20 };
    const t = clientOver((io) => {
      const json = { 'content-type': 'application/json' };
      if (io.seen.url.endsWith('/uploads')) return io.succeed(201, json, JSON.stringify(ticket));
      io.succeed(200, json, JSON.stringify(done));
    });
    const r = await t.client.uploadImage('http://tmp/wx-temp-abc.JPG', { size: 2048 });
    expect(r).toEqual(done);
    expect(JSON.parse(String(t.seen[0]?.data))).toEqual({
      filename: 'wx-temp-abc.JPG',
      contentType: 'image/jpeg',
      size: 2048,
      purpose: 'chat-image',
    });
    expect(t.uploads).toHaveLength(1);
    expect(t.uploads[0]).toMatchObject({
      url: ticket.url,
      filePath: 'http://tmp/wx-temp-abc.JPG',
      name: 'file',
      formData: ticket.fields,
    });
    expect(t.seen[1]?.url).toBe('https://api.test/api/v1/uploads/f1/complete');
  });

  it('keeps the session in wx storage', async () => {
    const data = new Map<string, unknown>();
    const storage: WxStorage = {
      getStorageSync: <T>(key: string): T => (data.has(key) ? data.get(key) : '') as T,
      setStorageSync: (key, value) => {
        data.set(key, value);
      },
      removeStorageSync: (key) => {
        data.delete(key);
      },
    };
    const store = wxStorageTokenStore(storage);
    expect(await store.get()).toBeNull();
    await store.set(TOKENS);
    expect(await store.get()).toEqual(TOKENS);
    data.set('health-assistant:tokens', { accessToken: 1 });
    expect(await store.get()).toBeNull();
    await store.clear();
    expect(data.size).toBe(0);
  });
});
