// Account deletion, resumable. Step 1 (one transaction) marks the account as deleting and records a
// deletion job: from then on every route treats it as gone (requireAuth, refresh and sign-in all
// check deleting_at). Step 2 removes the stored objects, step 3 the rows (the foreign keys cascade
// from users to everything the account owns: family members, lab reports and their values too)
// and the job. A crash anywhere after step 1 leaves the
// job row, and the retention job runs steps 2 and 3 again; each step is idempotent.
import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { deletionJobs, systemLogs, users } from '../db/schema.js';
import { errorFields } from '../logger.js';
import type { Storage } from '../storage/types.js';
import { userPrefix } from '../storage/types.js';

/**
 * Marks the account as deleting, records the job and the audit row, in one transaction: the account
 * never goes unrecorded, nor is a deletion recorded that did not start. False when it was already
 * deleting. The id is all the audit row keeps: once the account row is gone it identifies no one.
 */
export async function beginDeletion(db: Db, userId: string, now: Date, requestId?: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const marked = await tx
      .update(users)
      .set({ deletingAt: now, updatedAt: now })
      .where(and(eq(users.id, userId), sql`${users.deletingAt} is null`))
      .returning({ id: users.id });
    await tx.insert(deletionJobs).values({ userId, requestedAt: now }).onConflictDoNothing();
    await audit(tx, {
      actorId: userId,
      action: 'user.delete',
      targetType: 'user',
      targetId: userId,
      ...(requestId ? { requestId } : {}),
    });
    return marked.length > 0;
  });
}

/**
 * DELETE /users/me: once begun, the account is gone for every route, whatever happens next; the
 * objects and rows go now if they can, else the retention job finishes (the job row stays).
 */
export async function deleteAccount(ctx: Ctx): Promise<void> {
  const { rt, userId, requestId } = ctx;
  const db = await rt.db();
  await beginDeletion(db, userId, rt.now(), requestId);
  try {
    await finishDeletion(db, () => rt.storage(), userId);
  } catch (err) {
    // For the caller it is done: the retention job runs the remaining steps again.
    rt.log.error(
      { requestId, ...errorFields(err) },
      'account deletion unfinished; left to the retention job',
    );
  }
}

/** Removes the objects, then the rows, then the job. Throws (the job stays) if any step fails. */
export async function finishDeletion(
  db: Db,
  storage: () => Promise<Storage>,
  userId: string,
): Promise<{ objects: number }> {
  await db
    .update(deletionJobs)
    .set({ attempts: sql`${deletionJobs.attempts} + 1` })
    .where(eq(deletionJobs.userId, userId));
  try {
    // Objects first: rows are what lets a later run find what to delete, so they go last.
    const objects = await (await storage()).deletePrefix(userPrefix(userId));
    await db.transaction(async (tx) => {
      // Guarded by deleting_at: this never removes an account that did not ask to go. Ratings of
      // answers (message_feedback) go with it by cascade, like every table keyed by user_id.
      await tx.delete(users).where(and(eq(users.id, userId), isNotNull(users.deletingAt)));
      // No foreign key (logs outlive requests), but client logs are the user's own words.
      await tx.delete(systemLogs).where(eq(systemLogs.userId, userId));
      await tx.delete(deletionJobs).where(eq(deletionJobs.userId, userId));
    });
    return { objects };
  } catch (err) {
    // The error's class only: messages of storage and database errors can quote keys and values.
    const lastError = err instanceof Error ? err.name : typeof err;
    await db
      .update(deletionJobs)
      .set({ lastError })
      .where(eq(deletionJobs.userId, userId))
      .catch(() => {});
    throw err;
  }
}

/** Deletion jobs left behind by a crash or a failed step, oldest first. */
export async function pendingDeletions(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ userId: deletionJobs.userId })
    .from(deletionJobs)
    .orderBy(asc(deletionJobs.requestedAt), asc(deletionJobs.userId))
    .limit(limit);
  return rows.map((r) => r.userId);
}
