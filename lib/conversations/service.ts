// Conversations, always scoped to their owner: every query has the owner's id in its WHERE, so
// another user's id behaves exactly like an id that does not exist (404).
import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import { accountCte, type SessionAccount } from '../auth/account.js';
import type { AccessClaims } from '../auth/jwt.js';
import type { Ctx, RequestCtx } from '../context.js';
import type { Db } from '../db/index.js';
import { type Conversation, conversations } from '../db/schema.js';
import { notFound } from '../errors.js';
import { getMemberOrThrow } from '../members/service.js';
import { clampLimit, decodeCursor, encodeCursor } from './cursor.js';
import type { ConversationPage, ConversationPatch, NewConversation, PublicConversation } from './schemas.js';

export const DEFAULT_TITLE = '新对话';

export type { PublicConversation };

export function toPublicConversation(c: Conversation): PublicConversation {
  return {
    id: c.id,
    memberId: c.memberId,
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

/** GET /conversations/{id}: one of the caller's conversations (another user's is 404). */
export async function getConversation(ctx: Ctx, { id }: { id: string }): Promise<PublicConversation> {
  return toPublicConversation(await getConversationOrThrow(await ctx.rt.db(), ctx.userId, id));
}

/** POST /conversations: about the caller, or one of their family members (another user's is 404). */
export async function createConversation(ctx: Ctx, input: NewConversation): Promise<PublicConversation> {
  const db = await ctx.rt.db();
  if (input.memberId) await getMemberOrThrow(db, ctx.userId, input.memberId);
  const row = await insertConversation(db, ctx.userId, {
    title: input.title,
    memberId: input.memberId ?? null,
    now: ctx.rt.now(),
  });
  return toPublicConversation(row);
}

// Times are written from JS Dates (millisecond precision) rather than now() (microseconds), so the
// activity time a cursor carries compares exactly equal to the stored one.
export async function insertConversation(
  db: Db,
  userId: string,
  opts: { title?: string | undefined; memberId?: string | null; now: Date },
): Promise<Conversation> {
  const [row] = await db
    .insert(conversations)
    .values({
      id: crypto.randomUUID(),
      userId,
      memberId: opts.memberId ?? null,
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
  opts: ListOptions,
): Promise<{ items: PublicConversation[]; nextCursor: string | null }> {
  const limit = clampLimit(opts.limit);
  const rows = await db
    .select()
    .from(conversations)
    .where(listWhere(eq(conversations.userId, userId), opts))
    .orderBy(desc(conversations.activityAt), desc(conversations.id))
    .limit(limit + 1);
  return listPage(rows, limit);
}

/**
 * GET /conversations: the same page for the holder of an access token, with the account and its
 * session checked in the same statement (one round trip): the conversations are joined to the live
 * session's account, so the owner check stays in the query. No account (sign-in ended, account
 * deleted) → undefined; the caller decides what that answers.
 */
export async function listConversationsForSession(
  ctx: RequestCtx,
  input: ListOptions & { claims: Pick<AccessClaims, 'sub' | 'sid'> },
): Promise<{ account: SessionAccount; page: ConversationPage } | undefined> {
  const { claims, ...opts } = input;
  const db = await ctx.rt.db();
  const limit = clampLimit(opts.limit);
  const account = accountCte(db, claims);
  const rows = await db
    .with(account)
    .select({
      account: {
        id: account.id,
        role: account.role,
        openid: account.openid,
        acceptedConsentVersion: account.acceptedConsentVersion,
      },
      conversation: conversations,
    })
    .from(account)
    .leftJoin(conversations, listWhere(eq(conversations.userId, account.id), opts))
    .orderBy(desc(conversations.activityAt), desc(conversations.id))
    .limit(limit + 1);
  const first = rows[0];
  if (!first) return undefined;
  const items = rows.flatMap((r) => (r.conversation ? [r.conversation] : []));
  return { account: first.account, page: listPage(items, limit) };
}

type ListOptions = {
  limit?: number | undefined;
  cursor?: string | undefined;
  archived?: boolean | undefined;
};

function listWhere(owner: SQL, opts: ListOptions): SQL | undefined {
  const after = opts.cursor ? decodeCursor(opts.cursor, parseListCursor) : undefined;
  return and(
    owner,
    eq(conversations.archived, opts.archived ?? false),
    after
      ? or(
          lt(conversations.activityAt, after.at),
          and(eq(conversations.activityAt, after.at), lt(conversations.id, after.id)),
        )
      : undefined,
  );
}

function listPage(rows: Conversation[], limit: number): ConversationPage {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toPublicConversation),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ a: last.activityAt.toISOString(), i: last.id }) : null,
  };
}

/** PATCH /conversations/{id}: rename or archive one of the caller's conversations. */
export async function updateConversation(
  ctx: Ctx,
  input: ConversationPatch & { id: string },
): Promise<PublicConversation> {
  const { id, title, archived } = input;
  const [row] = await (await ctx.rt.db())
    .update(conversations)
    .set({
      ...(title !== undefined ? { title } : {}),
      ...(archived !== undefined ? { archived } : {}),
      updatedAt: ctx.rt.now(),
    })
    .where(and(eq(conversations.userId, ctx.userId), eq(conversations.id, id)))
    .returning();
  if (!row) throw notFound('conversation');
  return toPublicConversation(row);
}

/** A new message moves the conversation to the top of the list. */
export async function touchConversation(db: Db, userId: string, id: string, at: Date): Promise<void> {
  await db
    .update(conversations)
    .set({ lastMessageAt: at, activityAt: at, updatedAt: at })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, id)));
}
