// Append-only audit records: who did what to which record. Never personal data in `meta`.
import type { Ctx } from './context.js';
import type { Db } from './db/index.js';
import { auditLog } from './db/schema.js';

export type AuditAction =
  | 'user.login'
  | 'user.logout'
  | 'user.refresh_reuse'
  | 'user.export'
  | 'user.delete'
  | 'user.consent'
  | 'user.role_change'
  | 'admin.read'
  | 'complaint.create'
  | 'complaint.resolve'
  | 'member.guardian_consent';

export type AuditEvent = {
  actorId: string | null;
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  requestId?: string;
  meta?: Record<string, string | number | boolean | null>;
};

export async function audit(db: Db, e: AuditEvent): Promise<void> {
  await db.insert(auditLog).values({
    actorId: e.actorId,
    action: e.action,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    requestId: e.requestId ?? null,
    meta: e.meta ?? null,
  });
}

/**
 * An administrator's read of users' data, on the record: the page and its `admin.read` row are one
 * transaction, so no page is read unrecorded (and none is sent when the row cannot be written).
 */
export async function auditedRead<P extends { items: readonly unknown[] }>(
  ctx: Ctx,
  what: { resource: string; targetType: string; targetId?: string | undefined },
  read: (db: Db) => Promise<P>,
): Promise<P> {
  const db = await ctx.rt.db();
  return db.transaction(async (tx) => {
    const page = await read(tx);
    await audit(tx, {
      actorId: ctx.userId,
      action: 'admin.read',
      targetType: what.targetType,
      ...(what.targetId ? { targetId: what.targetId } : {}),
      requestId: ctx.requestId,
      meta: { resource: what.resource, items: page.items.length },
    });
    return page;
  });
}
