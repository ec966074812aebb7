// The caller's own profile: fields given replace their old values, null clears them.
import { and, eq, isNull } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { files, users } from '../db/schema.js';
import { AppError, notFound, unauthorized } from '../errors.js';
import type { ProfilePatch, PublicUser } from './schemas.js';
import { toPublicUser } from './service.js';

export async function updateProfile(ctx: Ctx, patch: ProfilePatch): Promise<PublicUser> {
  const { rt, userId } = ctx;
  const now = rt.now();
  // Checked here rather than in the schema: "the current year" moves, and follows the runtime clock.
  if (typeof patch.birthYear === 'number' && patch.birthYear > now.getUTCFullYear()) {
    throw new AppError('BAD_REQUEST', 'invalid request', {
      details: [{ path: 'birthYear', code: 'too_big' }],
    });
  }
  const db = await rt.db();
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
  if (!row) throw unauthorized();
  return toPublicUser(rt.config, row);
}
