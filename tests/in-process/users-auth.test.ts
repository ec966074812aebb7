// Sign-in, tokens and the HTTP kit, in process on an embedded database.
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentList, ErrorEnvelope, LoginResponse, TokenPair, User } from '../../client/index.js';
import { startWechatStub, type WechatStub } from '../../dev/wechat-stub/index.js';
import { createHarness, type Harness, testEnv } from '../helpers/harness.js';

const SECRET = testEnv().JWT_SECRET as string;
const enc = new TextEncoder();

function expectEnvelope(body: unknown, code: string) {
  expect(body).toMatchObject({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
}

describe('dev sign-in and the HTTP kit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  describe('dev:<name> sign-in', () => {
    let r: Awaited<ReturnType<typeof h.call<LoginResponse>>>;
    beforeAll(async () => {
      r = await h.call<LoginResponse>('POST', '/users/login', { body: { code: 'dev:alice' } });
    });

    it('answers a token pair and the user', () => {
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ expiresIn: 900, user: { nickname: 'alice', role: 'user' } });
    });

    it('gives an access token that reads the profile, consent still required', async () => {
      const me = await h.call<User>('GET', '/users/me', { token: r.json.accessToken });
      expect(me.status).toBe(200);
      expect(me.json).toMatchObject({
        id: r.json.user.id,
        nickname: 'alice',
        consent: { required: true, acceptedVersion: null },
      });
    });

    it('signs the same name in to the same account', async () => {
      const again = await h.call<LoginResponse>('POST', '/users/login', { body: { code: 'dev:alice' } });
      expect(again.json.user.id).toBe(r.json.user.id);
    });
  });

  it('refuses codes that are not dev codes when WeChat is not configured', async () => {
    for (const code of ['alice', 'dev:', 'dev:bad name', 'ok:openid']) {
      const r = await h.call('POST', '/users/login', { body: { code } });
      expect(r.status, code).toBe(401);
      expectEnvelope(r.json, 'UNAUTHORIZED');
    }
  });

  describe('refresh tokens', () => {
    const refresh = (refreshToken: string) =>
      h.call<TokenPair>('POST', '/users/refresh', { body: { refreshToken } });
    /** A sign-in whose refresh token was rotated once and then came back spent. */
    const reused = async (name: string) => {
      const a = await h.login(name);
      const r1 = await refresh(a.refresh);
      const reuse = await refresh(a.refresh);
      return { a, r1, reuse };
    };

    it('rotate: a refresh answers a new refresh token and an access token that works', async () => {
      const a = await h.login('rotator');
      const r1 = await refresh(a.refresh);
      expect(r1.status).toBe(200);
      expect(r1.json.refreshToken).not.toBe(a.refresh);
      expect((await h.call('GET', '/users/me', { token: r1.json.accessToken })).status).toBe(200);
    });

    it('a spent refresh token coming back is refused', async () => {
      const { reuse } = await reused('reuser');
      expect(reuse.status).toBe(401);
    });

    it('the reuse revokes the family: the legitimate newest token is dead too', async () => {
      const { r1 } = await reused('robbed');
      const after = await refresh(r1.json.refreshToken);
      expect(after.status).toBe(401);
    });

    it('another sign-in is a separate family, unaffected by the reuse', async () => {
      await reused('two-families');
      const b = await h.login('two-families');
      expect((await refresh(b.refresh)).status).toBe(200);
    });
  });

  describe('an access token stops working when its sign-in ends', () => {
    const me = (token: string) => h.call('GET', '/users/me', { token });
    const list = (token: string) => h.call('GET', '/conversations', { token });

    it('logout: that session’s access tokens are refused at once, other sessions work', async () => {
      const a = await h.login('ended-by-logout');
      const b = await h.login('ended-by-logout');
      expect((await me(a.token)).status).toBe(200);
      expect((await list(a.token)).status).toBe(200);
      expect((await h.call('POST', '/users/logout', { body: { refreshToken: a.refresh } })).status).toBe(204);
      expect((await me(a.token)).status).toBe(401);
      expect((await list(a.token)).status).toBe(401);
      expect((await me(b.token)).status).toBe(200);
      expect((await list(b.token)).status).toBe(200);
    });

    it('a reused refresh token revokes the family: every access token of it is refused', async () => {
      const a = await h.login('ended-by-reuse');
      const r1 = await h.call<TokenPair>('POST', '/users/refresh', { body: { refreshToken: a.refresh } });
      expect(r1.status).toBe(200);
      const newest: string = r1.json.accessToken;
      expect((await me(newest)).status).toBe(200);
      expect((await h.call('POST', '/users/refresh', { body: { refreshToken: a.refresh } })).status).toBe(
        401,
      );
      for (const token of [a.token, newest]) {
        expect((await me(token)).status).toBe(401);
        expect((await list(token)).status).toBe(401);
      }
    });

    it('account deletion: the tokens are refused', async () => {
      const a = await h.login('ended-by-deletion');
      expect((await list(a.token)).status).toBe(200);
      expect((await h.call('DELETE', '/users/me', { token: a.token })).status).toBeLessThan(300);
      expect((await me(a.token)).status).toBe(401);
      expect((await list(a.token)).status).toBe(401);
    });
  });

  it('logout ends that session only', async () => {
    const a = await h.login('leaver');
    const b = await h.login('leaver');
    expect((await h.call('POST', '/users/logout', { body: { refreshToken: a.refresh } })).status).toBe(204);
    expect((await h.call('POST', '/users/refresh', { body: { refreshToken: a.refresh } })).status).toBe(401);
    expect((await h.call('POST', '/users/refresh', { body: { refreshToken: b.refresh } })).status).toBe(200);
    // Logging out twice is harmless.
    expect((await h.call('POST', '/users/logout', { body: { refreshToken: a.refresh } })).status).toBe(204);
  });

  describe('GET /users/me refuses bad tokens', () => {
    let userId: string;
    let sid: string;
    beforeAll(async () => {
      const victim = await h.login('victim');
      userId = victim.userId;
      // A live session of this account, so only the claim under test is wrong.
      sid = String(decodeJwt(victim.token).sid);
    });
    const now = () => Math.floor(Date.now() / 1000);
    const sign = (
      key: string,
      claims: { aud?: string; iss?: string; exp?: number; iat?: number; sid?: string },
    ) =>
      new SignJWT({ role: 'admin', sid: claims.sid ?? sid })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(claims.iss ?? 'health-assistant')
        .setAudience(claims.aud ?? 'health-assistant-miniprogram')
        .setIssuedAt(claims.iat ?? now())
        .setExpirationTime(claims.exp ?? now() + 600)
        .sign(enc.encode(key));

    it.each([
      ['no token', async () => undefined],
      ['garbage', async () => 'not-a-jwt'],
      ['forged with another key', () => sign('another-secret-another-secret-another-00', {})],
      ['expired', () => sign(SECRET, { exp: Math.floor(Date.now() / 1000) - 60 })],
      ['wrong audience', () => sign(SECRET, { aud: 'someone-else' })],
      ['wrong issuer', () => sign(SECRET, { iss: 'someone-else' })],
      // Older than the access lifetime (900 s), though its own exp says it is still valid.
      ['older than the access lifetime', () => sign(SECRET, { iat: now() - 1_000, exp: now() + 3_600 })],
      ['issued in the future', () => sign(SECRET, { iat: now() + 120, exp: now() + 600 })],
      ['of a session that does not exist', () => sign(SECRET, { sid: crypto.randomUUID() })],
      [
        'alg none',
        async () =>
          new UnsecuredJWT({ role: 'admin', sid: 'x' })
            .setSubject(userId)
            .setIssuer('health-assistant')
            .setAudience('health-assistant-miniprogram')
            .setIssuedAt()
            .setExpirationTime('10m')
            .encode(),
      ],
    ])('%s → 401', async (_name, make) => {
      const token = await make();
      const r = await h.call('GET', '/users/me', { token });
      expect(r.status).toBe(401);
      expectEnvelope(r.json, 'UNAUTHORIZED');
    });

    it('a valid token with the right key passes (the cases above can fail)', async () => {
      const r = await h.call('GET', '/users/me', { token: await sign(SECRET, {}) });
      expect(r.status).toBe(200);
    });
  });

  describe('answers the envelope', () => {
    it('404 NOT_FOUND for an unknown route of a function', async () => {
      const unknown = await h.call('GET', '/users/nope');
      expect(unknown.status).toBe(404);
      expectEnvelope(unknown.json, 'NOT_FOUND');
    });

    it('404 NOT_FOUND for a path of no function', async () => {
      const noFn = await h.call('GET', '/nothing-here');
      expect(noFn.status).toBe(404);
      expectEnvelope(noFn.json, 'NOT_FOUND');
    });

    it('413 PAYLOAD_TOO_LARGE for a body over 1 MiB', async () => {
      const big = await h.call('POST', '/users/login', {
        raw: JSON.stringify({ code: 'x'.repeat(1024 * 1024 + 10) }),
        headers: { 'content-type': 'application/json' },
      });
      expect(big.status).toBe(413);
      expectEnvelope(big.json, 'PAYLOAD_TOO_LARGE');
    });

    it('415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', async () => {
      const text = await h.call('POST', '/users/login', {
        raw: 'code=1',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(415);
      expectEnvelope(text.json, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('400 BAD_REQUEST for malformed JSON', async () => {
      const malformed = await h.call('POST', '/users/login', {
        raw: '{"code":',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.status).toBe(400);
      expectEnvelope(malformed.json, 'BAD_REQUEST');
    });

    it('400 naming an unknown field', async () => {
      const extra = await h.call<ErrorEnvelope>('POST', '/users/login', {
        body: { code: 'dev:x', role: 'admin' },
      });
      expect(extra.status).toBe(400);
      expect(extra.json.error.details).toEqual([{ path: '(body)', code: 'unrecognized_keys' }]);
    });

    it('400 naming a field of the wrong type, never its value', async () => {
      const wrongType = await h.call<ErrorEnvelope>('POST', '/users/login', { body: { code: 31415926535 } });
      expect(wrongType.status).toBe(400);
      expect(wrongType.json.error.details).toEqual([{ path: 'code', code: 'invalid_type' }]);
      expect(wrongType.text).not.toContain('31415926535');
    });
  });

  it('keeps a well-formed X-Request-Id', async () => {
    const kept = await h.call<ErrorEnvelope>('GET', '/users/me', {
      headers: { 'x-request-id': 'req-12345678' },
    });
    expect(kept.headers.get('x-request-id')).toBe('req-12345678');
    expect(kept.json.error.requestId).toBe('req-12345678');
  });

  it('replaces an X-Request-Id that is not well-formed', async () => {
    const replaced = await h.call('GET', '/users/me', { headers: { 'x-request-id': 'bad id<script>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  describe('consent', () => {
    const consent = (u: { token: string }, body: { version: string; accepted: boolean }) =>
      h.call('POST', '/users/me/consents', { token: u.token, body });
    /** A user who accepted the current version. */
    const consented = async (name: string) => {
      const u = await h.login(name);
      const ok = await consent(u, { version: h.rt.config.CONSENT_VERSION, accepted: true });
      return { u, ok };
    };

    it('refuses a version that is not the current one with 422', async () => {
      const u = await h.login('consent-old');
      const wrong = await consent(u, { version: 'v-old', accepted: true });
      expect(wrong.status).toBe(422);
    });

    it('records the current version: no longer required', async () => {
      const version = h.rt.config.CONSENT_VERSION;
      const { u, ok } = await consented('consenter');
      expect(ok.status).toBe(201);
      expect(ok.json).toMatchObject({ version, accepted: true });
      const me = await h.call<User>('GET', '/users/me', { token: u.token });
      expect(me.json.consent).toEqual({
        required: false,
        currentVersion: version,
        acceptedVersion: version,
        text: null,
        crossBorderTransfer: null,
      });
    });

    it('withdrawing it makes it required again, and both are listed newest first', async () => {
      const version = h.rt.config.CONSENT_VERSION;
      const { u } = await consented('withdrawer');
      await consent(u, { version, accepted: false });
      const me = await h.call<User>('GET', '/users/me', { token: u.token });
      expect(me.json.consent.required).toBe(true);
      const list = await h.call<ConsentList>('GET', '/users/me/consents', { token: u.token });
      expect(list.json.items.map((i) => i.accepted)).toEqual([false, true]);
    });
  });

  it('writes request logs without tokens or codes', async () => {
    const a = await h.login('logcheck-7f3a');
    await h.call('GET', '/users/me', { token: a.token });
    await h.call('POST', '/users/refresh', { body: { refreshToken: a.refresh } });
    const all = h.logs.join('\n');
    expect(h.logs.some((l) => l.includes('"route":"/api/v1/users/me"'))).toBe(true);
    for (const secret of [a.token, a.refresh, 'dev:logcheck-7f3a', a.token.split('.')[2] ?? 'x']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('WeChat sign-in against a local stand-in', () => {
  let h: Harness;
  let stub: WechatStub;
  beforeAll(async () => {
    stub = await startWechatStub({ appid: 'wx-test-app', secret: 'wx-test-secret' });
    h = await createHarness({
      env: {
        WECHAT_APPID: 'wx-test-app',
        WECHAT_SECRET: 'wx-test-secret',
        WECHAT_API_BASE_URL: stub.baseUrl,
        WECHAT_TIMEOUT_MS: '500',
        ADMIN_OPENIDS: 'o-admin-1',
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await stub.close();
  });

  describe('with a valid code', () => {
    let r: Awaited<ReturnType<Harness['call']>>;
    beforeAll(async () => {
      r = await h.call('POST', '/users/login', { body: { code: 'ok:o-user-1:u-union-1' } });
    });

    it('signs in and keeps the unionid', async () => {
      expect(r.status).toBe(200);
      const rows = await h.db.db.query.users.findMany();
      const row = rows.find((u) => u.openid === 'o-user-1');
      expect(row?.unionid).toBe('u-union-1');
    });

    it('never returns, logs or stores the session key', async () => {
      expect(r.text).not.toContain('STUB-SESSION-KEY');
      expect(h.logs.join('\n')).not.toContain('STUB-SESSION-KEY');
      const rows = await h.db.db.query.users.findMany();
      expect(JSON.stringify(rows)).not.toContain('STUB-SESSION-KEY');
    });
  });

  it('gives admins their role from ADMIN_OPENIDS', async () => {
    const r = await h.call<LoginResponse>('POST', '/users/login', { body: { code: 'ok:o-admin-1' } });
    expect(r.json.user.role).toBe('admin');
  });

  it.each([
    ['invalid code', 'nonsense', 401, 'UNAUTHORIZED'],
    ['used code', 'used:abc', 401, 'UNAUTHORIZED'],
    ['WeChat busy', 'busy', 503, 'SERVICE_UNAVAILABLE'],
    ['WeChat failing', 'http500', 503, 'SERVICE_UNAVAILABLE'],
    ['WeChat too slow', 'slow', 503, 'SERVICE_UNAVAILABLE'],
    ['dev codes are off once WeChat is configured', 'dev:alice', 401, 'UNAUTHORIZED'],
  ])('%s → %s', async (_name, code, status, errorCode) => {
    const r = await h.call('POST', '/users/login', { body: { code } });
    expect(r.status).toBe(status);
    expectEnvelope(r.json, errorCode);
  });

  it('a user WeChat blocks as high-risk (40226) gets 403 with its own message, not "invalid code"', async () => {
    const r = await h.call<ErrorEnvelope>('POST', '/users/login', { body: { code: 'blocked:abc' } });
    expect(r.status).toBe(403);
    expectEnvelope(r.json, 'FORBIDDEN');
    expect(r.json.error.message).toMatch(/微信安全策略/);
    expect(r.json.error.message).not.toContain('blocked:abc');
  });

  it('WeChat being unreachable is a 503 too', async () => {
    const down = await createHarness({
      env: { WECHAT_APPID: 'a', WECHAT_SECRET: 'b', WECHAT_API_BASE_URL: 'http://127.0.0.1:1' },
    });
    try {
      const r = await down.call('POST', '/users/login', { body: { code: 'ok:x' } });
      expect(r.status).toBe(503);
    } finally {
      await down.close();
    }
  });
});

describe('PATCH from the mini-program (wx.request has no PATCH)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('POST with X-HTTP-Method-Override: PATCH is a PATCH, and logged as one', async () => {
    const u = await h.login('overrider');
    const r = await h.call<User>('POST', '/users/me', {
      token: u.token,
      body: { nickname: '小王' },
      headers: { 'x-http-method-override': 'PATCH' },
    });
    expect(r.status).toBe(200);
    expect(r.json.nickname).toBe('小王');
    expect(
      h.logs.some((l) => l.includes('"method":"PATCH"') && l.includes('"route":"/api/v1/users/me"')),
    ).toBe(true);
  });

  it('other overrides are ignored: POST with DELETE deletes nothing', async () => {
    const u = await h.login('overrider-delete');
    const del = await h.call('POST', '/users/me', {
      token: u.token,
      body: {},
      headers: { 'x-http-method-override': 'DELETE' },
    });
    expect(del.status).toBe(404);
    expect((await h.call('GET', '/users/me', { token: u.token })).status).toBe(200);
  });
});

describe('errors on the method-override path and unstorable text', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  describe('answers envelopes, not plain text, and prints nothing of the body', () => {
    const override = { 'x-http-method-override': 'PATCH' };

    it('400 BAD_REQUEST for an invalid body, which neither the answer nor the log repeats', async () => {
      const u = await h.login('override-errors');
      const secret = '不该出现的昵称-7f3a';
      const bad = await h.call('POST', '/users/me', {
        token: u.token,
        body: { nickname: [secret] },
        headers: override,
      });
      expect(bad.status).toBe(400);
      expectEnvelope(bad.json, 'BAD_REQUEST');
      expect(bad.text).not.toContain(secret);
      expect(h.logs.join('\n')).not.toContain(secret);
    });

    it('401 UNAUTHORIZED without a token', async () => {
      const anon = await h.call('POST', '/users/me', { body: { nickname: 'x' }, headers: override });
      expect(anon.status).toBe(401);
      expectEnvelope(anon.json, 'UNAUTHORIZED');
    });

    it('404 NOT_FOUND for an unknown resource', async () => {
      const u = await h.login('override-missing');
      const missing = await h.call('POST', '/conversations/nope', {
        token: u.token,
        body: { title: 'x' },
        headers: override,
      });
      expect(missing.status).toBe(404);
      expectEnvelope(missing.json, 'NOT_FOUND');
    });
  });

  it('a NUL character in stored text is a 400, never a 500 that logs the value', async () => {
    const u = await h.login('nul-writer');
    const override = { 'x-http-method-override': 'PATCH' };
    const profile = { allergies: ['青霉素\u0000过敏'], conditions: [], medications: [] };
    const r = await h.call('POST', '/users/me', {
      token: u.token,
      body: { healthProfile: profile },
      headers: override,
    });
    expect(r.status).toBe(400);
    expectEnvelope(r.json, 'BAD_REQUEST');
    const title = await h.call('POST', '/conversations', { token: u.token, body: { title: 'a\u0000b' } });
    expect(title.status).toBe(400);
    expect(h.logs.join('\n')).not.toContain('青霉素');
  });
});
