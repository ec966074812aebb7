// Moderation while an answer streams, against the local WeChat stand-in: a risky phrase is flagged
// while the answer is still being written, a phrase across a window boundary is caught, checks never
// hold up push(), concurrency is bounded, and an outage fails open, counted and logged without text.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { startWechatStub, type WechatStub } from '../../dev/wechat-stub/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLogger } from '../../lib/logger.js';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import {
  clearAccessTokenCache,
  createStreamModerator,
  moderationCounters,
  moderationGuard,
  type StreamModerator,
} from '../../lib/wechat/index.js';
import { testEnv } from '../helpers/harness.js';

const APP = { appid: 'wx-moderation', secret: 'wx-moderation-secret' };
const RISKY = '违禁测试词';
const BUSY = '系统繁忙测试';
// A sentence of ordinary health advice; 20 characters.
const FILLER = '多喝温水注意休息，按时吃饭早点睡觉。。';

let stub: WechatStub;
let slow: WechatStub;
let logs: string[] = [];

function runtime(baseUrl: string, env: Record<string, string | undefined> = {}): Runtime {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = loadConfig(
    testEnv({
      WECHAT_APPID: APP.appid,
      WECHAT_SECRET: APP.secret,
      WECHAT_API_BASE_URL: baseUrl,
      WECHAT_TIMEOUT_MS: '2000',
      ...env,
    }),
  );
  return createRuntime(config, { log: createLogger('info', sink) });
}

const checksAt = (s: WechatStub) => s.calls.filter((c) => c.path === '/wxa/msg_sec_check').length;
const filler = (n: number) => FILLER.repeat(Math.ceil(n / FILLER.length)).slice(0, n);
/** Pushes `text` in model-sized deltas, yielding between them like a stream does. */
async function stream(m: StreamModerator, text: string, size = 7): Promise<void> {
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i += size) {
    m.push(chars.slice(i, i + size).join(''));
    await new Promise((r) => setImmediate(r));
  }
}
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

beforeAll(async () => {
  stub = await startWechatStub({ ...APP, riskyWords: [RISKY], busyWords: [BUSY] });
  slow = await startWechatStub({ ...APP, riskyWords: [RISKY], checkDelayMs: 300 });
});
afterAll(async () => {
  await stub.close();
  await slow.close();
});
beforeEach(() => {
  clearAccessTokenCache();
  logs = [];
});

