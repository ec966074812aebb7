// Signing in with a wx.login code, as one service: the per-address limit before WeChat is asked,
// the per-openid one once it is known (a code-stuffing brake), then the account, the session and
// the audit rows in one transaction, so a sign-in is never recorded without its session nor the
// other way round.
import { audit } from '../audit.js';
import { startSession, type TokenPair } from '../auth/sessions.js';
import { code2session } from '../auth/wechat.js';
import type { RequestCtx } from '../context.js';
import type { User } from '../db/schema.js';
import { AppError } from '../errors.js';
import { enforceLimit } from '../limits.js';
import type { LimitResult } from '../ratelimit/index.js';
import { upsertUserByOpenid } from './service.js';

/** `dev:<name>`: development sign-in, only without WeChat credentials and never in production. */
const DEV_CODE = /^dev:([A-Za-z0-9_.-]{1,64})$/;

/** `clientKey`: the caller's address as the per-address limiter knows it. */
export type LoginCtx = RequestCtx & { clientKey: string };

export async function signIn(
  ctx: LoginCtx,
  input: { code: string },
): Promise<{ pair: TokenPair; user: User; limits: LimitResult[] }> {
  const { rt } = ctx;
  const byAddress = await enforceLimit(rt, 'login:ip', ctx.clientKey);
  let identity: { openid: string; unionid: string | null; nickname?: string };
  if (rt.config.wechatConfigured) {
    identity = await code2session(rt.config, input.code);
  } else {
    const dev = DEV_CODE.exec(input.code);
    if (!dev?.[1] || rt.config.production) throw new AppError('UNAUTHORIZED', 'invalid login code');
    identity = { openid: `dev:${dev[1]}`, unionid: null, nickname: dev[1] };
  }
  const byOpenid = await enforceLimit(rt, 'login:openid', identity.openid);
  const db = await rt.db();
  const now = rt.now();
  const { user, pair } = await db.transaction(async (tx) => {
    const { user, created, previousRole } = await upsertUserByOpenid(tx, rt.config, identity);
    const pair = await startSession(tx, rt.config, user, now);
    const row = {
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      requestId: ctx.requestId,
    } as const;
    await audit(tx, { ...row, action: 'user.login', meta: { created, role: user.role } });
    if (previousRole && previousRole !== user.role) {
      await audit(tx, {
        ...row,
        action: 'user.role_change',
        meta: { from: previousRole, to: user.role, by: 'ADMIN_OPENIDS' },
      });
    }
    return { user, pair };
  });
  const limits = [byAddress, byOpenid].filter((l): l is LimitResult => l !== null);
  return { pair, user, limits };
}
