// Family members of an account: one phone often asks for the whole family. Every query carries the
// owner's id, so another user's member behaves exactly like one that does not exist (404).
// A member under 14 is held only with the guardian's consent (PIPL Art. 31: a minor's data is
// sensitive and needs the guardian's consent), recorded with the consent text's version and time.
import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { Ctx } from '../context.js';
import {
  deleteConversationObjects,
  deleteConversationRows,
  type StoredObject,
} from '../conversations/delete.js';
import type { Db } from '../db/index.js';
import {
  conversations,
  type FamilyMember,
  familyMembers,
  files,
  type Gender,
  type HealthProfile,
  labReports,
  type Relation,
  users,
} from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import type { MemberInput, MemberPatch, PublicMember } from './schemas.js';

export const MAX_MEMBERS = 10;
/** PIPL Art. 28/31: personal information of a minor under 14 is sensitive. */
export const GUARDIAN_CONSENT_AGE = 14;

export function toPublicMember(m: FamilyMember): PublicMember {
  return {
    id: m.id,
    name: m.name,
    relation: m.relation,
    gender: m.gender,
    birthYear: m.birthYear,
    healthProfile: m.healthProfile,
    guardianConsent:
      m.guardianConsentVersion && m.guardianConsentAt
        ? { version: m.guardianConsentVersion, at: m.guardianConsentAt.toISOString() }
        : null,
    createdAt: m.createdAt.toISOString(),
  };
}

/** The calendar year in China (users are there; a server in UTC would be a day late on 1 January). */
export function shanghaiYear(now: Date): number {
  return Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(now));
}

/** Age in whole years from the birth year alone: the year's difference (the birthday is not known). */
export function ageFrom(birthYear: number | null, now: Date): number | null {
  return birthYear === null ? null : Math.max(0, shanghaiYear(now) - birthYear);
}

/**
 * Only the birth year is known, so someone born 14 years ago may still be 13: they count as under
 * 14 until the year they are certainly 14 (the cautious side of the law).
 */
export function mayBeUnder14(birthYear: number | null, now: Date): boolean {
  return birthYear !== null && shanghaiYear(now) - birthYear <= GUARDIAN_CONSENT_AGE;
}

function checkBirthYear(birthYear: number | null | undefined, now: Date): void {
  if (typeof birthYear === 'number' && birthYear > shanghaiYear(now)) {
    throw new AppError('BAD_REQUEST', 'invalid request', {
      details: [{ path: 'birthYear', code: 'too_big' }],
    });
  }
}

const consentRefused = () =>
  new AppError('UNPROCESSABLE', '未满14周岁的家庭成员需要监护人同意（guardianConsent: true）', {
    details: [{ path: 'guardianConsent', code: 'required' }],
  });

/** GET /users/me/members: the caller's members, oldest first. */
export async function listMembers(ctx: Ctx): Promise<PublicMember[]> {
  const rows = await (await ctx.rt.db())
    .select()
    .from(familyMembers)
    .where(eq(familyMembers.userId, ctx.userId))
    .orderBy(asc(familyMembers.createdAt), asc(familyMembers.id));
  return rows.map(toPublicMember);
}

export async function getMemberOrThrow(db: Db, userId: string, id: string): Promise<FamilyMember> {
  const [row] = await db
    .select()
    .from(familyMembers)
    .where(and(eq(familyMembers.userId, userId), eq(familyMembers.id, id)));
  if (!row) throw notFound('member');
  return row;
}

/** The guardian's consent, recorded in the transaction that stores it (the member row keeps the latest). */
async function auditGuardianConsent(tx: Db, ctx: Ctx, member: FamilyMember): Promise<void> {
  await audit(tx, {
    actorId: ctx.userId,
    action: 'member.guardian_consent',
    targetType: 'member',
    targetId: member.id,
    requestId: ctx.requestId,
    meta: { version: member.guardianConsentVersion },
  });
}

