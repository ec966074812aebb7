// Deleting a conversation: its messages go by cascade, and the images used in it are marked deleted
// in the same transaction, then their objects are removed from storage. Kept in one place so the
// account deletion and retention jobs can reuse it.
import { and, eq } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { conversations, files } from '../db/schema.js';
import { notFound } from '../errors.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';

export type StoredObject = { fileId: string; key: string };

/** Deletes the conversation row (messages cascade) and answers the objects that must go too. */
export async function deleteConversationRows(db: Db, userId: string, id: string): Promise<StoredObject[]> {
  return db.transaction(async (tx) => {
    const objects = await tx
      .update(files)
      // 'deleted' rows keep their key, so a failed object removal can be retried by a sweep.
      .set({ status: 'deleted' })
      .where(and(eq(files.userId, userId), eq(files.conversationId, id)))
      .returning({ fileId: files.id, key: files.key });
    const gone = await tx
      .delete(conversations)
      .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
      .returning({ id: conversations.id });
    if (gone.length === 0) throw notFound('conversation');
    return objects;
  });
}

/**
 * Removes the objects from storage. Best effort: the rows are already gone, and a failure is logged
 * with file ids only; the files rows stay 'deleted' with their keys for a later sweep.
 * Storage (and its SDK) is loaded only when there is something to delete.
 */
export async function deleteConversationObjects(
  rt: Runtime,
  objects: readonly StoredObject[],
): Promise<void> {
  if (objects.length === 0) return;
  let storage: Awaited<ReturnType<Runtime['storage']>>;
  try {
    storage = await rt.storage();
  } catch (err) {
    rt.log.warn(
      { files: objects.length, ...errorFields(err) },
      'storage unavailable; objects left for a sweep',
    );
    return;
  }
  const results = await Promise.allSettled(objects.map((o) => storage.delete(o.key)));
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      rt.log.warn({ fileId: objects[i]?.fileId, ...errorFields(r.reason) }, 'object delete failed');
    }
  });
}

/** DELETE /conversations/{id}: the rows in one transaction, then the objects of its images. */
export async function deleteConversation(ctx: Ctx, { id }: { id: string }): Promise<void> {
  const objects = await deleteConversationRows(await ctx.rt.db(), ctx.userId, id);
  await deleteConversationObjects(ctx.rt, objects);
}
