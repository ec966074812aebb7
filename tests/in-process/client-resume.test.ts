// The chat stream's resume machinery (client/answers.ts) against a scripted transport: a cut after
// meta is resumed from the received offset, the backoff is bounded and gives up with a clear error,
// event ids keep repeats and gaps out, refusals are not retried, stop() and resumeAnswers().
// Through the wx transport against the real server: tests/services/client-resume.test.ts.
import { describe, expect, it } from 'vitest';
import {
  type AnswerState,
  ApiError,
  type ChatEvent,
  ChatStreamError,
  type ClientOptions,
  createClient,
  memoryTokenStore,
  type StreamSink,
  type Transport,
  type TransportRequest,
} from '../../client/index.js';

const BASE = 'https://api.test';
const enc = new TextEncoder();
const META = { conversationId: 'c1', userMessageId: 'm1', assistantMessageId: 'm2' };
const DONE = {
  assistantMessageId: 'm2',
  finishReason: 'stop',
  usage: { promptTokens: 3, completionTokens: 4 },
};
const SSE = { 'content-type': 'text/event-stream', 'x-request-id': 'req-sse-000001' };

const ev = (event: string, data: unknown, id?: number) =>
  `event: ${event}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

/** What one request does: send chunks, then end (resolve), fail (reject) or hang. */
type Step = (sink: StreamSink, req: TransportRequest) => Promise<'end' | ApiError | 'hang' | number>;

const cutBy = (errMsg: string) =>
  new ApiError({ status: 0, code: 'NETWORK_ERROR', message: errMsg, requestId: '' });
const interruptedErr = () => cutBy('request:fail interrupted');

/** Streams `wire` and then ends the way `how` says. */
const sends =
  (wire: string, how: 'end' | ApiError | 'hang' = 'end', headers: Record<string, string> = SSE): Step =>
  async (sink) => {
    sink.onHeaders({ status: 200, headers });
    if (wire) sink.onChunk(enc.encode(wire));
    return how;
  };

const envelope =
  (status: number, code: string): Step =>
  async (sink) => {
    const headers = { 'content-type': 'application/json', 'x-request-id': 'req-env-000001' };
    sink.onHeaders({ status, headers });
    sink.onChunk(enc.encode(JSON.stringify({ error: { code, message: code, requestId: 'req-env-000001' } })));
    return status;
  };

/** A transport whose n-th stream request runs steps[n] (the last one repeats); JSON calls via `json`. */
function scripted(steps: Step[], json: (req: TransportRequest) => unknown = () => ({})) {
  const requests: TransportRequest[] = [];
  const transport: Transport = {
    request: async (req) => {
      requests.push(req);
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        text: JSON.stringify(json(req)),
      };
    },
    stream: (req, sink) =>
      new Promise((resolve, reject) => {
        const step = steps[Math.min(requests.length, steps.length - 1)];
        requests.push(req);
        if (!step) return reject(new Error('no step'));
        const onAbort = () =>
          reject(new ApiError({ status: 0, code: 'ABORTED', message: 'aborted', requestId: '' }));
        req.signal?.addEventListener('abort', onAbort);
        void step(sink, req).then((how) => {
          if (how === 'hang') return;
          req.signal?.removeEventListener('abort', onAbort);
          if (how === 'end') resolve({ status: 200, headers: SSE });
          else if (typeof how === 'number')
            resolve({ status: how, headers: { 'content-type': 'application/json' } });
          else reject(how);
        });
      }),
    upload: async () => ({ status: 204, headers: {}, text: '' }),
  };
  return { transport, requests };
}

function setup(steps: Step[], o: Partial<ClientOptions> = {}, json?: (req: TransportRequest) => unknown) {
  const { transport, requests } = scripted(steps, json);
  const client = createClient({
    baseUrl: BASE,
    transport,
    tokens: memoryTokenStore({ accessToken: 'access-1', refreshToken: 'refresh-1-0123456789' }),
    ...o,
  });
  const streams = () => requests.filter((r) => r.headers.accept === 'text/event-stream');
  return { client, requests, streams };
}

const path = (r: TransportRequest | undefined) => r?.url.slice(`${BASE}/api/v1`.length);
const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

/** Records the app's view: the text it would show, every event and every state. */
function recorder() {
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
    onState: (s: AnswerState) => states.push(s),
  };
}

describe('a cut chat stream is resumed', () => {
  it('after `fail interrupted`: GET …/stream?after=<received>, no character twice or missing', async () => {
    const rec = recorder();
    const t = setup(
      [
        sends(
          ev('meta', META, 0) + ev('delta', { text: '多喝' }, 2) + ev('delta', { text: '温水' }, 4),
          interruptedErr(),
        ),
        sends(
          ev('meta', META, 0) +
            ev('delta', { text: '，注意' }, 7) +
            ev('delta', { text: '休息。' }, 10) +
            ev('done', DONE, 10),
        ),
      ],
      { resume: FAST },
    );
    const r = await t.client.textChat({ content: '头疼' }, rec);
    expect(r).toMatchObject({
      ...META,
      text: '多喝温水，注意休息。',
      finishReason: 'stop',
      requestId: 'req-sse-000001',
    });
    expect(rec.shown()).toBe(r.text);
    expect(rec.events.map((e) => e.event)).toEqual(['meta', 'delta', 'delta', 'delta', 'delta', 'done']);
    const [first, second] = t.streams();
    expect(first).toMatchObject({ method: 'POST', url: `${BASE}/api/v1/text-chat` });
    expect(second?.method).toBe('GET');
    expect(path(second)).toBe('/conversations/c1/messages/m2/stream?after=4');
    expect(second?.headers.authorization).toBe('Bearer access-1');
    expect(rec.states.map((s) => s.state)).toEqual(['streaming', 'waiting', 'resuming', 'streaming', 'done']);
    expect(rec.states[1]).toMatchObject({
      attempt: 1,
      delayMs: 5,
      offset: 4,
      error: { message: 'request:fail interrupted' },
    });
  });

  it('a stream that ends without done, a timeout and a 503 on the resume are all resumed', async () => {
    const rec = recorder();
    const t = setup(
      [
        sends(ev('meta', META, 0) + ev('delta', { text: 'a' }, 1)),
        async () => cutBy('request:fail timeout'),
        envelope(503, 'SERVICE_UNAVAILABLE'),
        sends(ev('meta', META, 0) + ev('delta', { text: 'b' }, 2) + ev('done', DONE, 2)),
      ],
      { resume: FAST },
    );
    const r = await t.client.textChat({ content: 'x' }, rec);
    expect(r.text).toBe('ab');
    expect(t.streams().map(path)).toEqual([
      '/text-chat',
      '/conversations/c1/messages/m2/stream?after=1',
      '/conversations/c1/messages/m2/stream?after=1',
      '/conversations/c1/messages/m2/stream?after=1',
    ]);
    // Tries in a row without progress: the waits double.
    expect(
      rec.states.filter((s) => s.state === 'waiting').map((s) => s.state === 'waiting' && s.delayMs),
    ).toEqual([5, 10, 20]);
  });

  it('gives up after `retries` tries in a row with a clear error; resume() then tries again', async () => {
    const rec = recorder();
    const steps: Step[] = [
      sends(ev('meta', META, 0) + ev('delta', { text: '先' }, 1), interruptedErr()),
      async () => interruptedErr(),
    ];
    const t = setup(steps, { resume: { retries: 3, initialDelayMs: 4, maxDelayMs: 8 } });
    const answer = t.client.textChat({ content: 'x' }, rec);
    const err = await answer.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatStreamError);
    expect(err).toMatchObject({ code: 'STREAM_INTERRUPTED', partial: { ...META, text: '先' } });
    expect((err as Error).message).toMatch(/gave up after 3 tries.*request:fail interrupted/);
    // The first request and exactly three resumes, waiting 4, 8, 8 ms.
    expect(t.streams()).toHaveLength(4);
    const waits = rec.states.filter((s) => s.state === 'waiting');
    expect(waits.map((s) => s.state === 'waiting' && [s.attempt, s.delayMs])).toEqual([
      [1, 4],
      [2, 8],
      [3, 8],
    ]);
    expect(answer.state).toBe('interrupted');
    expect(rec.states.at(-1)).toMatchObject({ state: 'interrupted', offset: 1 });
    // Back online (onShow): the same answer goes on from its offset.
    steps.push(sends(ev('meta', META, 0) + ev('delta', { text: '休息' }, 3) + ev('done', DONE, 3)));
    const again = await answer.resume();
    expect(again.text).toBe('先休息');
    expect(rec.shown()).toBe('先休息');
    expect(path(t.streams().at(-1))).toBe('/conversations/c1/messages/m2/stream?after=1');
  });

  it('progress resets the count: many cuts, each after new text, never give up', async () => {
    const steps: Step[] = [sends(ev('meta', META, 0) + ev('delta', { text: '0' }, 1), interruptedErr())];
    for (let i = 1; i < 8; i++)
      steps.push(sends(ev('meta', META, 0) + ev('delta', { text: String(i) }, i + 1), interruptedErr()));
    steps.push(sends(ev('meta', META, 0) + ev('done', DONE, 8)));
    const t = setup(steps, { resume: { retries: 2, initialDelayMs: 1, maxDelayMs: 1 } });
    const r = await t.client.textChat({ content: 'x' });
    expect(r.text).toBe('01234567');
    expect(t.streams()).toHaveLength(9);
  });

  it('ids keep repeats and gaps out: an overlapping delta is trimmed, a gap is asked for again', async () => {
    const rec = recorder();
    const t = setup(
      [
        sends(ev('meta', META, 0) + ev('delta', { text: '一二' }, 2), interruptedErr()),
        // Overlaps what the client has (一二) by one, then skips 五: the client takes 三四 and asks again after 4.
        sends(
          ev('meta', META, 0) +
            ev('delta', { text: '二三四' }, 4) +
            ev('delta', { text: '六' }, 6) +
            ev('done', DONE, 6),
        ),
        sends(ev('meta', META, 0) + ev('delta', { text: '五六' }, 6) + ev('done', DONE, 6)),
      ],
      { resume: FAST },
    );
    const r = await t.client.textChat({ content: 'x' }, rec);
    expect(r.text).toBe('一二三四五六');
    expect(rec.shown()).toBe('一二三四五六');
    expect(
      rec.events.filter((e) => e.event === 'delta').map((e) => e.event === 'delta' && e.data.text),
    ).toEqual(['一二', '三四', '五六']);
    expect(t.streams().map(path).slice(1)).toEqual([
      '/conversations/c1/messages/m2/stream?after=2',
      '/conversations/c1/messages/m2/stream?after=4',
    ]);
    // done once, and the repeated meta never reached the app.
    expect(rec.events.filter((e) => e.event === 'meta')).toHaveLength(1);
    expect(rec.events.filter((e) => e.event === 'done')).toHaveLength(1);
  });

  it('a triage already shown is not shown again; a replace sets the text and the offset', async () => {
    const triage = { level: 'emergency', category: 'x', message: 'm', actions: [], source: 'model' };
    const rec = recorder();
    const t = setup(
      [
        sends(
          ev('meta', META, 0) + ev('delta', { text: '观察一下' }, 4) + ev('triage', triage, 4),
          interruptedErr(),
        ),
        sends(
          ev('meta', META, 0) + ev('triage', triage, 4) + ev('replace', { text: '请立即拨打120' }, 8),
          interruptedErr(),
        ),
        sends(
          ev('meta', META, 0) + ev('triage', triage, 8) + ev('done', { ...DONE, finishReason: 'triage' }, 8),
        ),
      ],
      { resume: FAST },
    );
    const r = await t.client.textChat({ content: 'x' }, rec);
    expect(r).toMatchObject({ text: '请立即拨打120', finishReason: 'triage', triage });
    expect(rec.events.map((e) => e.event)).toEqual(['meta', 'delta', 'triage', 'replace', 'done']);
    expect(path(t.streams()[2])).toBe('/conversations/c1/messages/m2/stream?after=8');
  });

  it('a silent connection (no byte, no ping) is dropped after stallMs and resumed', async () => {
    const t = setup(
      [
        sends(ev('meta', META, 0) + ev('delta', { text: '半' }, 1), 'hang'),
        sends(ev('meta', META, 0) + ev('delta', { text: '句' }, 2) + ev('done', DONE, 2)),
      ],
      { resume: { ...FAST, stallMs: 60 } },
    );
    const r = await t.client.textChat({ content: 'x' });
    expect(r.text).toBe('半句');
    expect(path(t.streams()[1])).toBe('/conversations/c1/messages/m2/stream?after=1');
  });
});

describe('what is not resumed', () => {
  it('a refusal before meta (JSON envelope) and a network failure before meta: one request', async () => {
    const a = setup([envelope(503, 'SERVICE_UNAVAILABLE')], { resume: FAST });
    await expect(a.client.textChat({ content: 'x' })).rejects.toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(a.streams()).toHaveLength(1);
    const b = setup([async () => interruptedErr()], { resume: FAST });
    const err = await b.client.textChat({ content: 'x' }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ChatStreamError);
    expect(err).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(b.streams()).toHaveLength(1);
  });

  it('an error event ends it; a 404 on the resume ends it with what had arrived', async () => {
    const a = setup([sends(ev('meta', META, 0) + ev('error', { code: 'UPSTREAM_ERROR', message: 'm' }, 0))], {
      resume: FAST,
    });
    await expect(a.client.textChat({ content: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      status: 502,
    });
    expect(a.streams()).toHaveLength(1);
    const b = setup(
      [
        sends(ev('meta', META, 0) + ev('delta', { text: '部分' }, 2), interruptedErr()),
        envelope(404, 'NOT_FOUND'),
      ],
      {
        resume: FAST,
      },
    );
    const err = await b.client.textChat({ content: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatStreamError);
    expect(err).toMatchObject({ status: 404, code: 'NOT_FOUND', partial: { text: '部分' } });
    expect(b.streams()).toHaveLength(2);
  });
});

describe('stop, followAnswer, resumeAnswers', () => {
  it('stop() called before meta posts …/stop once the ids are known', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const stopped = {
      id: 'm2',
      role: 'assistant',
      content: '先',
      status: 'incomplete',
      finishReason: 'stopped',
    };
    const t = setup(
      [
        async (sink) => {
          await gate;
          sink.onHeaders({ status: 200, headers: SSE });
          sink.onChunk(enc.encode(ev('meta', META, 0) + ev('delta', { text: '先' }, 1)));
          // The server ends the open stream with done once stopped.
          await new Promise((r) => setTimeout(r, 20));
          sink.onChunk(enc.encode(ev('done', { ...DONE, finishReason: 'stopped' }, 1)));
          return 'end';
        },
      ],
      {},
      () => stopped,
    );
    const answer = t.client.textChat({ content: 'x' });
    const stopping = answer.stop();
    expect(t.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/stop'))).toHaveLength(0);
    release();
    expect(await stopping).toEqual(stopped);
    const stopCall = t.requests.find((r) => r.url.endsWith('/stop'));
    expect(path(stopCall)).toBe('/conversations/c1/messages/m2/stop');
    expect(stopCall?.headers.authorization).toBe('Bearer access-1');
    expect(await answer).toMatchObject({ text: '先', finishReason: 'stopped' });
  });

  it('stop() of a request refused before meta answers null; stopAnswer() posts directly', async () => {
    const t = setup([envelope(429, 'RATE_LIMITED')], {}, () => ({ id: 'm9' }));
    const answer = t.client.textChat({ content: 'x' });
    await expect(answer).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(await answer.stop()).toBeNull();
    expect(await t.client.stopAnswer('c 1', 'm9')).toEqual({ id: 'm9' });
    expect(path(t.requests.at(-1))).toBe('/conversations/c%201/messages/m9/stop');
  });

  it('followAnswer: a stored streaming answer goes on from the text the page has', async () => {
    const rec = recorder();
    const t = setup([sends(ev('meta', META, 0) + ev('delta', { text: '休息。' }, 8) + ev('done', DONE, 8))]);
    const r = await t.client.followAnswer('c1', 'm2', { text: '多喝温水，', ...rec });
    expect(r.text).toBe('多喝温水，休息。');
    expect(path(t.streams()[0])).toBe('/conversations/c1/messages/m2/stream?after=5');
    expect(rec.events.map((e) => e.event)).toEqual(['meta', 'delta', 'done']);
    expect(() => t.client.followAnswer('c1', 'm2', { text: 'abc', after: 1 })).toThrow(TypeError);
  });

  it('resumeAnswers() (onShow) tries a waiting answer at once instead of after its backoff', async () => {
    const rec = recorder();
    const t = setup(
      [
        sends(ev('meta', META, 0) + ev('delta', { text: '一' }, 1), interruptedErr()),
        sends(ev('meta', META, 0) + ev('delta', { text: '二' }, 2) + ev('done', DONE, 2)),
      ],
      { resume: { initialDelayMs: 60_000 } },
    );
    const answer = t.client.textChat({ content: 'x' }, rec);
    while (answer.state !== 'waiting') await new Promise((r) => setTimeout(r, 1));
    const started = Date.now();
    const [resumed] = t.client.resumeAnswers();
    expect(resumed).toBe(answer);
    expect((await answer).text).toBe('一二');
    expect(Date.now() - started).toBeLessThan(5_000);
    // Finished answers are no longer followed.
    expect(t.client.resumeAnswers()).toEqual([]);
  });

  it('resumeAnswers() reconnects a stream silent for longer than staleMs at once, without a backoff wait', async () => {
    const rec = recorder();
    const t = setup(
      [
        sends(ev('meta', META, 0) + ev('delta', { text: '一' }, 1), 'hang'),
        sends(ev('meta', META, 0) + ev('delta', { text: '二' }, 2) + ev('done', DONE, 2)),
      ],
      { resume: { stallMs: 0, staleMs: 30, initialDelayMs: 60_000 } },
    );
    const answer = t.client.textChat({ content: 'x' }, rec);
    while (answer.text !== '一') await new Promise((r) => setTimeout(r, 1));
    // Not silent long enough yet: nothing happens.
    t.client.resumeAnswers();
    await new Promise((r) => setTimeout(r, 10));
    expect(t.streams()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 40));
    t.client.resumeAnswers();
    expect((await answer).text).toBe('一二');
    expect(path(t.streams()[1])).toBe('/conversations/c1/messages/m2/stream?after=1');
    expect(rec.states.some((s) => s.state === 'waiting')).toBe(false);
  });

  it('per call: `resume: false` turns it off, options merge over the client’s', async () => {
    const cut = () => sends(ev('meta', META, 0) + ev('delta', { text: '一' }, 1), interruptedErr());
    const off = setup([cut()], { resume: FAST });
    await expect(off.client.textChat({ content: 'x' }, { resume: false })).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      partial: { text: '一' },
    });
    expect(off.streams()).toHaveLength(1);
    const rec = recorder();
    const merged = setup([cut(), async () => interruptedErr()], {
      resume: { initialDelayMs: 3, maxDelayMs: 3 },
    });
    await expect(
      merged.client.textChat({ content: 'x' }, { ...rec, resume: { retries: 1 } }),
    ).rejects.toMatchObject({
      code: 'STREAM_INTERRUPTED',
    });
    expect(merged.streams()).toHaveLength(2);
    expect(
      rec.states.filter((s) => s.state === 'waiting').map((s) => s.state === 'waiting' && s.delayMs),
    ).toEqual([3]);
  });
});
