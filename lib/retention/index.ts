// The retention job: run daily by Vercel cron (GET /api/v1/logs/retention) or by hand
// (scripts/retention.ts). Each task works in bounded batches, so one run fits a function's time
// limit and the next run continues; a failing task is reported and does not stop the others.
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { conversations, files, idempotencyKeys, systemLogs } from '../db/schema.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { finishDeletion, pendingDeletions } from '../users/deletion.js';

export type RetentionContext = {
  rt: Runtime;
  db: Db;
  now: Date;
  /** False once the run's time budget is spent: stop at the next batch boundary, the next run goes on. */
  inTime(): boolean;
};

export type RetentionTask = {
  name: string;
  /** Answers how many things it removed. */
  run(ctx: RetentionContext): Promise<number>;
};

export type RetentionResult = { name: string; ok: boolean; removed: number; errorType?: string };

const DAY_MS = 86_400_000;
const DELETIONS_PER_RUN = 50;
const CONVERSATION_BATCH = 100;
const CONVERSATION_BATCHES_PER_RUN = 20;
const ROW_BATCH = 5_000;
const ROW_BATCHES_PER_RUN = 40;
/** Leaves headroom under the logs function's maxDuration (30 s in vercel.json). */
export const DEFAULT_BUDGET_MS = 20_000;

/** Account deletions that a crash or a storage failure left unfinished. */
export const resumeDeletions: RetentionTask = {
  name: 'deletion-jobs',
  async run({ rt, db, inTime }) {
    let done = 0;
    for (const userId of await pendingDeletions(db, DELETIONS_PER_RUN)) {
      if (!inTime()) break;
      try {
        await finishDeletion(db, () => rt.storage(), userId);
        done++;
      } catch (err) {
        // The job row stays for the next run; the next job is still worth trying.
        rt.log.error({ task: 'deletion-jobs', ...errorFields(err) }, 'deletion job failed');
      }
    }
    return done;
  },
};

/** Conversations without activity for RETENTION_DAYS_CONVERSATIONS: messages, images and objects. */
export const expireConversations: RetentionTask = {
  name: 'conversations',
  async run({ rt, db, now, inTime }) {
    const cutoff = new Date(now.getTime() - rt.config.RETENTION_DAYS_CONVERSATIONS * DAY_MS);
    let removed = 0;
    for (let i = 0; i < CONVERSATION_BATCHES_PER_RUN && inTime(); i++) {
      const batch = await db
        .select({ id: conversations.id, userId: conversations.userId })
        .from(conversations)
        .where(lt(conversations.activityAt, cutoff))
        .orderBy(conversations.activityAt)
        .limit(CONVERSATION_BATCH);
      if (batch.length === 0) break;
      for (const c of batch) removed += await deleteConversation(rt, db, c.userId, c.id, cutoff);
      if (batch.length < CONVERSATION_BATCH) break;
    }
    return removed;
  },
};

/** Objects first, then rows (a crash in between leaves rows that the next run finds again). */
async function deleteConversation(
  rt: Runtime,
  db: Db,
  userId: string,
  conversationId: string,
  cutoff: Date,
): Promise<number> {
  const images = await db
    .select({ id: files.id, key: files.key })
    .from(files)
    .where(and(eq(files.userId, userId), eq(files.conversationId, conversationId)));
  if (images.length) {
    const storage = await rt.storage();
    for (const f of images) await storage.delete(f.key);
  }
  return db.transaction(async (tx) => {
    // Re-checked: a message sent since the batch was read keeps the conversation (its old images,
    // already removed from storage, then show as missing — the price of never orphaning objects).
    const gone = await tx
      .delete(conversations)
      .where(
        and(
          eq(conversations.id, conversationId),
          eq(conversations.userId, userId),
          lt(conversations.activityAt, cutoff),
        ),
      )
      .returning({ id: conversations.id });
    if (gone.length && images.length) {
      const ids = images.map((f) => f.id);
      await tx.delete(files).where(and(eq(files.userId, userId), inArray(files.id, ids)));
    }
    return gone.length;
  });
}

/** Deletes in id batches so one run never holds a huge delete open. */
async function deleteInBatches(inTime: () => boolean, batch: () => Promise<number>): Promise<number> {
  let removed = 0;
  for (let i = 0; i < ROW_BATCHES_PER_RUN && inTime(); i++) {
    const n = await batch();
    removed += n;
    if (n < ROW_BATCH) break;
  }
  return removed;
}

export const expireSystemLogs: RetentionTask = {
  name: 'system-logs',
  run({ rt, db, now, inTime }) {
    const cutoff = new Date(now.getTime() - rt.config.RETENTION_DAYS_LOGS * DAY_MS);
    return deleteInBatches(inTime, async () => {
      const rows = await db
        .delete(systemLogs)
        .where(
          inArray(
            systemLogs.id,
            db
              .select({ id: systemLogs.id })
              .from(systemLogs)
              .where(lt(systemLogs.at, cutoff))
              .limit(ROW_BATCH),
          ),
        )
        .returning({ id: systemLogs.id });
      return rows.length;
    });
  },
};

export const expireIdempotencyKeys: RetentionTask = {
  name: 'idempotency-keys',
  run({ db, now, inTime }) {
    return deleteInBatches(inTime, async () => {
      const rows = await db
        .delete(idempotencyKeys)
        .where(
          sql`(${idempotencyKeys.userId}, ${idempotencyKeys.route}, ${idempotencyKeys.key}) in (select ${idempotencyKeys.userId}, ${idempotencyKeys.route}, ${idempotencyKeys.key} from ${idempotencyKeys} where ${idempotencyKeys.expiresAt} < ${now.toISOString()}::timestamptz limit ${ROW_BATCH})`,
        )
        .returning({ key: idempotencyKeys.key });
      return rows.length;
    });
  },
};

/** Upload forms never completed, and staging copies (lib/uploads owns the rules). */
export const cleanupUploads: RetentionTask = {
  name: 'pending-uploads',
  async run({ rt, now }) {
    // Imported when run: the logs function's other routes never load the uploads code.
    const { cleanupPendingUploads } = await import('../uploads/service.js');
    const r = await cleanupPendingUploads(rt, now);
    return r.pendingRemoved + r.stagingSwept;
  },
};

/**
 * Every retention task, in order. Deletions come first: they are owed to someone. Another
 * concern's clean-up joins by adding its task here.
 */
export const RETENTION_TASKS: RetentionTask[] = [
  resumeDeletions,
  expireConversations,
  expireSystemLogs,
  expireIdempotencyKeys,
  cleanupUploads,
];

export async function runRetention(
  rt: Runtime,
  opts: { now?: Date; tasks?: RetentionTask[]; budgetMs?: number } = {},
): Promise<RetentionResult[]> {
  const now = opts.now ?? rt.now();
  const db = await rt.db();
  const deadline = performance.now() + (opts.budgetMs ?? DEFAULT_BUDGET_MS);
  const inTime = () => performance.now() < deadline;
  const results: RetentionResult[] = [];
  for (const task of opts.tasks ?? RETENTION_TASKS) {
    try {
      results.push({ name: task.name, ok: true, removed: await task.run({ rt, db, now, inTime }) });
    } catch (err) {
      const { errorType } = errorFields(err);
      rt.log.error({ task: task.name, ...errorFields(err) }, 'retention task failed');
      results.push({ name: task.name, ok: false, removed: 0, errorType });
    }
  }
  rt.log.info({ results }, 'retention run');
  return results;
}
