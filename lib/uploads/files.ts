// The files table, scoped by owner: every query here carries the owner's id, so another user's
// file id behaves exactly like an unknown one. Imports neither the S3 SDK nor sharp (chat uses it).
import { and, eq, gt, gte, inArray, lt, ne } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { type FileRow, files } from '../db/schema.js';

export type Purpose = FileRow['purpose'];

/**
 * Phones upload to a staging key beside the final one. The signed form stays usable until it
 * expires, so if it pointed at the final key a client could overwrite the checked, metadata-free
 * image after completing it; the staging copy is only ever read, checked and deleted.
 */
export const stagingKey = (key: string) => `${key}.upload`;

export async function insertPendingFile(
  db: Db,
  v: {
    id: string;
    userId: string;
    key: string;
    purpose: Purpose;
    contentType: string;
    size: number;
    uploadExpiresAt: Date;
    now: Date;
  },
): Promise<FileRow> {
  const [row] = await db
    .insert(files)
    .values({
      id: v.id,
      userId: v.userId,
      key: v.key,
      purpose: v.purpose,
      status: 'pending',
      declaredContentType: v.contentType,
      declaredSize: v.size,
      createdAt: v.now,
      uploadExpiresAt: v.uploadExpiresAt,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** The caller's file, in any status; undefined for unknown ids and other users' files alike. */
export async function getOwnFile(db: Db, userId: string, id: string): Promise<FileRow | undefined> {
  const [row] = await db
    .select()
    .from(files)
    .where(and(eq(files.id, id), eq(files.userId, userId)));
  return row;
}

export async function getOwnFiles(db: Db, userId: string, ids: string[]): Promise<FileRow[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(files)
    .where(and(eq(files.userId, userId), inArray(files.id, ids)));
}

/** pending → ready; answers undefined when the row was no longer pending (a concurrent complete or delete). */
export async function markReady(
  db: Db,
  userId: string,
  id: string,
  v: { contentType: string; size: number; width: number; height: number; now: Date },
): Promise<FileRow | undefined> {
  const [row] = await db
    .update(files)
    .set({
      status: 'ready',
      contentType: v.contentType,
      size: v.size,
      width: v.width,
      height: v.height,
      completedAt: v.now,
    })
    .where(and(eq(files.id, id), eq(files.userId, userId), eq(files.status, 'pending')))
    .returning();
  return row;
}

export async function markDeleted(db: Db, userId: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await db
    .update(files)
    .set({ status: 'deleted', conversationId: null })
    .where(and(eq(files.userId, userId), inArray(files.id, ids)));
}

/** Pending uploads whose window closed before `cutoff` (any owner: the retention job's view). */
export async function expiredPending(db: Db, cutoff: Date, limit: number): Promise<FileRow[]> {
  return db
    .select()
    .from(files)
    .where(and(eq(files.status, 'pending'), lt(files.uploadExpiresAt, cutoff)))
    .orderBy(files.uploadExpiresAt)
    .limit(limit);
}

export async function deletePendingRows(db: Db, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const rows = await db
    .delete(files)
    .where(and(inArray(files.id, ids), eq(files.status, 'pending')))
    .returning({ id: files.id });
  return rows.length;
}

/** Keys of completed or deleted files whose upload window closed in [from, to): their staging copies may linger. */
export async function closedWindowKeys(db: Db, from: Date, to: Date, afterId: string, limit: number) {
  return db
    .select({ id: files.id, key: files.key })
    .from(files)
    .where(
      and(
        ne(files.status, 'pending'),
        gte(files.uploadExpiresAt, from),
        lt(files.uploadExpiresAt, to),
        gt(files.id, afterId),
      ),
    )
    .orderBy(files.id)
    .limit(limit);
}
