// Conversations, always scoped to their owner: every query has the owner's id in its WHERE, so
// another user's id behaves exactly like an id that does not exist (404).
import { and, desc, eq, lt, or } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { type Conversation, conversations } from '../db/schema.js';
import { notFound } from '../errors.js';
import { clampLimit, decodeCursor, encodeCursor } from './cursor.js';

export const DEFAULT_TITLE = '新对话';

export type PublicConversation = {
  id: string;
  title: string;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  lastMessageAt: string | null;
};

export function toPublicConversation(c: Conversation): PublicConversation {
  return {
    id: c.id,
    title: c.title,
    archived: c.archived,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    lastMessageAt: c.lastMessageAt?.toISOString() ?? null,
  };
}

export async function getConversationOrThrow(db: Db, userId: string, id: string): Promise<Conversation> {
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)));
  if (!row) throw notFound('conversation');
  return row;
}

// Times are written from JS Dates (millisecond precision) rather than now() (microseconds), so the
// activity time a cursor carries compares exactly equal to the stored one.
export async function createConversation(
  db: Db,
  userId: string,
  opts: { title?: string; now: Date },
): Promise<Conversation> {
  const [row] = await db
    .insert(conversations)
    .values({
      id: crypto.randomUUID(),
      userId,
      title: opts.title ?? DEFAULT_TITLE,
      createdAt: opts.now,
      updatedAt: opts.now,
      activityAt: opts.now,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

type ListCursor = { at: Date; id: string };

function parseListCursor(v: Record<string, unknown>): ListCursor | undefined {
  if (typeof v.a !== 'string' || typeof v.i !== 'string') return undefined;
  const at = new Date(v.a);
  return Number.isNaN(at.getTime()) ? undefined : { at, id: v.i };
}

/** Newest activity first (lastMessageAt, else createdAt), ties broken by id. */
export async function listConversations(
  db: Db,
  userId: string,
  opts: { limit?: number; cursor?: string; archived?: boolean },
): Promise<{ items: PublicConversation[]; nextCursor: string | null }> {
  const limit = clampLimit(opts.limit);
  const after = opts.cursor ? decodeCursor(opts.cursor, parseListCursor) : undefined;
  const rows = await db
    .select()
    .from(conversations)
    .where(
      and(
        eq(conversations.userId, userId),
        eq(conversations.archived, opts.archived ?? false),
        after
          ? or(
              lt(conversations.activityAt, after.at),
              and(eq(conversations.activityAt, after.at), lt(conversations.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(conversations.activityAt), desc(conversations.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toPublicConversation),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ a: last.activityAt.toISOString(), i: last.id }) : null,
  };
}

export async function updateConversation(
  db: Db,
  userId: string,
  id: string,
  patch: { title?: string; archived?: boolean; now: Date },
): Promise<Conversation> {
  const [row] = await db
    .update(conversations)
    .set({
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.archived !== undefined ? { archived: patch.archived } : {}),
      updatedAt: patch.now,
    })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)))
    .returning();
  if (!row) throw notFound('conversation');
  return row;
}

/** A new message moves the conversation to the top of the list. */
export async function touchConversation(db: Db, userId: string, id: string, at: Date): Promise<void> {
  await db
    .update(conversations)
    .set({ lastMessageAt: at, activityAt: at, updatedAt: at })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)));
}
