// Ratings of answers: the owner gives, changes or removes one per answer; admins list them without
// the conversation's text (the rating, its reason, the user's comment and the model only).
import { and, desc, eq, gte, lte, type SQL, sql } from 'drizzle-orm';
import { auditedRead } from '../audit.js';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { type FeedbackRating, messageFeedback, messages } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { FeedbackInput, FeedbackLogPage, PublicFeedback } from './schemas.js';
import { getConversationOrThrow } from './service.js';

export { FEEDBACK_COMMENT_MAX, FEEDBACK_RATINGS, FEEDBACK_REASONS } from './schemas.js';

/** Which answer: a message of one of the caller's conversations. */
type AnswerRef = { id: string; messageId: string };

/** The caller's answer in one of their conversations: 404 when unknown or not theirs, 422 for a question. */
async function answerOrThrow(db: Db, userId: string, conversationId: string, messageId: string) {
  await getConversationOrThrow(db, userId, conversationId);
  const [m] = await db
    .select({ id: messages.id, role: messages.role })
    .from(messages)
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.conversationId, conversationId),
        eq(messages.id, messageId),
      ),
    );
  if (!m) throw notFound('message');
  if (m.role !== 'assistant') throw new AppError('UNPROCESSABLE', 'only an assistant answer can be rated');
  return m;
}

/** PUT …/messages/{messageId}/feedback: gives or replaces the rating of an answer. */
export async function setFeedback(ctx: Ctx, input: AnswerRef & FeedbackInput): Promise<PublicFeedback> {
  const { userId } = ctx;
  const { id: conversationId, messageId } = input;
  const now = ctx.rt.now();
  const db = await ctx.rt.db();
  await answerOrThrow(db, userId, conversationId, messageId);
  const values = {
    rating: input.rating,
    reason: input.reason ?? null,
    // A blank comment is no comment.
    comment: input.comment || null,
    createdAt: now,
    updatedAt: now,
  };
  const [row] = await db
    .insert(messageFeedback)
    .values({ messageId, userId, ...values })
    .onConflictDoUpdate({ target: messageFeedback.messageId, set: values })
    .returning();
  if (!row) throw new Error('upsert returned no row');
  return {
    rating: row.rating,
    reason: row.reason,
    comment: row.comment,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** DELETE …/messages/{messageId}/feedback: removes the rating of an answer (done when there was none). */
export async function deleteFeedback(ctx: Ctx, { id, messageId }: AnswerRef): Promise<void> {
  const { userId } = ctx;
  const db = await ctx.rt.db();
  await answerOrThrow(db, userId, id, messageId);
  await db
    .delete(messageFeedback)
    .where(and(eq(messageFeedback.userId, userId), eq(messageFeedback.messageId, messageId)));
}

export type FeedbackFilter = {
  rating?: FeedbackRating | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
};

// Keyset over (created_at, message_id), newest first; the time as PostgreSQL text keeps microseconds.
type Cursor = { at: string; id: string };
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;
const parseCursor = (v: Record<string, unknown>): Cursor | undefined =>
  typeof v.a === 'string' && typeof v.i === 'string' && PG_TIMESTAMP.test(v.a)
    ? { at: v.a, id: v.i }
    : undefined;

/** Every user's ratings, newest first (admins): no user id and no conversation text. */
export async function listFeedback(db: Db, f: FeedbackFilter): Promise<FeedbackLogPage> {
  const after = f.cursor ? decodeCursor(f.cursor, parseCursor) : undefined;
  const where: (SQL | undefined)[] = [
    f.rating ? eq(messageFeedback.rating, f.rating) : undefined,
    f.since ? gte(messageFeedback.createdAt, f.since) : undefined,
    f.until ? lte(messageFeedback.createdAt, f.until) : undefined,
    after
      ? sql`(${messageFeedback.createdAt}, ${messageFeedback.messageId}) < (${after.at}::timestamptz, ${after.id})`
      : undefined,
  ];
  const rows = await db
    .select({
      messageId: messageFeedback.messageId,
      rating: messageFeedback.rating,
      reason: messageFeedback.reason,
      comment: messageFeedback.comment,
      model: messages.model,
      createdAt: messageFeedback.createdAt,
      atKey: sql<string>`${messageFeedback.createdAt}::text`,
    })
    .from(messageFeedback)
    .innerJoin(messages, eq(messages.id, messageFeedback.messageId))
    .where(and(...where))
    .orderBy(desc(messageFeedback.createdAt), desc(messageFeedback.messageId))
    .limit(f.limit + 1);
  const kept = rows.slice(0, f.limit);
  const last = kept.at(-1);
  return {
    items: kept.map((r) => ({
      messageId: r.messageId,
      rating: r.rating,
      reason: r.reason,
      comment: r.comment,
      model: r.model,
      createdAt: r.createdAt.toISOString(),
    })),
    nextCursor: rows.length > f.limit && last ? encodeCursor({ a: last.atKey, i: last.messageId }) : null,
  };
}

/**
 * GET /logs/feedback (admins). Comments are users' own words: the page and its audit row are one
 * transaction, like the system log's, so no page is read unrecorded.
 */
export function readFeedback(ctx: Ctx, f: FeedbackFilter): Promise<FeedbackLogPage> {
  return auditedRead(ctx, { resource: 'message_feedback', targetType: 'message_feedback' }, (db) =>
    listFeedback(db, f),
  );
}
