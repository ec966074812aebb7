// The complaint channel (《生成式人工智能服务管理暂行办法》 Art. 15): a user files a complaint,
// optionally about one of their own messages, and an administrator answers it before its deadline.
// Each change and its audit row are written in one transaction: there is no complaint without its
// record, and no record of a change that did not happen.
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { audit } from '../audit.js';
import { decodeCursor, encodeCursor } from '../conversations/cursor.js';
import type { Db } from '../db/index.js';
import {
  type Complaint,
  type ComplaintCategory,
  type ComplaintStatus,
  complaints,
  messages,
} from '../db/schema.js';
import { AppError } from '../errors.js';

export const COMPLAINT_CATEGORIES = ['harmful', 'inaccurate', 'privacy', 'other'] as const;
export const COMPLAINT_STATUSES = ['open', 'resolved', 'rejected'] as const;

export type PublicComplaint = {
  id: string;
  messageId: string | null;
  category: ComplaintCategory;
  description: string;
  status: ComplaintStatus;
  resolution: string | null;
  createdAt: string;
  /** When the answer is due (COMPLAINT_DEADLINE_DAYS after filing). */
  answerBy: string;
  resolvedAt: string | null;
};

export type AdminComplaint = PublicComplaint & { userId: string };

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

export async function fileComplaint(
  db: Db,
  input: {
    userId: string;
    messageId?: string | undefined;
    category: ComplaintCategory;
    description: string;
    deadlineDays: number;
    now: Date;
    requestId?: string | undefined;
  },
): Promise<Complaint> {
  return db.transaction(async (tx) => {
    if (input.messageId) {
      // Only the caller's own message: anyone else's is as unknown as a missing one.
      const [own] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.id, input.messageId), eq(messages.userId, input.userId)));
      if (!own) throw new AppError('NOT_FOUND', 'message not found');
    }
    const [row] = await tx
      .insert(complaints)
      .values({
        id: crypto.randomUUID(),
        userId: input.userId,
        messageId: input.messageId ?? null,
        category: input.category,
        description: input.description,
        status: 'open',
        createdAt: input.now,
        answerBy: new Date(input.now.getTime() + input.deadlineDays * DAY_MS),
      })
      .returning();
    if (!row) throw new Error('insert returned no row');
    await audit(tx, {
      actorId: input.userId,
      action: 'complaint.create',
      targetType: 'complaint',
      targetId: row.id,
      requestId: input.requestId,
      // The category only: the description is the user's own words.
      meta: { category: row.category, messageId: row.messageId },
    });
    return row;
  });
}

/** The caller's complaints, newest first (a person files few: no paging). */
export async function listOwnComplaints(db: Db, userId: string, max = 100): Promise<PublicComplaint[]> {
  const rows = await db
    .select()
    .from(complaints)
    .where(eq(complaints.userId, userId))
    .orderBy(desc(complaints.createdAt), desc(complaints.id))
    .limit(max);
  return rows.map(toPublicComplaint);
}

type Key = { at: string; id: string };

function parseKey(v: Record<string, unknown>): Key | undefined {
  return typeof v.t === 'string' && typeof v.i === 'string' && !Number.isNaN(Date.parse(v.t))
    ? { at: v.t, id: v.i }
    : undefined;
}

/** Every user's complaints for administrators, newest first, optionally of one status. */
export async function listComplaints(
  db: Db,
  f: { status?: ComplaintStatus | undefined; cursor?: string | undefined; limit: number },
): Promise<{ items: AdminComplaint[]; nextCursor: string | null }> {
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
 * An administrator's answer. A complaint is answered once: answering one already answered is a
 * conflict (a second answer would silently replace what the user was told).
 */
export async function resolveComplaint(
  db: Db,
  input: {
    id: string;
    adminId: string;
    status: Exclude<ComplaintStatus, 'open'>;
    resolution: string;
    now: Date;
    requestId?: string | undefined;
  },
): Promise<AdminComplaint> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(complaints)
      .set({
        status: input.status,
        resolution: input.resolution,
        resolvedBy: input.adminId,
        resolvedAt: input.now,
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
      actorId: input.adminId,
      action: 'complaint.resolve',
      targetType: 'complaint',
      targetId: row.id,
      requestId: input.requestId,
      meta: {
        status: row.status,
        // Whether the deadline was kept: what a regulator asks about a complaint channel.
        late: input.now.getTime() > row.answerBy.getTime(),
      },
    });
    return { ...toPublicComplaint(row), userId: row.userId };
  });
}