export async function createMember(ctx: Ctx, input: MemberInput): Promise<PublicMember> {
  const { userId } = ctx;
  const now = ctx.rt.now();
  const consentVersion = ctx.rt.config.CONSENT_VERSION;
  checkBirthYear(input.birthYear, now);
  const birthYear = input.birthYear ?? null;
  if (mayBeUnder14(birthYear, now) && input.guardianConsent !== true) throw consentRefused();
  const db = await ctx.rt.db();
  return db.transaction(async (tx) => {
    // The account row is locked so two concurrent creations cannot both pass the count.
    await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
    const [c] = await tx.select({ n: count() }).from(familyMembers).where(eq(familyMembers.userId, userId));
    if ((c?.n ?? 0) >= MAX_MEMBERS) {
      throw new AppError('CONFLICT', `最多可添加${MAX_MEMBERS}位家庭成员`);
    }
    const consented = input.guardianConsent === true;
    const [row] = await tx
      .insert(familyMembers)
      .values({
        id: crypto.randomUUID(),
        userId,
        name: input.name,
        relation: input.relation,
        gender: input.gender ?? null,
        birthYear,
        healthProfile: input.healthProfile ?? null,
        guardianConsentVersion: consented ? consentVersion : null,
        guardianConsentAt: consented ? now : null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error('insert returned no row');
    if (consented) await auditGuardianConsent(tx, ctx, row);
    return toPublicMember(row);
  });
}

export async function updateMember(
  ctx: Ctx,
  input: { id: string; patch: MemberPatch },
): Promise<PublicMember> {
  const { userId } = ctx;
  const { id, patch } = input;
  const now = ctx.rt.now();
  checkBirthYear(patch.birthYear, now);
  const db = await ctx.rt.db();
  const current = await getMemberOrThrow(db, userId, id);
  const birthYear = patch.birthYear !== undefined ? patch.birthYear : current.birthYear;
  const consenting = patch.guardianConsent === true;
  if (mayBeUnder14(birthYear, now) && !current.guardianConsentAt && !consenting) throw consentRefused();
  const set: Partial<typeof familyMembers.$inferInsert> = { updatedAt: now };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.relation !== undefined) set.relation = patch.relation;
  if (patch.gender !== undefined) set.gender = patch.gender;
  if (patch.birthYear !== undefined) set.birthYear = patch.birthYear;
  if (patch.healthProfile !== undefined) set.healthProfile = patch.healthProfile;
  if (consenting) {
    set.guardianConsentVersion = ctx.rt.config.CONSENT_VERSION;
    set.guardianConsentAt = now;
  }
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(familyMembers)
      .set(set)
      .where(and(eq(familyMembers.userId, userId), eq(familyMembers.id, id)))
      .returning();
    if (!row) throw notFound('member');
    if (consenting) await auditGuardianConsent(tx, ctx, row);
    return toPublicMember(row);
  });
}

/**
 * DELETE /users/me/members/{id}: the member's rows (deleteMemberRows) in one transaction, then the
 * objects of their images in storage.
 */
export async function deleteMember(ctx: Ctx, { id }: { id: string }): Promise<void> {
  const objects = await deleteMemberRows(await ctx.rt.db(), ctx.userId, id);
  await deleteConversationObjects(ctx.rt, objects);
}

/**
 * Deletes the member with its conversations (messages and images, as deleting a conversation
 * does) and its lab reports (results and images), in one transaction. Answers the objects to
 * remove from storage afterwards (deleteConversationObjects).
 */
async function deleteMemberRows(db: Db, userId: string, id: string): Promise<StoredObject[]> {
  return db.transaction(async (tx) => {
    await getMemberOrThrow(tx, userId, id);
    const objects: StoredObject[] = [];
    const convs = await tx
      .select({ id: conversations.id })
      .from(conversations)
      .where(and(eq(conversations.userId, userId), eq(conversations.memberId, id)));
    for (const c of convs) objects.push(...(await deleteConversationRows(tx, userId, c.id)));
    const reports = await tx
      .select({ id: labReports.id })
      .from(labReports)
      .where(and(eq(labReports.userId, userId), eq(labReports.memberId, id)));
    if (reports.length) {
      const ids = reports.map((r) => r.id);
      objects.push(
        ...(await tx
          .update(files)
          .set({ status: 'deleted' })
          .where(and(eq(files.userId, userId), inArray(files.labReportId, ids)))
          .returning({ fileId: files.id, key: files.key })),
      );
      await tx.delete(labReports).where(and(eq(labReports.userId, userId), inArray(labReports.id, ids)));
    }
    await tx.delete(familyMembers).where(and(eq(familyMembers.userId, userId), eq(familyMembers.id, id)));
    return objects;
  });
}

/** Whom the model is told about: the member's data, or the account holder's (relation null). */
export type ModelContext = {
  memberId: string | null;
  healthProfile: HealthProfile | null;
  age: number | null;
  gender: Gender | null;
  relation: Relation | null;
};
