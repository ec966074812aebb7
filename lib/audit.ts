// Append-only audit records: who did what to which record. Never personal data in `meta`.
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
