// Messages of a conversation, scoped to their owner. Chat writes them through here too, so the
// public shape and the status rules live in one place.
import { and, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import { type AigcCodes, aigcCodes, aigcLabel, processAigcCodes } from '../compliance/aigc.js';
import type { ModelPrices } from '../config/index.js';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { type Message, type MessageStatus, messageFeedback, messages, type Triage } from '../db/schema.js';
import { costCny } from '../llm/prices.js';
import { AI_DISCLAIMER } from '../safety/index.js';
import { clampLimit, decodeCursor, encodeCursor } from './cursor.js';
import type { FeedbackSummary, MessagePage, PublicMessage, PublicStatus } from './schemas.js';
import { getConversationOrThrow } from './service.js';

export type { FeedbackSummary, PublicMessage, PublicStatus };

/**
 * No answer is written for longer than this (LLM_TIMEOUT_MS is at most 600 s): a row still
 * `streaming` past it belongs to a process that died mid-answer.
 */
export const WRITING_MAX_MS = 660_000;

/**
 * A row `streaming` (or `pending`) is an answer being written, until it is older than any answer
 * may run: then its process died mid-answer, and the reader sees what exists: some text
 * (incomplete) or none (error).
 */
export function publicStatus(
  row: Pick<Message, 'status' | 'content' | 'createdAt'>,
  now = Date.now(),
): PublicStatus {
  if (row.status === 'streaming' || row.status === 'pending') {
    if (now - row.createdAt.getTime() < WRITING_MAX_MS) return 'streaming';
    return row.content.length > 0 ? 'incomplete' : 'error';
  }
  return row.status;
}

/**
 * `versions` defaults to the row's own number: versions are never removed one by one, so the
 * current version's number is the count. `feedback` defaults to none (a new answer has none).
 * Pass `codes: aigcCodes(rt.config)` when a runtime is at hand; the default is the process's.
 */
export function toPublicMessage(
  m: Message,
  extra: { feedback?: FeedbackSummary | null; versions?: number; codes?: AigcCodes } = {},
): PublicMessage {
  const codes = extra.codes ?? processAigcCodes();
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    imageIds: m.imageIds,
    status: publicStatus(m),
    ...(m.triage ? { triage: m.triage } : {}),
    ...(m.role === 'assistant' ? { finishReason: m.finishReason } : {}),
    ...(m.model ? { model: m.model } : {}),
    ...(m.promptTokens !== null && m.completionTokens !== null
      ? { usage: { promptTokens: m.promptTokens, completionTokens: m.completionTokens } }
      : {}),
    aiGenerated: m.aiGenerated,
    ...(m.aiGenerated ? { disclaimer: AI_DISCLAIMER } : {}),
    aigc: aigcLabel(m, codes),
    ...(m.role === 'assistant'
      ? { version: m.version, versions: extra.versions ?? m.version, feedback: extra.feedback ?? null }
      : {}),
    createdAt: m.createdAt.toISOString(),
  };
}

/** The feedback of some messages, by message id (one query for a page). */
export async function feedbackOf(
  db: Db,
  userId: string,
  ids: readonly string[],
): Promise<Map<string, FeedbackSummary>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: messageFeedback.messageId, rating: messageFeedback.rating, reason: messageFeedback.reason })
    .from(messageFeedback)
    .where(and(eq(messageFeedback.userId, userId), inArray(messageFeedback.messageId, [...ids])));
  return new Map(rows.map((r) => [r.id, { rating: r.rating, reason: r.reason }]));
}

function parseMessageCursor(v: Record<string, unknown>): number | undefined {
  return typeof v.s === 'number' && Number.isSafeInteger(v.s) && v.s > 0 ? v.s : undefined;
}

/**
 * GET /conversations/{id}/messages: the first page is the newest `limit` messages; every page is
 * oldest first. Current versions only.
 */
