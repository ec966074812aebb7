// Bearer-token authentication. The account is looked up on every request together with its
// sign-in (lib/auth/account.ts), in the same statement: a deleted account, a logout or a revoked
// refresh-token family ends the access token at once, and a role change applies without waiting
// for token expiry. Routes that read the caller's data can fold that check into their own query
// (requireToken + authorize), so the whole request is one database round trip.
import type { MiddlewareHandler } from 'hono';
import { getSessionAccount, type SessionAccount } from '../auth/account.js';
import { type AccessClaims, verifyAccessToken } from '../auth/jwt.js';
import { AppError, consentRequired, unauthorized } from '../errors.js';
import type { AppContext, AppEnv, AuthUser } from './app.js';
import { claimsKey } from './claims.js';

async function verify(c: AppContext): Promise<AccessClaims> {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match?.[1]) throw unauthorized();
  const rt = c.get('rt');
  const claims = await verifyAccessToken(rt.config, match[1], rt.now());
  if (!claims) throw unauthorized();
  return claims;
}

/** Sets the caller from the account a session check found; 401 when there is none. */
export function authorize(c: AppContext, account: SessionAccount | undefined): AuthUser {
  if (!account) throw unauthorized();
  const user: AuthUser = {
    id: account.id,
    role: account.role,
    openid: account.openid,
    acceptedConsentVersion: account.acceptedConsentVersion,
    sessionId: accessClaims(c).sid,
  };
  c.set('user', user);
  return user;
}

/** The token's signature, issuer, audience and age checked, and the account with its session. */
export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const claims = await verify(c);
  claimsKey.set(c, claims);
  authorize(c, await getSessionAccount(await c.get('rt').db(), claims));
  await next();
};

/**
 * The token checked, the account not yet: the handler must run a statement that joins the session
 * check (accountCte / liveSession in lib/auth/account.ts) and hand its account to `authorize`
 * before answering. Only for handlers that do so.
 */
export const requireToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  claimsKey.set(c, await verify(c));
  await next();
};

/** After an account is deleted: its request's log line names nobody (no id written back). */
export function forgetCaller(c: AppContext): void {
  c.set('user', undefined);
  claimsKey.delete(c);
}

/** The verified token's claims (after requireAuth or requireToken). */
export function accessClaims(c: AppContext): AccessClaims {
  const claims = claimsKey.get(c);
  if (!claims) throw unauthorized();
  return claims;
}

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (currentUser(c).role !== 'admin') throw new AppError('FORBIDDEN', 'administrators only');
  await next();
};

/** Chat and uploads process health data: only after the current consent version is accepted. */
export const requireConsent: MiddlewareHandler<AppEnv> = async (c, next) => {
  const user = currentUser(c);
  if (user.acceptedConsentVersion !== c.get('rt').config.CONSENT_VERSION) {
    throw consentRequired();
  }
  await next();
};

export function currentUser(c: AppContext): AuthUser {
  const user = c.get('user');
  if (!user) throw unauthorized();
  return user;
}
