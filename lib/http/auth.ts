// Bearer-token authentication. The account is looked up on every request, so a deleted account's
// tokens stop working at once and a role change applies without waiting for token expiry.
import type { MiddlewareHandler } from 'hono';
import { verifyAccessToken } from '../auth/jwt.js';
import { getActiveUser } from '../users/service.js';
import type { AppContext, AppEnv, AuthUser } from './app.js';
import { AppError } from './errors.js';

const unauthorized = () => new AppError('UNAUTHORIZED', 'missing or invalid access token');

export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match?.[1]) throw unauthorized();
  const rt = c.get('rt');
  const claims = await verifyAccessToken(rt.config, match[1], rt.now());
  if (!claims) throw unauthorized();
  const user = await getActiveUser(await rt.db(), claims.sub);
  if (!user) throw unauthorized();
  c.set('user', {
    id: user.id,
    role: user.role,
    openid: user.openid,
    acceptedConsentVersion: user.acceptedConsentVersion,
    sessionId: claims.sid,
  });
  await next();
};

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (currentUser(c).role !== 'admin') throw new AppError('FORBIDDEN', 'administrators only');
  await next();
};

/** Chat and uploads process health data: only after the current consent version is accepted. */
export const requireConsent: MiddlewareHandler<AppEnv> = async (c, next) => {
  const user = currentUser(c);
  if (user.acceptedConsentVersion !== c.get('rt').config.CONSENT_VERSION) {
    throw new AppError('CONSENT_REQUIRED', 'please accept the current privacy consent first');
  }
  await next();
};

export function currentUser(c: AppContext): AuthUser {
  const user = c.get('user');
  if (!user) throw unauthorized();
  return user;
}