describe('StreamModerator', () => {
  it('flags a risky phrase early in a long answer while it is still being written', async () => {
    let fired = 0;
    const m = createStreamModerator(runtime(stub.baseUrl), 'o-1', { onRisky: () => fired++ });
    expect(m.enabled).toBe(true);
    // The first 200 characters of what will be a 3,000-character answer: no finish(), no end.
    await stream(m, `您好。${RISKY}${filler(200)}`);
    expect(await within(m.risky, 5_000)).toBe(true);
    expect(fired).toBe(1);
    expect(m.isRisky).toBe(true);
    // Once risky, the rest of the answer is not checked any more.
    const before = checksAt(stub);
    await stream(m, filler(2_800));
    expect((await m.finish()).verdict).toBe('risky');
    expect(checksAt(stub)).toBe(before);
    expect(fired).toBe(1);
  });

  it('catches a phrase straddling a window boundary, which neither window alone would see', async () => {
    const windowSize = 60;
    const overlap = 10;
    const firstWindow = 40;
    // Windows: [0,40) [30,90) [80,140) …; the phrase sits across the first window's end (36..41).
    const text = `${filler(36)}${RISKY}${filler(200)}`;
    const first = Array.from(text).slice(0, firstWindow).join('');
    expect(first).not.toContain(RISKY);
    expect(first.endsWith(RISKY.slice(0, 4))).toBe(true);
    const m = createStreamModerator(runtime(stub.baseUrl), 'o-1', { windowSize, overlap, firstWindow });
    await stream(m, text.slice(0, 100));
    expect(await within(m.risky, 5_000)).toBe(true);

    // The same text without overlap slips through: the overlap is what catches it.
    const blind = createStreamModerator(runtime(stub.baseUrl), 'o-1', {
      windowSize,
      overlap: 0,
      firstWindow,
    });
    await stream(blind, text);
    const r = await blind.finish();
    expect(r.verdict).toBe('pass');
    expect(r.checked).toBeGreaterThan(3);
  });

  it('checks the tail on finish(): a risky last sentence is caught', async () => {
    const m = createStreamModerator(runtime(stub.baseUrl), 'o-1');
    await stream(m, `${filler(700)}最后一句${RISKY}`);
    const r = await m.finish();
    expect(r).toMatchObject({ verdict: 'risky', unavailable: 0 });
    // A clean answer passes, with every part checked.
    const clean = createStreamModerator(runtime(stub.baseUrl), 'o-1');
    await stream(clean, filler(1_500));
    expect(await clean.finish()).toEqual({ verdict: 'pass', checked: 4, unavailable: 0 });
  });

  it('never waits for WeChat in push(), and bounds the checks open at once', async () => {
    const m = createStreamModerator(runtime(slow.baseUrl), 'o-1', {
      windowSize: 100,
      overlap: 20,
      firstWindow: 50,
      maxInFlight: 2,
    });
    const windowsBefore = moderationCounters().windows;
    // push() is synchronous: all 2,000 characters go through before any check has answered.
    for (const ch of filler(2_000)) m.push(ch);
    expect(moderationCounters().windows).toBe(windowsBefore);
    const r = await m.finish();
    expect(r.verdict).toBe('pass');
    expect(slow.maxConcurrentChecks).toBeLessThanOrEqual(2);
    // Windows queued behind slow checks are merged: far fewer calls than the 25 windows.
    expect(r.checked).toBeLessThan(10);
  });

  it('a WeChat outage fails open, is counted, and is logged without the text', async () => {
    const before = moderationCounters();
    const m = createStreamModerator(runtime(stub.baseUrl), 'o-1', { requestId: 'req-moderation-1' });
    // The stand-in answers errcode -1 (system busy) for every window holding the marker.
    await stream(m, `${BUSY}病人电话13900001111。${filler(300)}`);
    const r = await m.finish();
    expect(r.verdict).toBe('pass');
    expect(r.unavailable).toBeGreaterThan(0);
    const after = moderationCounters();
    expect(after.unavailable - before.unavailable).toBe(r.unavailable);
    expect(after.answersUnchecked - before.answersUnchecked).toBe(1);
    const all = logs.join('\n');
    expect(all).toContain('wechat moderation unavailable; answer failed open');
    expect(all).toContain('"errcode":-1');
    expect(all).toContain('req-moderation-1');
    expect(all).not.toContain('13900001111');
    expect(all).not.toContain('stub-access-token');

    // Unreachable altogether: the same.
    const down = createStreamModerator(runtime('http://127.0.0.1:1'), 'o-1');
    await stream(down, filler(200));
    expect(await down.finish()).toMatchObject({ verdict: 'pass', checked: 0 });
  });

  it('wired to a real model stream: a risky opening aborts the model request before the answer ends', async () => {
    const mock: MockLlm = await startMockLlm();
    try {
      const rt = runtime(stub.baseUrl, { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'test' });
      const full = `开头${RISKY}。${filler(3_000)}`;
      mock.enqueue({ reply: full, chunkSize: 10, chunkDelayMs: 5 });
      const model = new AbortController();
      const m = createStreamModerator(rt, 'o-1', { onRisky: () => model.abort() });
      let shown = '';
      let failed: unknown;
      try {
        const llm = await rt.llm();
        const messages = [{ role: 'user' as const, content: '问' }];
        for await (const ev of llm.streamChat({ model: 'mock-chat', messages, signal: model.signal })) {
          if (ev.type !== 'text') continue;
          shown += ev.text;
          m.push(ev.text);
        }
      } catch (err) {
        failed = err;
      }
      expect(m.isRisky).toBe(true);
      expect(failed).toBeDefined();
      // Stopped mid-answer: the model did not get to write it all, and its request was cut.
      expect(shown.length).toBeLessThan(full.length);
      await expect.poll(() => mock.requests.at(-1)?.aborted).toBe(true);
    } finally {
      await mock.close();
    }
  });

  it('as an answer guard: a risky window replaces at once, a risky tail at finish, an ended answer with nothing', async () => {
    const rt = runtime(stub.baseUrl);
    const NOTICE = '内容未通过检查';
    const g = moderationGuard(rt, 'o-1', NOTICE);
    if (!g) throw new Error('guard expected');
    const replaced = g.start(new AbortController().signal);
    for (const piece of [`${RISKY}开头`, filler(200)]) g.delta(piece, '');
    expect(await replaced).toEqual({ text: NOTICE });

    const tail = moderationGuard(rt, 'o-1', NOTICE);
    if (!tail) throw new Error('guard expected');
    tail.delta(`短回答${RISKY}`, '');
    expect(await tail.finish('')).toEqual({ text: NOTICE });

    const clean = moderationGuard(rt, 'o-1', NOTICE);
    if (!clean) throw new Error('guard expected');
    const ended = new AbortController();
    const started = clean.start(ended.signal);
    clean.delta(filler(300), '');
    expect(await clean.finish('')).toBeNull();
    ended.abort();
    expect(await started).toBeNull();

    expect(moderationGuard(runtime(stub.baseUrl, { WECHAT_CONTENT_CHECK: 'false' }), 'o', NOTICE)).toBeNull();
  });

  it('does nothing when content security is off', async () => {
    const before = checksAt(stub);
    const m = createStreamModerator(runtime(stub.baseUrl, { WECHAT_CONTENT_CHECK: 'false' }), 'o-1');
    expect(m.enabled).toBe(false);
    await stream(m, `${RISKY}${filler(1_000)}`);
    expect(await m.finish()).toEqual({ verdict: 'pass', checked: 0, unavailable: 0 });
    expect(checksAt(stub)).toBe(before);
  });

  it('stop() starts no further checks', async () => {
    const m = createStreamModerator(runtime(stub.baseUrl), 'o-1');
    m.stop();
    const before = checksAt(stub);
    await stream(m, `${filler(1_000)}${RISKY}`);
    expect((await m.finish()).verdict).toBe('pass');
    expect(checksAt(stub)).toBe(before);
  });

  it('refuses windows that could miss a phrase or exceed msgSecCheck', () => {
    const rt = runtime(stub.baseUrl);
    expect(() => createStreamModerator(rt, 'o', { windowSize: 3_000 })).toThrow(RangeError);
    expect(() => createStreamModerator(rt, 'o', { overlap: 200, firstWindow: 150 })).toThrow(RangeError);
    expect(() => createStreamModerator(rt, 'o', { maxInFlight: 0 })).toThrow(RangeError);
  });
});
