// A request's verified token claims, kept beside its context: set by the auth middleware
// (lib/http/auth.ts), read by the request log. A module of its own so the app factory can read it
// without loading the auth middleware's database and JWT code into functions that never sign in.
import type { AccessClaims } from '../auth/jwt.js';

export const claimsKey = new WeakMap<object, AccessClaims>();

/**
 * Whom the request's verified token names, for the request log: a route behind requireToken may
 * refuse (429, 404…) before it has the account, and its log line still says whose request it was.
 */
export function tokenSubject(c: object): string | undefined {
  return claimsKey.get(c)?.sub;
}
