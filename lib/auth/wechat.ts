// WeChat sign-in: exchanges a wx.login code for the user's openid with jscode2session.
// The session_key it also returns is never stored, returned or logged: this service does not need it.
import type { Config } from '../config/index.js';
import { AppError } from '../errors.js';

export type WechatIdentity = { openid: string; unionid: string | null };

type Code2SessionAnswer = {
  openid?: string;
  unionid?: string;
  session_key?: string;
  errcode?: number;
  errmsg?: string;
};

// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
const INVALID_CODE = new Set([40029, 40163]);
// WeChat's risk control blocks this user's sign-in ("high risk user"): a new code will not help,
// and the user has to clear it inside WeChat, so the answer says so in words the user can act on.
const HIGH_RISK_USER = 40226;
const BUSY = new Set([-1, 45011]);

export async function code2session(config: Config, code: string): Promise<WechatIdentity> {
  const { WECHAT_APPID: appid, WECHAT_SECRET: secret } = config;
  if (!appid || !secret) throw new Error('WeChat is not configured');
  const url = new URL('/sns/jscode2session', config.WECHAT_API_BASE_URL);
  url.search = new URLSearchParams({
    appid,
    secret,
    js_code: code,
    grant_type: 'authorization_code',
  }).toString();
  let body: Code2SessionAnswer;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(config.WECHAT_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`status ${res.status}`);
    body = (await res.json()) as Code2SessionAnswer;
  } catch (cause) {
    throw new AppError('SERVICE_UNAVAILABLE', 'WeChat sign-in is unavailable, please retry', {
      cause,
      headers: { 'Retry-After': '5' },
    });
  }
  const errcode = body.errcode ?? 0;
  if (errcode === 0 && body.openid) return { openid: body.openid, unionid: body.unionid ?? null };
  if (INVALID_CODE.has(errcode)) throw new AppError('UNAUTHORIZED', 'invalid or expired login code');
  if (errcode === HIGH_RISK_USER) {
    throw new AppError(
      'FORBIDDEN',
      '微信安全策略暂时限制了该账号登录小程序，请在微信中完成安全验证或稍后再试。',
    );
  }
  if (BUSY.has(errcode)) {
    throw new AppError('SERVICE_UNAVAILABLE', 'WeChat is busy, please retry', {
      headers: { 'Retry-After': '5' },
    });
  }
  throw new AppError('UPSTREAM_ERROR', 'WeChat sign-in failed');
}
