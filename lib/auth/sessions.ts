// Refresh tokens: random, stored only as SHA-256 hashes, rotated on every use. A spent token
// presented again means it leaked: the whole family (that sign-in's chain) is revoked.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import { refreshTokens, type User, users } from '../db/schema.js';
import { AppError } from '../errors.js';
import { signAccessToken } from './jwt.js';

export type TokenPair = { accessToken: string; refreshToken: string; expiresIn: number };

export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

async function issue(db: Db, config: Config, user: User, familyId: string, now: Date): Promise<TokenPair> {
  const refreshToken = randomBytes(32).toString('base64url');
  await db.insert(refreshTokens).values({
    id: crypto.randomUUID(),
    userId: user.id,
    familyId,
    tokenHash: hashToken(refreshToken),
    expiresAt: new Date(now.getTime() + config.REFRESH_TOKEN_TTL_SECONDS * 1000),
  });
  const accessToken = await signAccessToken(config, { sub: user.id, role: user.role, sid: familyId }, now);
  return { accessToken, refreshToken, expiresIn: config.ACCESS_TOKEN_TTL_SECONDS };
}

/** A new sign-in: a new token family. */
export function startSession(db: Db, config: Config, user: User, now: Date): Promise<TokenPair> {
  return issue(db, config, user, crypto.randomUUID(), now);
}

const invalid = () => new AppError('UNAUTHORIZED', 'invalid refresh token');

export type RefreshOutcome = { pair: TokenPair; user: User } | { reused: true; userId: string };

/** Spends a refresh token and issues the next pair of its family. */
export async function rotateSession(
  db: Db,
  config: Config,
  token: string,
  now: Date,
): Promise<RefreshOutcome> {
  const [row] = await db
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(token)));
  if (!row || row.revokedAt) throw invalid();
  if (row.usedAt) {
    await revokeFamily(db, row.familyId, now);
    return { reused: true, userId: row.userId };
  }
  if (row.expiresAt <= now) throw invalid();
  // Conditional update: of two concurrent refreshes with one token, exactly one wins.
  const spent = await db
    .update(refreshTokens)
    .set({ usedAt: now })
    .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.usedAt)))
    .returning({ id: refreshTokens.id });
  if (spent.length === 0) {
    await revokeFamily(db, row.familyId, now);
    return { reused: true, userId: row.userId };
  }
  const [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, row.userId), isNull(users.deletingAt)));
  if (!user) throw invalid();
  return { pair: await issue(db, config, user, row.familyId, now), user };
}

export async function revokeFamily(db: Db, familyId: string, now: Date): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/** Logout: the token's family stops working. Unknown tokens are ignored (logout is idempotent). */
export async function endSession(db: Db, token: string, now: Date): Promise<string | null> {
  const [row] = await db
    .select({ familyId: refreshTokens.familyId, userId: refreshTokens.userId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(token)));
  if (!row) return null;
  await revokeFamily(db, row.familyId, now);
  return row.userId;
}
