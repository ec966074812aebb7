// The caller's own profile: fields given replace their old values, null clears them.
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { files, type Gender, type HealthProfile, type User, users } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';

export type ProfilePatch = {
  nickname?: string | null | undefined;
  avatarFileId?: string | null | undefined;
  gender?: Gender | null | undefined;
  birthYear?: number | null | undefined;
  healthProfile?: HealthProfile | null | undefined;
};

export async function updateProfile(db: Db, userId: string, patch: ProfilePatch, now: Date): Promise<User> {
  if (patch.avatarFileId) {
    const [file] = await db
      .select({ status: files.status, purpose: files.purpose })
      .from(files)
      .where(and(eq(files.id, patch.avatarFileId), eq(files.userId, userId)));
    // Another user's file answers exactly like an unknown one.
    if (!file) throw notFound('file');
    if (file.status !== 'ready') throw new AppError('UNPROCESSABLE', 'the avatar upload is not complete');
    // A chat image is removed with its conversation; an avatar must be uploaded as one.
    if (file.purpose !== 'avatar')
      throw new AppError('UNPROCESSABLE', 'the file was not uploaded as an avatar');
  }
  const set: Partial<typeof users.$inferInsert> = { updatedAt: now };
  if (patch.nickname !== undefined) set.nickname = patch.nickname;
  if (patch.avatarFileId !== undefined) set.avatarFileId = patch.avatarFileId;
  if (patch.gender !== undefined) set.gender = patch.gender;
  if (patch.birthYear !== undefined) set.birthYear = patch.birthYear;
  if (patch.healthProfile !== undefined) set.healthProfile = patch.healthProfile;
  const [row] = await db
    .update(users)
    .set(set)
    .where(and(eq(users.id, userId), isNull(users.deletingAt)))
    .returning();
  if (!row) throw new AppError('UNAUTHORIZED', 'missing or invalid access token');
  return row;
}
