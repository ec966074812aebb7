// The mini-program client's core against a scripted transport: token refresh (single-flight, a
// rotation by another call, a refused or a failed refresh), the error type, URLs and bodies.
// The wx transport itself is tested in client-wx.test.ts.
import { describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  type ChatEvent,
  ChatStreamError,
  type ClientOptions,
  createAbort,
  createClient,
  memoryTokenStore,
  type StreamSink,
  type Tokens,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from '../../client/index.js';

const BASE = 'https://api.test';
const enc = new TextEncoder();

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
type Handler = (req: TransportRequest) => Answer | Promise<Answer>;

/** A transport that answers from `handler` and records every request. */
function scripted(handler: Handler) {
  const requests: TransportRequest[] = [];
  const respond = async (req: TransportRequest): Promise<TransportResponse> => {
    requests.push(req);
    const a = await handler(req);
    return {
      status: a.status,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-header-0001', ...a.headers },
      text: a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body),
    };
  };
  const transport: Transport = {
    request: respond,
    stream: async (req: TransportRequest, sink: StreamSink) => {
      const res = await respond(req);
      sink.onHeaders({ status: res.status, headers: res.headers });
      sink.onChunk(enc.encode(res.text));
      return { status: res.status, headers: res.headers };
    },
    upload: async (req) => {
      requests.push({ method: 'POST', url: req.url, headers: {}, body: JSON.stringify(req.fields) });
      return { status: 204, headers: {}, text: '' };
    },
  };
  return { transport, requests };
}

const pathOf = (req: TransportRequest) => req.url.slice(`${BASE}/api/v1`.length);
const bearer = (req: TransportRequest) => req.headers.authorization?.replace('Bearer ', '');
const envelope = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  error: { code, message, requestId: 'req-envelope-01', ...extra },
});
const unauthorized: Answer = {
  status: 401,
  body: envelope('UNAUTHORIZED', 'missing or invalid access token'),
};
const OLD: Tokens = { accessToken: 'access-old', refreshToken: 'refresh-old-0123456789' };
const NEW: Tokens = { accessToken: 'access-new', refreshToken: 'refresh-new-0123456789' };

