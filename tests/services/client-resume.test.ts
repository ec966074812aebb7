// Answers that survive the phone, as the mini-program lives it: the client over its wx transport,
// where `wx.request` is a stub over real HTTP to the real service (PostgreSQL, the local model) that
// cuts requests the way WeChat does — "request:fail interrupted" mid-answer, and at once while the
// mini-program is in the background. The text the page shows (every delta and replace, joined) must
// equal the stored answer exactly. Type-checked by tests/tsconfig.wx.json (wx and Node typings).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AnswerState,
  type ChatEvent,
  type Client,
  type ClientOptions,
  createClient,
  type Message,
  memoryTokenStore,
} from '../../client/index.js';
import { type WxApi, wxTransport } from '../../client/transports/wx.js';
import type { MockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import { type Stack, startStack } from '../helpers/stack.js';

const REPLY = '先让孩子多喝水，观察精神状态和尿量；体温超过38.5度可以用退热药，按说明书给药。'.repeat(3);

/** One wx.request seen by the stub. */
type Seen = { method: string; url: string; chunked: boolean; cut: boolean; refused: boolean };

/**
 * `wx` whose request() is real HTTP (fetch). `cutAfterChunks(seen)` names after how many body chunks
 * of a chunked request WeChat cuts it ("request:fail interrupted"); `background` refuses every new
 * request at once, as WeChat does for a mini-program in the background.
 */
function wxOverHttp() {
  const seen: Seen[] = [];
  const state = {
    background: false,
    cutAfterChunks: (_s: Seen): number | undefined => undefined,
  };
  const fail = (option: WechatMiniprogram.RequestOption<never>, errMsg: string) =>
    option.fail?.({ errMsg, errno: 0 } as WechatMiniprogram.RequestFailCallbackErr);

  const request = <T extends string | WechatMiniprogram.IAnyObject | ArrayBuffer>(
    option: WechatMiniprogram.RequestOption<T>,
  ): WechatMiniprogram.RequestTask => {
    const s: Seen = {
      method: option.method ?? 'GET',
      url: option.url,
      chunked: option.enableChunked === true,
      cut: false,
      refused: false,
    };
    seen.push(s);
    const onChunk: WechatMiniprogram.OnChunkReceivedCallback[] = [];
    const onHeaders: WechatMiniprogram.RequestTaskOnHeadersReceivedCallback[] = [];
    const ac = new AbortController();
    let finished = false;
    const end = (f: () => void) => {
      if (finished) return;
      finished = true;
      f();
    };
    const failWith = (errMsg: string) =>
      end(() => fail(option as unknown as WechatMiniprogram.RequestOption<never>, errMsg));
    const run = async () => {
      if (state.background) {
        s.refused = true;
        return failWith('request:fail interrupted');
      }
      const limit = s.chunked ? state.cutAfterChunks(s) : undefined;
      try {
        const res = await fetch(option.url, {
          method: s.method,
          headers: option.header as Record<string, string>,
          ...(typeof option.data === 'string' ? { body: option.data } : {}),
          signal: ac.signal,
        });
        const header: Record<string, string> = {};
        res.headers.forEach((v, k) => {
          header[k] = v;
        });
        if (!s.chunked) {
          const data = await res.text();
          const r = { statusCode: res.status, header, data, cookies: [], errMsg: 'request:ok' };
          return end(() =>
            option.success?.(r as unknown as WechatMiniprogram.RequestSuccessCallbackResult<T>),
          );
        }
        const h = { header, statusCode: res.status, cookies: [] };
        for (const l of onHeaders) l(h as WechatMiniprogram.RequestTaskOnHeadersReceivedListenerResult);
        const reader = res.body?.getReader();
        let chunks = 0;
        for (;;) {
          const part = await reader?.read();
          if (!part || part.done) break;
          if (finished) return;
          for (const l of onChunk) l({ data: new Uint8Array(part.value).buffer });
          chunks += 1;
          if (limit !== undefined && chunks >= limit) {
            s.cut = true;
            ac.abort();
            return failWith('request:fail interrupted');
          }
        }
        const r = {
          statusCode: res.status,
          header,
          data: new ArrayBuffer(0),
          cookies: [],
          errMsg: 'request:ok',
        };
        end(() => option.success?.(r as unknown as WechatMiniprogram.RequestSuccessCallbackResult<T>));
      } catch {
        failWith(ac.signal.aborted ? 'request:fail abort' : 'request:fail network error');
      }
    };
    setTimeout(() => void run(), 0);
    return {
      abort: () => {
        ac.abort();
        failWith('request:fail abort');
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
  };
  const wx: WxApi = {
    request,
    uploadFile: () => {
      throw new Error('not used here');
    },
  };
  return { wx, seen, state };
}

/** The page: the text it shows, the events and states it heard. */
function page() {
  const events: ChatEvent[] = [];
  const states: AnswerState[] = [];
  let shown = '';
  return {
    events,
    states,
    shown: () => shown,
    onEvent: (e: ChatEvent) => {
      events.push(e);
      if (e.event === 'delta') shown += e.data.text;
      if (e.event === 'replace') shown = e.data.text;
    },
    onState: (s: AnswerState) => {
      states.push(s);
    },
  };
}

const until = async <T>(probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('the mini-program client through cut wx requests', () => {
  let stack: Stack;
  let mock: MockLlm;
  let server: LocalServer;
  let fake: ReturnType<typeof wxOverHttp>;
  let client: Client;

  const newClient = async (o: Partial<ClientOptions> = {}) => {
    const c = createClient({
      baseUrl: server.url,
      transport: wxTransport(fake.wx),
      tokens: memoryTokenStore(),
      ...o,
    });
    return c;
  };

  /** The answer as stored, once it is no longer being written. */
  const stored = (conversationId: string, messageId: string): Promise<Message> =>
    until(async () => {
      const page = await client.conversations.messages(conversationId, { limit: 10 });
      const m = page.items.find((x) => x.id === messageId);
      return m && m.status !== 'streaming' ? m : undefined;
    });

  const streamUrls = () => fake.seen.filter((s) => s.chunked).map((s) => s.url.replace(server.url, ''));

  beforeAll(async () => {
    stack = await startStack({});
    ({ mock, server } = stack);
    fake = wxOverHttp();
    client = await newClient({ resume: { initialDelayMs: 50, maxDelayMs: 400 } });
    const { user } = await client.login('dev:resume-walker');
    await client.consents.record({ version: user.consent.currentVersion, accepted: true });
  });
  afterAll(() => stack?.close());
  beforeEach(() => {
    mock.reset();
    fake.seen.length = 0;
    fake.state.background = false;
    fake.state.cutAfterChunks = () => undefined;
  });

  it('a request cut mid-answer resumes from the characters received: no repeat, no gap', async () => {
    mock.enqueue({ reply: REPLY, chunkSize: 3, chunkDelayMs: 15 });
    // Every chunked request is cut after its fourth chunk: several resumes, each carrying on.
    fake.state.cutAfterChunks = () => 4;
    const p = page();
    const result = await client.textChat({ content: '孩子发烧38度怎么办' }, p);
    const cuts = fake.seen.filter((s) => s.cut).length;
    expect(cuts).toBeGreaterThanOrEqual(3);
    const saved = await stored(result.conversationId, result.assistantMessageId);
    expect(saved).toMatchObject({ status: 'complete', content: REPLY });
    expect(p.shown()).toBe(saved.content);
    expect(result.text).toBe(saved.content);
    expect(result.finishReason).toBe('stop');
    // The first request is the question; every further one asks for the rest after what was shown.
    const urls = streamUrls();
    expect(urls[0]).toBe('/api/v1/text-chat');
    const afters = urls.slice(1).map((u) => Number(new URL(u, server.url).searchParams.get('after')));
    expect(
      urls
        .slice(1)
        .every((u) =>
          u.startsWith(
            `/api/v1/conversations/${result.conversationId}/messages/${result.assistantMessageId}/stream?after=`,
          ),
        ),
    ).toBe(true);
    // Every cut before `done` is resumed once; a cut that lands after the last event needs none.
    expect(afters.length).toBeGreaterThanOrEqual(cuts - 1);
    expect(afters.length).toBeLessThanOrEqual(cuts);
    expect(afters.every((a, i) => i === 0 || a > (afters[i - 1] ?? 0))).toBe(true);
    expect(p.events.filter((e) => e.event === 'meta')).toHaveLength(1);
    expect(p.events.filter((e) => e.event === 'done')).toHaveLength(1);
    expect(p.states.filter((s) => s.state === 'resuming').length).toBe(afters.length);
    // Leaving never stopped the model.
    expect(mock.requests.some((r) => r.aborted)).toBe(false);
  });

  it('in the background every try fails; it gives up, and onShow (resumeAnswers) picks it up again', async () => {
    const quick = await newClient({
      tokens: client.tokens,
      resume: { retries: 2, initialDelayMs: 20, maxDelayMs: 40 },
    });
    mock.enqueue({ reply: REPLY, chunkSize: 4, chunkDelayMs: 20 });
    const p = page();
    // onHide: WeChat cuts the open request after a few chunks and refuses new ones.
    fake.state.cutAfterChunks = (s) => {
      if (s.method !== 'POST') return undefined;
      return 3;
    };
    const answer = quick.textChat({ content: '发烧怎么办' }, p);
    const wentAway = until(() => (fake.seen.some((s) => s.cut) ? true : undefined));
    await wentAway;
    fake.state.background = true;
    const err = await answer.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STREAM_INTERRUPTED' });
    expect((err as Error).message).toMatch(/gave up after 2 tries/);
    expect(answer.state).toBe('interrupted');
    expect(fake.seen.filter((s) => s.refused)).toHaveLength(2);
    const meta = answer.meta;
    if (!meta) throw new Error('no meta');
    const had = answer.offset;
    expect(had).toBe(p.shown().length);
    expect(had).toBeGreaterThan(0);
    // onShow. Meanwhile the server wrote on to the end; nothing asked for it since the client gave up.
    fake.state.background = false;
    const saved = await stored(meta.conversationId, meta.assistantMessageId);
    expect(saved).toMatchObject({ status: 'complete', content: REPLY });
    const before = fake.seen.filter((s) => s.chunked).length;
    const [resumed] = quick.resumeAnswers();
    const result = await resumed;
    expect(result?.text).toBe(REPLY);
    expect(p.shown()).toBe(REPLY);
    expect(streamUrls().at(-1)).toBe(
      `/api/v1/conversations/${meta.conversationId}/messages/${meta.assistantMessageId}/stream?after=${had}`,
    );
    expect(fake.seen.filter((s) => s.chunked).length).toBe(before + 1);
    expect(p.states.at(-1)).toMatchObject({ state: 'done' });
    expect(quick.resumeAnswers()).toEqual([]);
  });

  it('followAnswer picks up a stored answer still being written (status streaming), from the text shown', async () => {
    mock.enqueue({ reply: REPLY.repeat(2), chunkSize: 2, chunkDelayMs: 20 });
    const first = page();
    // The mini-program is closed after a few chunks: nothing resumes it.
    fake.state.cutAfterChunks = () => 5;
    const gone = await client
      .textChat({ content: '还要注意什么' }, { ...first, resume: false })
      .catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'NETWORK_ERROR' });
    fake.state.cutAfterChunks = () => undefined;
    // Reopened: the conversation's last message is still being written; its content is what was saved.
    const meta = (gone as { partial: { conversationId: string; assistantMessageId: string } }).partial;
    const listed = await until(async () => {
      const items = (await client.conversations.messages(meta.conversationId)).items;
      const m = items.find((x) => x.id === meta.assistantMessageId);
      return m && m.status === 'streaming' && m.content.length > 0 ? m : undefined;
    }, 10_000);
    const p = page();
    const result = await client.followAnswer(meta.conversationId, meta.assistantMessageId, {
      text: listed.content,
      ...p,
    });
    const saved = await stored(meta.conversationId, meta.assistantMessageId);
    expect(saved.content).toBe(REPLY.repeat(2));
    expect(listed.content + p.shown()).toBe(saved.content);
    expect(result.text).toBe(saved.content);
    expect(streamUrls().at(-1)).toMatch(new RegExp(`/stream\\?after=${listed.content.length}$`));
  });

  it('stop() ends the answer on the server; the stream ends with done "stopped" and the stored text is what was shown', async () => {
    mock.enqueue({ reply: REPLY.repeat(10), chunkSize: 2, chunkDelayMs: 30 });
    const p = page();
    const answer = client.textChat({ content: '肚子胀' }, p);
    await until(() => (p.shown().length >= 6 ? true : undefined));
    const message = await answer.stop();
    expect(message).toMatchObject({ status: 'incomplete', finishReason: 'stopped' });
    const result = await answer;
    expect(result.finishReason).toBe('stopped');
    const saved = await stored(result.conversationId, result.assistantMessageId);
    expect(saved.content).toBe(p.shown());
    expect(saved.content.length).toBeLessThan(REPLY.length * 10);
    expect(mock.requests.at(-1)?.aborted).toBe(true);
    // The plain call on a finished answer answers it as it is.
    expect(await client.stopAnswer(result.conversationId, result.assistantMessageId)).toMatchObject({
      status: 'incomplete',
      content: saved.content,
    });
  });
});
