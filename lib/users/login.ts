// Sessions as flows: signing in with a wx.login code (the per-address limit before WeChat is asked,
// the per-openid one once it is known, a code-stuffing brake), refreshing and signing out. Each
// writes its change and its audit rows in one transaction, so a session never starts or ends
// unrecorded, and a failed audit row leaves no change behind.
import { audit } from '../audit.js';
import { endSession, rotateSession, startSession, type TokenPair } from '../auth/sessions.js';
import { code2session } from '../auth/wechat.js';
import type { RequestCtx } from '../context.js';
import type { User } from '../db/schema.js';
import { AppError } from '../errors.js';
import { enforceLimit } from '../limits.js';
import type { LimitResult } from '../ratelimit/index.js';
import type { LoginAnswer } from './schemas.js';
import { toPublicUser, upsertUserByOpenid } from './service.js';

/** `dev:<name>`: development sign-in, only without WeChat credentials and never in production. */
const DEV_CODE = /^dev:([A-Za-z0-9_.-]{1,64})$/;

/** `clientKey`: the caller's address as the per-address limiter knows it. */
export type LoginCtx = RequestCtx & { clientKey: string };

export async function signIn(
  ctx: LoginCtx,
  input: { code: string },
): Promise<{ answer: LoginAnswer; user: User; limits: LimitResult[] }> {
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
  return { answer: { ...pair, user: toPublicUser(rt.config, user) }, user, limits };
}

/** Spends a refresh token for the next pair. A spent token again: its family is revoked, on the record. */
export async function refreshSession(ctx: RequestCtx, input: { refreshToken: string }): Promise<TokenPair> {
  const { rt } = ctx;
  const db = await rt.db();
  const outcome = await db.transaction(async (tx) => {
    const outcome = await rotateSession(tx, rt.config, input.refreshToken, rt.now());
    if ('reused' in outcome) {
      await audit(tx, {
        actorId: outcome.userId,
        action: 'user.refresh_reuse',
        targetType: 'user',
        targetId: outcome.userId,
        requestId: ctx.requestId,
      });
    }
    return outcome;
  });
  // Thrown once the revocation is committed: the refusal must not roll it back.
  if ('reused' in outcome)
    throw new AppError('UNAUTHORIZED', 'refresh token already used; please sign in again');
  return outcome.pair;
}

/** Logout: the token's family stops working. An unknown token changes nothing (logout is idempotent). */
export async function signOut(ctx: RequestCtx, input: { refreshToken: string }): Promise<void> {
  const { rt } = ctx;
  const db = await rt.db();
  await db.transaction(async (tx) => {
    const userId = await endSession(tx, input.refreshToken, rt.now());
    if (!userId) return;
    await audit(tx, {
      actorId: userId,
      action: 'user.logout',
      targetType: 'user',
      targetId: userId,
      requestId: ctx.requestId,
    });
  });
}
