// System and audit log storage: client log ingestion (scrubbed) and the admins' keyset-paged queries.
import { and, desc, eq, getTableColumns, gte, lte, type SQL, sql } from 'drizzle-orm';
import { auditedRead } from '../audit.js';
import type { Ctx } from '../context.js';
import type { Db } from '../db/index.js';
import { auditLog, type SystemLog, systemLogs } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AuditPage, ClientLogEntry, SystemLogPage } from './schemas.js';
import { scrubContext, scrubText } from './scrub.js';

export type LogLevel = SystemLog['level'];

/** Stores the mini-program's entries under the caller, scrubbed of phone numbers, ids and secrets. */
export async function insertClientLogs(
  ctx: Ctx,
  { entries }: { entries: ClientLogEntry[] },
): Promise<number> {
  const { userId, requestId } = ctx;
  const now = ctx.rt.now();
  if (entries.length === 0) return 0;
  // `at` is the server's receive time: phone clocks drift, and the retention cut-off must not be
  // dodged by a client clock. The client's own time travels in the context for reading.
  const rows = entries.map((e) => ({
    at: now,
    level: e.level,
    source: 'client' as const,
    userId,
    requestId,
    message: scrubText(e.message),
    context:
      e.context || e.at
        ? { ...(e.context ? scrubContext(e.context) : {}), ...(e.at ? { clientAt: e.at } : {}) }
        : null,
  }));
  await (await ctx.rt.db()).insert(systemLogs).values(rows);
  return rows.length;
}

// Keyset cursors over (at, id), newest first: opaque to callers, stable while rows are added. The
// time travels as PostgreSQL's own text form: a JS Date keeps milliseconds, the column microseconds,
// and a truncated cursor would skip rows within the same millisecond.
type Cursor = { at: string; id: number };

const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      typeof v[0] === 'string' &&
      PG_TIMESTAMP.test(v[0]) &&
      Number.isSafeInteger(v[1])
    ) {
      return { at: v[0], id: Number(v[1]) };
    }
  } catch {}
  throw new AppError('BAD_REQUEST', 'invalid cursor', { details: [{ path: 'cursor', code: 'invalid' }] });
}

type Page<T> = { items: T[]; nextCursor: string | null };

type Keyed = { id: number; atKey: string };

function page<R extends Keyed, T>(rows: R[], limit: number, shape: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(shape),
    nextCursor: more && last ? encodeCursor({ at: last.atKey, id: last.id }) : null,
  };
}

const before = (table: typeof systemLogs | typeof auditLog, cursor: string | undefined) => {
  if (!cursor) return undefined;
  const c = decodeCursor(cursor);
  // A row comparison: one range scan on the (at, id) index.
  return sql`(${table.at}, ${table.id}) < (${c.at}::timestamptz, ${c.id})`;
};

export type SystemLogFilter = {
  level?: LogLevel | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  route?: string | undefined;
  userId?: string | undefined;
  requestId?: string | undefined;
  cursor?: string | undefined;
  limit: number;
};

export async function listSystemLogs(db: Db, f: SystemLogFilter): Promise<SystemLogPage> {
  const where: (SQL | undefined)[] = [
    f.level ? eq(systemLogs.level, f.level) : undefined,
    f.since ? gte(systemLogs.at, f.since) : undefined,
    f.until ? lte(systemLogs.at, f.until) : undefined,
    f.route ? eq(systemLogs.route, f.route) : undefined,
    f.userId ? eq(systemLogs.userId, f.userId) : undefined,
    f.requestId ? eq(systemLogs.requestId, f.requestId) : undefined,
    before(systemLogs, f.cursor),
  ];
  const rows = await db
    .select({ ...getTableColumns(systemLogs), atKey: sql<string>`${systemLogs.at}::text` })
    .from(systemLogs)
    .where(and(...where))
    .orderBy(desc(systemLogs.at), desc(systemLogs.id))
    .limit(f.limit + 1);
  return page(rows, f.limit, (r) => ({
    id: String(r.id),
    at: r.at.toISOString(),
    level: r.level,
    source: r.source,
    route: r.route,
    method: r.method,
    status: r.status,
    latencyMs: r.latencyMs,
    userId: r.userId,
    requestId: r.requestId,
    errorCode: r.errorCode,
    message: r.message,
    context: r.context,
  }));
}

export type AuditFilter = {
  action?: string | undefined;
  actorId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
};

export async function listAudit(db: Db, f: AuditFilter): Promise<AuditPage> {
  const where: (SQL | undefined)[] = [
    f.action ? eq(auditLog.action, f.action) : undefined,
    f.actorId ? eq(auditLog.actorId, f.actorId) : undefined,
    f.since ? gte(auditLog.at, f.since) : undefined,
    f.until ? lte(auditLog.at, f.until) : undefined,
    before(auditLog, f.cursor),
  ];
  const rows = await db
    .select({ ...getTableColumns(auditLog), atKey: sql<string>`${auditLog.at}::text` })
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(f.limit + 1);
  return page(rows, f.limit, (r) => ({
    id: String(r.id),
    at: r.at.toISOString(),
    actorId: r.actorId,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    requestId: r.requestId,
  }));
}

/**
 * GET /logs (admins). Log entries carry users' ids and (scrubbed) client text: every read is on the
 * record, naming the user whose entries were asked for; the page and its audit row are one
 * transaction, so no page is read unrecorded.
 */
export function readSystemLogs(ctx: Ctx, f: SystemLogFilter): Promise<SystemLogPage> {
  const target = f.userId ? { targetType: 'user', targetId: f.userId } : { targetType: 'system_logs' };
  return auditedRead(ctx, { resource: 'system_logs', ...target }, (db) => listSystemLogs(db, f));
}

/**
 * GET /logs/audit (admins). Reading one person's activity is a read of their data, recorded with the
 * read; browsing the whole log is not (it would bury the log under its own reads).
 */
export async function readAuditLog(ctx: Ctx, f: AuditFilter): Promise<AuditPage> {
  const db = await ctx.rt.db();
  if (!f.actorId) return listAudit(db, f);
  return auditedRead(ctx, { resource: 'audit_log', targetType: 'user', targetId: f.actorId }, (tx) =>
    listAudit(tx, f),
  );
}
