// Versions of an answer. Regenerating keeps the earlier answer as an earlier version (its row stays,
// marked superseded) and stores the new one as the next version after it, so lists and the model's
// history show the current version only. Every query carries the owner's id.
import { and, asc, desc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { type Message, messages } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { feedbackOf, type PublicMessage, publicStatus, toPublicMessage } from './messages.js';
import { getConversationOrThrow } from './service.js';

export type Superseded = {
  /** The question the new answer answers (its `content` and `imageIds` are sent again). */
  question: Message;
  /** The answer just marked as an earlier version. */
  previous: Message;
  /** Spread into insertMessage for the new answer: `{ version, versionOf }`. */
  next: { version: number; versionOf: string };
};

async function messageOrThrow(db: Db, userId: string, conversationId: string, id: string): Promise<Message> {
  await getConversationOrThrow(db, userId, conversationId);
  const [row] = await db
    .select()
    .from(messages)
    .where(
      and(eq(messages.userId, userId), eq(messages.conversationId, conversationId), eq(messages.id, id)),
    );
  if (!row) throw notFound('message');
  return row;
}

const notAnAnswer = () => new AppError('UNPROCESSABLE', 'only an assistant message has versions');

/**
 * The answer a regeneration replaces and the question it answers again, checked without changing
 * anything (so a regeneration is refused before any limit is spent): unknown or another user's
 * conversation or message 404; a user message 422; not the current version of the last answer, or
 * an answer still being written, 409.
 */
export async function regenerationTarget(
  db: Db,
  userId: string,
  conversationId: string,
  messageId: string,
  opts: { now: Date },
): Promise<{ question: Message; answer: Message }> {
  const answer = await messageOrThrow(db, userId, conversationId, messageId);
  if (answer.role !== 'assistant') {
    throw new AppError('UNPROCESSABLE', 'only an assistant answer can be regenerated');
  }
  if (answer.supersededAt) throw lastOnly();
  // An answer still being written is not regenerated (stop it first); one whose writer died
  // (older than WRITING_MAX_MS) is.
  if (publicStatus(answer, opts.now.getTime()) === 'streaming') {
    throw new AppError('CONFLICT', 'the answer is still being written');
  }
  const current = and(
    eq(messages.userId, userId),
    eq(messages.conversationId, conversationId),
    isNull(messages.supersededAt),
  );
  const [later] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(current, gt(messages.seq, answer.seq)))
    .limit(1);
  if (later) throw lastOnly();
  const [question] = await db
    .select()
    .from(messages)
    .where(and(current, eq(messages.role, 'user'), lt(messages.seq, answer.seq)))
    .orderBy(desc(messages.seq))
    .limit(1);
  if (!question) throw new AppError('CONFLICT', 'the answer has no question to answer again');
  return { question, answer };
}

const lastOnly = () => new AppError('CONFLICT', 'only the conversation’s last answer can be regenerated');

/**
 * Marks the conversation's last answer as an earlier version and answers what its next version
 * needs. Call inside the regenerate flow's transaction, then insert the new answer with `next`.
 * The same refusals as regenerationTarget.
 */
export async function supersedeAnswer(
  tx: Db,
  userId: string,
  conversationId: string,
  messageId: string,
  opts: { now: Date },
): Promise<Superseded> {
  const { question, answer } = await regenerationTarget(tx, userId, conversationId, messageId, opts);
  // Conditional on still being current: of two regenerations at once, one wins and one gets 409.
  const [previous] = await tx
    .update(messages)
    .set({ supersededAt: opts.now })
    .where(and(eq(messages.userId, userId), eq(messages.id, answer.id), isNull(messages.supersededAt)))
    .returning();
  if (!previous) throw lastOnly();
  return {
    question,
    previous,
    next: { version: answer.version + 1, versionOf: answer.versionOf ?? answer.id },
  };
}

/**
 * GET …/messages/{messageId}/versions: every version of the answer `messageId` belongs to (any
 * version's id), oldest first.
 */
export async function listVersions(
  ctx: Ctx,
  { id: conversationId, messageId }: { id: string; messageId: string },
): Promise<PublicMessage[]> {
  const { userId } = ctx;
  const db = await ctx.rt.db();
  const m = await messageOrThrow(db, userId, conversationId, messageId);
  if (m.role !== 'assistant') throw notAnAnswer();
  const first = m.versionOf ?? m.id;
  const rows = await db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.conversationId, conversationId),
        or(eq(messages.id, first), eq(messages.versionOf, first)),
      ),
    )
    .orderBy(asc(messages.version), asc(messages.seq));
  const feedback = await feedbackOf(
    db,
    userId,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toPublicMessage(r, { versions: rows.length, feedback: feedback.get(r.id) ?? null }));
}