/** Resolves when `open()` is called: holds a scripted answer back until the test says so. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}

function setup(handler: Handler, o: Partial<ClientOptions> = {}) {
  const { transport, requests } = scripted(handler);
  const store = memoryTokenStore(OLD);
  const set = vi.spyOn(store, 'set');
  const onAuthFailure = vi.fn();
  const client = createClient({ baseUrl: `${BASE}/`, transport, tokens: store, onAuthFailure, ...o });
  const refreshes = () => requests.filter((r) => pathOf(r) === '/users/refresh');
  return { client, requests, store, set, onAuthFailure, refreshes };
}

describe('client token refresh', () => {
  it('two parallel calls with an expired token share one refresh, then both succeed', async () => {
    const g = gate();
    const t = setup(async (req) => {
      if (pathOf(req) === '/users/refresh') {
        // Held until both calls have had their 401: a second refresh would be sent meanwhile.
        await g.opened;
        return { status: 200, body: { ...NEW, expiresIn: 900 } };
      }
      if (bearer(req) !== NEW.accessToken) return unauthorized;
      return {
        status: 200,
        body: pathOf(req) === '/users/me' ? { id: 'u1' } : { items: [], nextCursor: null },
      };
    });
    const both = Promise.all([t.client.me(), t.client.conversations.list()]);
    await vi.waitFor(() => expect(t.requests.filter((r) => bearer(r) === OLD.accessToken)).toHaveLength(2));
    // Let the second 401 reach the client while the refresh is still out.
    await new Promise((r) => setTimeout(r, 20));
    g.open();
    const [me, page] = await both;
    expect(me).toEqual({ id: 'u1' });
    expect(page).toEqual({ items: [], nextCursor: null });
    expect(t.refreshes()).toHaveLength(1);
    expect(JSON.parse(t.refreshes()[0]?.body ?? '')).toEqual({ refreshToken: OLD.refreshToken });
    // The refresh call itself carries no access token.
    expect(t.refreshes()[0]?.headers.authorization).toBeUndefined();
    expect(t.set).toHaveBeenCalledTimes(1);
    expect(t.set).toHaveBeenCalledWith(NEW);
    expect(await t.store.get()).toEqual(NEW);
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });

  it('a 401 that arrives after another call rotated the pair retries with the new token, no refresh', async () => {
    const late = gate();
    const t = setup(async (req) => {
      if (pathOf(req) === '/users/refresh') return { status: 200, body: { ...NEW, expiresIn: 900 } };
      if (pathOf(req) === '/conversations' && bearer(req) === OLD.accessToken) {
        await late.opened;
        return unauthorized;
      }
      return bearer(req) === NEW.accessToken ? { status: 200, body: { ok: pathOf(req) } } : unauthorized;
    });
    const slow = t.client.conversations.list();
    await t.client.me();
    late.open();
    await expect(slow).resolves.toEqual({ ok: '/conversations' });
    // Refreshing again with the spent token would have revoked the whole session.
    expect(t.refreshes()).toHaveLength(1);
  });

  it('a refused refresh clears the tokens and calls onAuthFailure once, however many calls waited', async () => {
    const t = setup((req) =>
      pathOf(req) === '/users/refresh'
        ? { status: 401, body: envelope('UNAUTHORIZED', 'refresh token already used; please sign in again') }
        : unauthorized,
    );
    const results = await Promise.allSettled([t.client.me(), t.client.conversations.list(), t.client.me()]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    expect(t.refreshes()).toHaveLength(1);
    expect(await t.store.get()).toBeNull();
    expect(t.onAuthFailure).toHaveBeenCalledTimes(1);
    // Signed out now: the next call fails at once and says so again.
    await expect(t.client.me()).rejects.toMatchObject({ status: 401 });
    expect(t.onAuthFailure).toHaveBeenCalledTimes(2);
    expect(t.refreshes()).toHaveLength(1);
  });

  it('a refresh that fails for another reason (503, offline) keeps the session', async () => {
    const t = setup((req) =>
      pathOf(req) === '/users/refresh'
        ? { status: 503, body: envelope('SERVICE_UNAVAILABLE', 'try again') }
        : unauthorized,
    );
    await expect(t.client.me()).rejects.toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(await t.store.get()).toEqual(OLD);
    expect(t.onAuthFailure).not.toHaveBeenCalled();
  });

  it('retries once only: a second 401 is the answer', async () => {
    const t = setup((req) =>
      pathOf(req) === '/users/refresh' ? { status: 200, body: { ...NEW, expiresIn: 900 } } : unauthorized,
    );
    await expect(t.client.me()).rejects.toMatchObject({ status: 401 });
    expect(t.requests.map((r) => `${bearer(r) ?? '-'} ${pathOf(r)}`)).toEqual([
      'access-old /users/me',
      '- /users/refresh',
      'access-new /users/me',
    ]);
  });

  it('a chat stream refused with 401 refreshes and is asked again; events come only from the retry', async () => {
    const sse =
      'event: meta\ndata: {"conversationId":"c1","userMessageId":"m1","assistantMessageId":"m2"}\n\n' +
      'event: delta\ndata: {"text":"多喝水"}\n\n' +
      'event: done\ndata: {"assistantMessageId":"m2","finishReason":"stop","usage":{"promptTokens":3,"completionTokens":2}}\n\n';
    const t = setup((req) => {
      if (pathOf(req) === '/users/refresh') return { status: 200, body: { ...NEW, expiresIn: 900 } };
      if (bearer(req) !== NEW.accessToken) return unauthorized;
      return { status: 200, body: sse, headers: { 'content-type': 'text/event-stream; charset=utf-8' } };
    });
    const events: ChatEvent[] = [];
    const r = await t.client.textChat({ content: '头疼' }, { onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.event)).toEqual(['meta', 'delta', 'done']);
    expect(r).toMatchObject({ conversationId: 'c1', text: '多喝水', finishReason: 'stop' });
    expect(t.refreshes()).toHaveLength(1);
  });
});

describe('client errors', () => {
  it('an error envelope becomes an ApiError with status, code, message, requestId, details and Retry-After', async () => {
    const t = setup(() => ({
      status: 429,
      body: envelope('RATE_LIMITED', 'too many requests', {
        details: [{ path: 'content', code: 'too_big' }],
      }),
      headers: { 'retry-after': '7' },
    }));
    const err = await t.client.textChat({ content: 'x' }, { stream: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      message: 'too many requests',
      requestId: 'req-envelope-01',
      details: [{ path: 'content', code: 'too_big' }],
      retryAfter: 7,
    });
  });

  it('an answer without the envelope (a proxy page) gets a code from its status and the header request id', async () => {
    const t = setup(() => ({
      status: 502,
      body: '<html>Bad Gateway</html>',
      headers: { 'content-type': 'text/html' },
    }));
    await expect(t.client.me()).rejects.toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
      requestId: 'req-header-0001',
    });
  });

  it('a refusal before the stream is a plain ApiError and no event is delivered', async () => {
    const t = setup(() => ({ status: 403, body: envelope('CONSENT_REQUIRED', 'consent required') }));
    const onEvent = vi.fn();
    await expect(t.client.textChat({ content: 'x' }, { onEvent })).rejects.toMatchObject({
      status: 403,
      code: 'CONSENT_REQUIRED',
    });
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('an error event after meta rejects with ChatStreamError carrying what was written', async () => {
    const sse =
      'event: meta\ndata: {"conversationId":"c1","userMessageId":"m1","assistantMessageId":"m2"}\n\n' +
      'event: delta\ndata: {"text":"先"}\n\n' +
      'event: error\ndata: {"code":"UPSTREAM_TIMEOUT","message":"model timed out","assistantMessageId":"m2"}\n\n';
    const t = setup(() => ({ status: 200, body: sse, headers: { 'content-type': 'text/event-stream' } }));
    const err = await t.client.textChat({ content: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatStreamError);
    expect(err).toMatchObject({
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
      partial: { conversationId: 'c1', assistantMessageId: 'm2', text: '先' },
    });
  });

  it('a stream that ends without done is STREAM_INTERRUPTED (resuming turned off)', async () => {
    const sse =
      'event: meta\ndata: {"conversationId":"c1","userMessageId":"m1","assistantMessageId":"m2"}\n\n';
    const t = setup(() => ({ status: 200, body: sse, headers: { 'content-type': 'text/event-stream' } }), {
      resume: false,
    });
    await expect(t.client.textChat({ content: 'x' })).rejects.toMatchObject({ code: 'STREAM_INTERRUPTED' });
    expect(t.requests).toHaveLength(1);
  });

  it('an onEvent handler that throws stops the stream and is the rejection', async () => {
    const sse =
      'event: meta\ndata: {"conversationId":"c1","userMessageId":"m1","assistantMessageId":"m2"}\n\n' +
      'event: done\ndata: {"assistantMessageId":"m2","finishReason":"stop","usage":{"promptTokens":1,"completionTokens":1}}\n\n';
    const t = setup(() => ({ status: 200, body: sse, headers: { 'content-type': 'text/event-stream' } }));
    const boom = new Error('render failed');
    await expect(
      t.client.textChat(
        { content: 'x' },
        {
          onEvent: () => {
            throw boom;
          },
        },
      ),
    ).rejects.toBe(boom);
  });

  it('an aborted signal rejects with ABORTED before anything is sent', async () => {
    const t = setup(() => ({ status: 200, body: {} }));
    const a = createAbort();
    a.abort();
    await expect(t.client.me({ signal: a.signal })).rejects.toMatchObject({ status: 0, code: 'ABORTED' });
    expect(t.requests).toHaveLength(0);
  });
});

describe('client requests', () => {
  it('builds the contract’s URLs, queries and bodies', async () => {
    const t = setup((req) => (req.method === 'DELETE' ? { status: 204 } : { status: 200, body: {} }));
    const c = t.client;
    await c.conversations.list({ limit: 5, cursor: 'a b/c', archived: true });
    await c.conversations.messages('conv/1', { before: 'cur' });
    await c.conversations.update('conv1', { archived: true });
    await c.conversations.delete('conv1');
    await c.textChat({ content: '你好' }, { stream: false, idempotencyKey: 'key-1' });
    await c.logs.list({ level: 'error', since: '2026-01-01T00:00:00.000Z' });
    await c.logs.audit({ action: 'user.login' });
    await c.updateMe({ nickname: null });
    expect(t.requests.map((r) => `${r.method} ${pathOf(r)}`)).toEqual([
      'GET /conversations?limit=5&cursor=a%20b%2Fc&archived=true',
      'GET /conversations/conv%2F1/messages?before=cur',
      'PATCH /conversations/conv1',
      'DELETE /conversations/conv1',
      'POST /text-chat?stream=false',
      'GET /logs?level=error&since=2026-01-01T00%3A00%3A00.000Z',
      'GET /logs/audit?action=user.login',
      'PATCH /users/me',
    ]);
    expect(t.requests[2]?.body).toBe('{"archived":true}');
    expect(t.requests[2]?.headers['content-type']).toBe('application/json');
    expect(t.requests[3]?.body).toBeUndefined();
    expect(t.requests[4]?.headers['idempotency-key']).toBe('key-1');
    expect(t.requests[7]?.body).toBe('{"nickname":null}');
    for (const r of t.requests) expect(r.headers.authorization).toBe('Bearer access-old');
  });

  it('login keeps the pair; logout ends it on the server and forgets it even when that fails', async () => {
    const t = setup((req) => {
      if (pathOf(req) === '/users/login')
        return { status: 200, body: { ...NEW, expiresIn: 900, user: { id: 'u' } } };
      return { status: 503, body: envelope('SERVICE_UNAVAILABLE', 'down') };
    });
    await t.store.clear();
    const answer = await t.client.login('dev:alice');
    expect(answer.user).toEqual({ id: 'u' });
    expect(await t.store.get()).toEqual(NEW);
    expect(t.requests[0]?.headers.authorization).toBeUndefined();
    await expect(t.client.logout()).rejects.toMatchObject({ status: 503 });
    expect(JSON.parse(t.requests[1]?.body ?? '')).toEqual({ refreshToken: NEW.refreshToken });
    expect(await t.store.get()).toBeNull();
  });

  it('deleteMe forgets the tokens', async () => {
    const t = setup(() => ({ status: 204 }));
    await t.client.deleteMe();
    expect(t.requests[0]).toMatchObject({ method: 'DELETE' });
    expect(await t.store.get()).toBeNull();
  });

  it('uploadImage: ticket, the form to storage, then complete', async () => {
    const ticket = {
      fileId: 'f1',
      method: 'POST',
      url: 'https://storage.test/bucket',
      fields: { key: 'u/f1', policy: 'p' },
      expiresAt: '2026-01-01T00:00:00.000Z',
      maxBytes: 10,
      put: { url: 'https://storage.test/bucket/u/f1', headers: {} },
    };
    const done = { id: 'f1', status: 'ready', contentType: 'image/png', size: 4, width: 1, height: 1 };
    const t = setup((req) =>
      pathOf(req) === '/uploads' ? { status: 201, body: ticket } : { status: 200, body: done },
    );
    const file = { size: 4, type: '', arrayBuffer: async () => new ArrayBuffer(4) };
    await expect(t.client.uploadImage(file, { filename: 'x.png' })).resolves.toEqual(done);
    expect(JSON.parse(t.requests[0]?.body ?? '')).toEqual({
      filename: 'x.png',
      contentType: 'image/png',
      size: 4,
      purpose: 'chat-image',
    });
    expect(t.requests[1]).toMatchObject({ url: ticket.url, body: JSON.stringify(ticket.fields) });
    expect(t.requests.map((r) => r.url)).toEqual([
      `${BASE}/api/v1/uploads`,
      ticket.url,
      `${BASE}/api/v1/uploads/f1/complete`,
    ]);
    await expect(t.client.uploadImage('wxfile://tmp/a.jpg')).rejects.toBeInstanceOf(TypeError);
  });
});
