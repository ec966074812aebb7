// WeChat content security (msg_sec_check v2) against the local WeChat stand-in: verdicts, the
// access token cached across calls, refreshed before expiry and after 40001, and what happens
// when WeChat cannot be asked.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWechatStub, type WechatStub } from '../../dev/wechat-stub/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLogger } from '../../lib/logger.js';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import { checkText, clearAccessTokenCache } from '../../lib/wechat/index.js';
import { testEnv } from '../helpers/harness.js';

const APP = { appid: 'wx-content-app', secret: 'wx-content-secret' };
const RISKY = '违禁测试词';

let stub: WechatStub;
let clock = Date.now();
let logs: string[] = [];

function runtime(env: Record<string, string | undefined> = {}): Runtime {
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
      WECHAT_API_BASE_URL: stub.baseUrl,
      WECHAT_TIMEOUT_MS: '1000',
      ...env,
    }),
  );
  return createRuntime(config, { log: createLogger('info', sink), now: () => new Date(clock) });
}

const checks = () => stub.calls.filter((c) => c.path === '/wxa/msg_sec_check').length;

beforeAll(async () => {
  stub = await startWechatStub({ ...APP, riskyWords: [RISKY] });
});
afterAll(() => stub.close());
beforeEach(() => {
  clearAccessTokenCache();
  clock = Date.now();
  logs = [];
});

describe('checkText', () => {
  it('passes ordinary text and refuses risky text, with one token for many calls', async () => {
    const rt = runtime();
    const issued = stub.tokensIssued;
    expect(await checkText(rt, { content: '头疼三天了怎么办', openid: 'o-1' })).toBe('pass');
    expect(await checkText(rt, { content: `请问${RISKY}是什么`, openid: 'o-1' })).toBe('risky');
    expect(await checkText(rt, { content: '发烧 38.5 度', openid: 'o-1', scene: 1 })).toBe('pass');
    expect(stub.tokensIssued - issued).toBe(1);
  });

  it('refreshes the token before it expires', async () => {
    const rt = runtime();
    const issued = stub.tokensIssued;
    await checkText(rt, { content: 'a', openid: 'o-1' });
    clock += 6_000 * 1000; // still well inside the 7,200 s lifetime
    await checkText(rt, { content: 'b', openid: 'o-1' });
    expect(stub.tokensIssued - issued).toBe(1);
    clock += 1_000 * 1000; // within five minutes of expiry
    await checkText(rt, { content: 'c', openid: 'o-1' });
    expect(stub.tokensIssued - issued).toBe(2);
  });

  it('gets a new token and retries once when WeChat answers 40001', async () => {
    const rt = runtime();
    await checkText(rt, { content: 'warm up', openid: 'o-1' });
    // Someone else takes a new token: the cached one is now refused with 40001.
    await fetch(`${stub.baseUrl}/cgi-bin/stable_token`, {
      method: 'POST',
      body: JSON.stringify({ grant_type: 'client_credential', ...APP }),
    });
    const issued = stub.tokensIssued;
    const before = checks();
    expect(await checkText(rt, { content: `含有${RISKY}`, openid: 'o-1' })).toBe('risky');
    expect(stub.tokensIssued - issued).toBe(1);
    expect(checks() - before).toBe(2);
    // And the new token is cached for the next call.
    await checkText(rt, { content: 'again', openid: 'o-1' });
    expect(stub.tokensIssued - issued).toBe(1);
  });

  it('forces a token refresh at most once a minute per instance', async () => {
    const rt = runtime();
    await checkText(rt, { content: 'warm up', openid: 'o-1' });
    // The token is refused, and stable_token's normal mode keeps handing back that same token.
    stub.invalidateToken();
    const forced = stub.forcedRefreshes;
    expect(await checkText(rt, { content: `含有${RISKY}`, openid: 'o-1' })).toBe('risky');
    expect(stub.forcedRefreshes - forced).toBe(1);

    // Again 30 s later: no second forced refresh; the check counts as unavailable.
    stub.invalidateToken();
    clock += 30_000;
    logs = [];
    expect(await checkText(rt, { content: `含有${RISKY}`, openid: 'o-1', onUnavailable: 'risky' })).toBe(
      'risky',
    );
    expect(await checkText(rt, { content: 'hello', openid: 'o-1' })).toBe('pass');
    expect(stub.forcedRefreshes - forced).toBe(1);
    expect(logs.join('')).toContain('wechat content check unavailable');

    // A minute after the first one, forcing is allowed again.
    clock += 31_000;
    expect(await checkText(rt, { content: `含有${RISKY}`, openid: 'o-1' })).toBe('risky');
    expect(stub.forcedRefreshes - forced).toBe(2);
  });

  it('checks long text in 2,500-character pieces', async () => {
    const rt = runtime();
    const before = checks();
    const text = `${'正常内容'.repeat(700)}${RISKY}`;
    expect(await checkText(rt, { content: text, openid: 'o-1' })).toBe('risky');
    expect(checks() - before).toBe(2);
  });

  it('asks nobody when switched off or when WeChat is not configured', async () => {
    const before = stub.calls.length;
    expect(await checkText(runtime({ WECHAT_CONTENT_CHECK: 'false' }), { content: RISKY, openid: 'o' })).toBe(
      'pass',
    );
    const unconfigured = runtime({ WECHAT_APPID: undefined, WECHAT_SECRET: undefined });
    expect(await checkText(unconfigured, { content: RISKY, openid: 'o' })).toBe('pass');
    expect(stub.calls.length).toBe(before);
    // Explicitly on is the same as the default.
    expect(await checkText(runtime({ WECHAT_CONTENT_CHECK: 'true' }), { content: RISKY, openid: 'o' })).toBe(
      'risky',
    );
  });

  it('when WeChat cannot be asked: passes by default, or the verdict asked for; logs no text or token', async () => {
    const down = runtime({ WECHAT_API_BASE_URL: 'http://127.0.0.1:1' });
    expect(await checkText(down, { content: '我的电话 13900001111', openid: 'o' })).toBe('pass');
    expect(await checkText(down, { content: 'x', openid: 'o', onUnavailable: 'risky' })).toBe('risky');
    const wrongSecret = runtime({ WECHAT_SECRET: 'not-the-secret' });
    expect(await checkText(wrongSecret, { content: 'x', openid: 'o', onUnavailable: 'risky' })).toBe('risky');
    const all = logs.join('\n');
    expect(all).toContain('wechat content check unavailable');
    expect(all).toContain('"errcode":40013');
    expect(all).not.toContain('13900001111');
    expect(all).not.toContain('stub-access-token');
    expect(all).not.toContain(APP.secret);
  });
});
