// A local stand-in for the WeChat server APIs the service calls, for tests:
// - GET  /sns/jscode2session: js_code `ok:<openid>[:<unionid>]` signs in; `used:…` → 40163;
//   `busy` → -1 (system busy); `http500` → HTTP 500; `slow` answers after 10 s; `blocked:…` → 40226
//   (a high-risk user WeChat blocks from signing in); anything else → 40029.
// - POST /cgi-bin/stable_token: an access token (counted, so caching can be tested). After
//   invalidateToken() the current token is refused (40001) while normal mode keeps handing it back,
//   as stable_token does until it expires; only force_refresh (counted) gives a new one.
// - POST /wxa/msg_sec_check: text containing one of `riskyWords` is `risky`, anything else `pass`;
//   text containing one of `busyWords` answers errcode -1 (system busy: an outage); answers come
//   after `checkDelayMs`, and `maxConcurrentChecks` is the most checks it ever had open at once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type WechatStub = {
  baseUrl: string;
  calls: { path: string; at: number }[];
  tokensIssued: number;
  /** stable_token calls with force_refresh: true. */
  forcedRefreshes: number;
  /** The current token stops working, but stable_token's normal mode still returns it. */
  invalidateToken(): void;
  maxConcurrentChecks: number;
  close(): Promise<void>;
};

export async function startWechatStub(opts: {
  appid: string;
  secret: string;
  riskyWords?: string[];
  busyWords?: string[];
  checkDelayMs?: number;
}): Promise<WechatStub> {
  const state = {
    calls: [] as { path: string; at: number }[],
    tokensIssued: 0,
    forcedRefreshes: 0,
    token: '',
    // The token normal mode returns while it is pinned, though msg_sec_check refuses it.
    pinned: '',
    openChecks: 0,
    maxConcurrentChecks: 0,
  };
  const risky = opts.riskyWords ?? ['违禁测试词'];
  const busy = opts.busyWords ?? ['系统繁忙测试'];
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: http.IncomingMessage) =>
    new Promise<Record<string, unknown>>((resolve) => {
      let s = '';
      req.on('data', (d) => {
        s += d;
      });
      req.on('end', () => {
        try {
          resolve(JSON.parse(s || '{}'));
        } catch {
          resolve({});
        }
      });
    });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    state.calls.push({ path: url.pathname, at: Date.now() });
    if (url.pathname === '/sns/jscode2session') {
      const q = url.searchParams;
      if (q.get('appid') !== opts.appid || q.get('secret') !== opts.secret) {
        return json(res, 200, { errcode: 40013, errmsg: 'invalid appid' });
      }
      const code = q.get('js_code') ?? '';
      if (code === 'http500') return json(res, 500, { message: 'down' });
      if (code === 'busy') return json(res, 200, { errcode: -1, errmsg: 'system error' });
      if (code === 'slow') {
        setTimeout(() => json(res, 200, { errcode: -1, errmsg: 'late' }), 10_000).unref();
        return;
      }
      if (code.startsWith('used:')) return json(res, 200, { errcode: 40163, errmsg: 'code been used' });
      if (code.startsWith('blocked:')) {
        return json(res, 200, { errcode: 40226, errmsg: 'code blocked, high risk user' });
      }
      const m = /^ok:([^:]+)(?::(.+))?$/.exec(code);
      if (!m) return json(res, 200, { errcode: 40029, errmsg: 'invalid code' });
      return json(res, 200, { openid: m[1], session_key: 'STUB-SESSION-KEY-never-log', unionid: m[2] });
    }
    if (url.pathname === '/cgi-bin/stable_token' && req.method === 'POST') {
      const body = await readBody(req);
      if (body.appid !== opts.appid || body.secret !== opts.secret) {
        return json(res, 200, { errcode: 40013, errmsg: 'invalid appid' });
      }
      if (body.force_refresh === true) {
        state.forcedRefreshes++;
        state.pinned = '';
      } else if (state.pinned) {
        return json(res, 200, { access_token: state.pinned, expires_in: 3600 });
      }
      state.tokensIssued++;
      state.token = `stub-access-token-${state.tokensIssued}`;
      return json(res, 200, { access_token: state.token, expires_in: 7200 });
    }
    if (url.pathname === '/wxa/msg_sec_check' && req.method === 'POST') {
      const presented = url.searchParams.get('access_token');
      if (presented !== state.token || presented === state.pinned) {
        return json(res, 200, { errcode: 40001, errmsg: 'invalid credential' });
      }
      state.openChecks++;
      state.maxConcurrentChecks = Math.max(state.maxConcurrentChecks, state.openChecks);
      const body = await readBody(req);
      if (opts.checkDelayMs) await new Promise((r) => setTimeout(r, opts.checkDelayMs));
      state.openChecks--;
      const text = String(body.content ?? '');
      if (busy.some((w) => text.includes(w))) return json(res, 200, { errcode: -1, errmsg: 'system error' });
      const hit = risky.some((w) => text.includes(w));
      return json(res, 200, {
        errcode: 0,
        errmsg: 'ok',
        result: { suggest: hit ? 'risky' : 'pass', label: hit ? 20001 : 100 },
      });
    }
    json(res, 404, { errcode: 404, errmsg: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls: state.calls,
    get tokensIssued() {
      return state.tokensIssued;
    },
    get forcedRefreshes() {
      return state.forcedRefreshes;
    },
    invalidateToken: () => {
      state.pinned = state.token;
    },
    get maxConcurrentChecks() {
      return state.maxConcurrentChecks;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
