// Accounts: sign-in by openid, and the public shape of a user.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Config } from '../config/index.js';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { type Role, type User, users } from '../db/schema.js';
import { AppError, unauthorized } from '../errors.js';
import type { PublicUser } from './schemas.js';

export function roleFor(config: Config, openid: string): Role {
  return config.ADMIN_OPENIDS.includes(openid) ? 'admin' : 'user';
}

/**
 * Finds or creates the account for an openid; the role follows ADMIN_OPENIDS at every sign-in.
 * `previousRole` differs from the user's role when this sign-in changed it (for the audit log).
 */
export async function upsertUserByOpenid(
  db: Db,
  config: Config,
  identity: { openid: string; unionid: string | null; nickname?: string },
): Promise<{ user: User; created: boolean; previousRole: Role | null }> {
  const role = roleFor(config, identity.openid);
  const id = crypto.randomUUID();
  // Read before the upsert, which overwrites it. Two racing sign-ins may both see the old role:
  // at worst the change is audited twice, never missed.
  const [before] = await db.select({ role: users.role }).from(users).where(eq(users.openid, identity.openid));
  const [row] = await db
    .insert(users)
    .values({
      id,
      openid: identity.openid,
      unionid: identity.unionid,
      nickname: identity.nickname ?? null,
      role,
    })
    .onConflictDoUpdate({
      target: users.openid,
      set: {
        unionid: sql`coalesce(excluded.unionid, ${users.unionid})`,
        role,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  if (!row) throw new Error('upsert returned no row');
  // A sign-in during a pending deletion must not resurrect the account.
  if (row.deletingAt) throw new AppError('UNAUTHORIZED', 'this account is being deleted');
  const created = row.id === id;
  return { user: row, created, previousRole: created ? null : (before?.role ?? null) };
}

export async function getActiveUser(db: Db, userId: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletingAt)));
  return row;
}

export function toPublicUser(config: Config, u: User): PublicUser {
  return {
    id: u.id,
    nickname: u.nickname,
    avatarFileId: u.avatarFileId,
    gender: u.gender,
    birthYear: u.birthYear,
    healthProfile: u.healthProfile,
    role: u.role,
    consent: {
      required: u.acceptedConsentVersion !== config.CONSENT_VERSION,
      currentVersion: config.CONSENT_VERSION,
      acceptedVersion: u.acceptedConsentVersion,
      // The deployment's own words: what is collected and, when data leaves the mainland, where to.
      text: config.CONSENT_TEXT ?? null,
      crossBorderTransfer: config.CONSENT_CROSS_BORDER ?? null,
    },
    createdAt: u.createdAt.toISOString(),
  };
}

/** GET /users/me: the caller's account (a deleting account is gone: 401 like a bad token). */
export async function getAccount(ctx: Ctx): Promise<PublicUser> {
  const user = await getActiveUser(await ctx.rt.db(), ctx.userId);
  if (!user) throw unauthorized();
  return toPublicUser(ctx.rt.config, user);
}
