// The complaint channel (《生成式人工智能服务管理暂行办法》 Art. 15): a user files a complaint,
// optionally about one of their own messages, and an administrator answers it before its deadline.
// Each change and its audit row are written in one transaction: there is no complaint without its
// record, and no record of a change that did not happen.
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { audit, auditedRead } from '../audit.js';
import type { Ctx } from '../context.js';
import { decodeCursor, encodeCursor } from '../conversations/cursor.js';
import type { Db } from '../db/index.js';
import { type Complaint, type ComplaintStatus, complaints, messages } from '../db/schema.js';
import { AppError } from '../errors.js';
import type {
  AdminComplaint,
  AdminComplaintPage,
  ComplaintAnswer,
  ComplaintFiled,
  NewComplaint,
  PublicComplaint,
} from './schemas.js';

export { COMPLAINT_CATEGORIES, COMPLAINT_STATUSES } from './schemas.js';

export function toPublicComplaint(c: Complaint): PublicComplaint {
  return {
    id: c.id,
    messageId: c.messageId,
    category: c.category,
    description: c.description,
    status: c.status,
    resolution: c.resolution,
    createdAt: c.createdAt.toISOString(),
    answerBy: c.answerBy.toISOString(),
    resolvedAt: c.resolvedAt?.toISOString() ?? null,
  };
}

const DAY_MS = 86_400_000;

/** POST /users/me/complaints: about the service, or one of the caller's own messages (404 otherwise). */
export async function fileComplaint(ctx: Ctx, input: NewComplaint): Promise<ComplaintFiled> {
  const { userId } = ctx;
  const now = ctx.rt.now();
  const db = await ctx.rt.db();
  return db.transaction(async (tx) => {
    if (input.messageId) {
      // Only the caller's own message: anyone else's is as unknown as a missing one.
      const [own] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.id, input.messageId), eq(messages.userId, userId)));
      if (!own) throw new AppError('NOT_FOUND', 'message not found');
    }
    const [row] = await tx
      .insert(complaints)
      .values({
        id: crypto.randomUUID(),
        userId,
        messageId: input.messageId ?? null,
        category: input.category,
        description: input.description,
        status: 'open',
        createdAt: now,
        answerBy: new Date(now.getTime() + ctx.rt.config.COMPLAINT_DEADLINE_DAYS * DAY_MS),
      })
      .returning();
    if (!row) throw new Error('insert returned no row');
    await audit(tx, {
      actorId: userId,
      action: 'complaint.create',
      targetType: 'complaint',
      targetId: row.id,
      requestId: ctx.requestId,
      // The category only: the description is the user's own words.
      meta: { category: row.category, messageId: row.messageId },
    });
    return {
      id: row.id,
      status: row.status,
      createdAt: row.createdAt.toISOString(),
      answerBy: row.answerBy.toISOString(),
    };
  });
}

/** A person files few complaints: their list is not paged. */
const OWN_COMPLAINTS_MAX = 100;

/** GET /users/me/complaints: the caller's complaints, newest first. */
export async function listOwnComplaints(ctx: Ctx): Promise<PublicComplaint[]> {
  const rows = await (await ctx.rt.db())
    .select()
    .from(complaints)
    .where(eq(complaints.userId, ctx.userId))
    .orderBy(desc(complaints.createdAt), desc(complaints.id))
    .limit(OWN_COMPLAINTS_MAX);
  return rows.map(toPublicComplaint);
}

type Key = { at: string; id: string };

function parseKey(v: Record<string, unknown>): Key | undefined {
  return typeof v.t === 'string' && typeof v.i === 'string' && !Number.isNaN(Date.parse(v.t))
    ? { at: v.t, id: v.i }
    : undefined;
}

/** Every user's complaints for administrators, newest first, optionally of one status. */
export type ComplaintFilter = {
  status?: ComplaintStatus | undefined;
  cursor?: string | undefined;
  limit: number;
};

export async function listComplaints(db: Db, f: ComplaintFilter): Promise<AdminComplaintPage> {
  const after = f.cursor ? decodeCursor(f.cursor, parseKey) : undefined;
  const where: (SQL | undefined)[] = [
    f.status ? eq(complaints.status, f.status) : undefined,
    // Keyset on (created_at, id), the time kept as PostgreSQL text so no microseconds are lost.
    after
      ? sql`(${complaints.createdAt}, ${complaints.id}) < (${after.at}::timestamptz, ${after.id})`
      : undefined,
  ];
  const rows = await db
    .select({ row: complaints, k: sql<string>`${complaints.createdAt}::text` })
    .from(complaints)
    .where(and(...where))
    .orderBy(desc(complaints.createdAt), desc(complaints.id))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ row }) => ({ ...toPublicComplaint(row), userId: row.userId })),
    nextCursor: rows.length > f.limit && last ? encodeCursor({ t: last.k, i: last.row.id }) : null,
  };
}

/**
 * GET /logs/complaints (admins). Complaints are users' own words: the page and its audit row are one
 * transaction, so no page is read unrecorded.
 */
export function readComplaints(ctx: Ctx, f: ComplaintFilter): Promise<AdminComplaintPage> {
  return auditedRead(ctx, { resource: 'complaints', targetType: 'complaints' }, (db) =>
    listComplaints(db, f),
  );
}

/**
 * PATCH /logs/complaints/{id}: an administrator's answer. A complaint is answered once: answering
 * one already answered is a conflict (a second answer would silently replace what the user was told).
 */
export async function resolveComplaint(
  ctx: Ctx,
  input: ComplaintAnswer & { id: string },
): Promise<AdminComplaint> {
  const now = ctx.rt.now();
  const db = await ctx.rt.db();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(complaints)
      .set({
        status: input.status,
        resolution: input.resolution,
        resolvedBy: ctx.userId,
        resolvedAt: now,
      })
      .where(and(eq(complaints.id, input.id), eq(complaints.status, 'open')))
      .returning();
    if (!row) {
      const [exists] = await tx
        .select({ id: complaints.id })
        .from(complaints)
        .where(eq(complaints.id, input.id));
      if (!exists) throw new AppError('NOT_FOUND', 'complaint not found');
      throw new AppError('CONFLICT', 'complaint already answered');
    }
    await audit(tx, {
      actorId: ctx.userId,
      action: 'complaint.resolve',
      targetType: 'complaint',
      targetId: row.id,
      requestId: ctx.requestId,
      meta: {
        status: row.status,
        // Whether the deadline was kept: what a regulator asks about a complaint channel.
        late: now.getTime() > row.answerBy.getTime(),
      },
    });
    return { ...toPublicComplaint(row), userId: row.userId };
  });
}