export async function listMessages(
  ctx: Ctx,
  input: { id: string; limit?: number | undefined; before?: string | undefined },
): Promise<MessagePage> {
  const { userId } = ctx;
  const { id: conversationId, ...opts } = input;
  const db = await ctx.rt.db();
  const codes = aigcCodes(ctx.rt.config);
  await getConversationOrThrow(db, userId, conversationId);
  const limit = clampLimit(opts.limit);
  const before = opts.before ? decodeCursor(opts.before, parseMessageCursor) : undefined;
  const rows = await db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.conversationId, conversationId),
        isNull(messages.supersededAt),
        before !== undefined ? lt(messages.seq, before) : undefined,
      ),
    )
    .orderBy(desc(messages.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit).reverse();
  const oldest = page[0];
  const feedback = await feedbackOf(
    db,
    userId,
    page.filter((m) => m.role === 'assistant').map((m) => m.id),
  );
  return {
    items: page.map((m) => toPublicMessage(m, { feedback: feedback.get(m.id) ?? null, codes })),
    nextCursor: rows.length > limit && oldest ? encodeCursor({ s: oldest.seq }) : null,
  };
}

export type NewTurnMessage = {
  role: 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  imageIds?: string[];
  triage?: Triage | null;
  finishReason?: string | null;
  model?: string | null;
  aiGenerated?: boolean;
  /** A regenerated answer: its version number and the first version's id (from supersedeAnswer). */
  version?: number;
  versionOf?: string | null;
  createdAt: Date;
};

export async function insertMessage(
  db: Db,
  userId: string,
  conversationId: string,
  m: NewTurnMessage,
): Promise<Message> {
  const [row] = await db
    .insert(messages)
    .values({
      id: crypto.randomUUID(),
      conversationId,
      userId,
      role: m.role,
      content: m.content,
      imageIds: m.imageIds ?? [],
      status: m.status,
      triage: m.triage ?? null,
      finishReason: m.finishReason ?? null,
      model: m.model ?? null,
      aiGenerated: m.aiGenerated ?? false,
      version: m.version ?? 1,
      versionOf: m.versionOf ?? null,
      createdAt: m.createdAt,
      updatedAt: m.createdAt,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** Saves the text streamed so far, so a crash mid-answer keeps it; never touches a finished row. */
export async function savePartialAnswer(db: Db, userId: string, id: string, content: string): Promise<void> {
  await db
    .update(messages)
    .set({ content, updatedAt: new Date() })
    .where(and(eq(messages.userId, userId), eq(messages.id, id), eq(messages.status, 'streaming')));
}

/** Whether POST …/stop asked for this answer to end (how a writer without the Redis bus hears it). */
export async function isStopRequested(db: Db, userId: string, id: string): Promise<boolean> {
  const [row] = await db
    .select({ at: messages.stopRequestedAt })
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.id, id)));
  return !!row?.at;
}

export async function finishAnswer(
  db: Db,
  userId: string,
  id: string,
  f: {
    content: string;
    status: Exclude<MessageStatus, 'pending' | 'streaming'>;
    aiGenerated: boolean;
    /** Set when the model-judgement layer found an emergency while the answer was written. */
    triage?: Triage | null;
    finishReason: string | null;
    errorCode: string | null;
    usage: { promptTokens: number; completionTokens: number } | null;
    model: string | null;
    /** MODEL_PRICES: the answer's cost is stored with its usage (a model without a price costs 0). */
    prices?: ModelPrices;
    now: Date;
  },
): Promise<Message | undefined> {
  // Undefined when the conversation was deleted while its answer streamed.
  const [row] = await db
    .update(messages)
    .set({
      content: f.content,
      status: f.status,
      aiGenerated: f.aiGenerated,
      ...(f.triage ? { triage: f.triage } : {}),
      finishReason: f.finishReason,
      errorCode: f.errorCode,
      promptTokens: f.usage?.promptTokens ?? null,
      completionTokens: f.usage?.completionTokens ?? null,
      costCny: f.usage ? costCny(f.prices ?? {}, f.model, f.usage) : null,
      model: f.model,
      updatedAt: f.now,
    })
    .where(and(eq(messages.userId, userId), eq(messages.id, id)))
    .returning();
  return row;
}
