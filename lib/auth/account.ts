// The account behind an access token, checked together with its sign-in in one statement: the
// token's session (`sid`, its refresh-token family) must still hold a refresh token that is not
// revoked, so logout, a reused refresh token revoking the family and account deletion end every
// access token of that sign-in at once, with no round trip of its own.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { type Role, refreshTokens, users } from '../db/schema.js';
import type { AccessClaims } from './jwt.js';

export type SessionAccount = {
  id: string;
  role: Role;
  openid: string;
  acceptedConsentVersion: string | null;
};

/** The WHERE clause of a live session's account: not being deleted, its token family not revoked. */
export function liveSession(claims: Pick<AccessClaims, 'sub' | 'sid'>) {
  return and(
    eq(users.id, claims.sub),
    isNull(users.deletingAt),
    sql`exists (select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${claims.sid} and ${refreshTokens.userId} = ${users.id} and ${refreshTokens.revokedAt} is null)`,
  );
}

export const accountColumns = {
  id: users.id,
  role: users.role,
  openid: users.openid,
  acceptedConsentVersion: users.acceptedConsentVersion,
};

/**
 * A common table expression `account` holding the live session's account (one row, or none): a
 * statement that reads a user's data joins it, so authentication and the owner-scoped query are
 * one round trip.
 */
export function accountCte(db: Db, claims: Pick<AccessClaims, 'sub' | 'sid'>) {
  return db.$with('account').as(db.select(accountColumns).from(users).where(liveSession(claims)));
}

/** The account of a live session, or undefined (deleted, deleting, or the sign-in has ended). */
export async function getSessionAccount(
  db: Db,
  claims: Pick<AccessClaims, 'sub' | 'sid'>,
): Promise<SessionAccount | undefined> {
  const [row] = await db.select(accountColumns).from(users).where(liveSession(claims));
  return row;
}
