// The logs routes' schemas: the mini-program's entries, the admins' system and audit log pages, and
// the retention job's answer. One zod schema each validates, documents (OpenAPI) and types (z.infer)
// a shape; no HTTP here, so the services take their types from these.
import { z } from '@hono/zod-openapi';
import { IsoDate, pageOf } from '../schemas.js';

export const LevelSchema = z.enum(['debug', 'info', 'warn', 'error']);
const CONTEXT_MAX_BYTES = 4 * 1024;

export const ClientEntrySchema = z.strictObject({
  level: LevelSchema,
  message: z.string().min(1).max(2000),
  // Free-form by contract: any object, at most 4 KB serialized; scrubbed before it is stored.
  context: z
    .record(z.string(), z.unknown())
    .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= CONTEXT_MAX_BYTES, {
      message: 'context over 4 KB',
    })
    .optional()
    .openapi({ description: 'an opaque object, at most 4 KB serialized' }),
  at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'the client’s own time' }),
});
export type ClientLogEntry = z.infer<typeof ClientEntrySchema>;

export const IngestBody = z.strictObject({ entries: z.array(ClientEntrySchema).min(1).max(50) });

export const SystemLogItemSchema = z
  .object({
    id: z.string(),
    at: IsoDate,
    level: LevelSchema,
    source: z.enum(['server', 'client']),
    route: z.string().nullable(),
    method: z.string().nullable(),
    status: z.number().int().nullable(),
    latencyMs: z.number().int().nullable(),
    userId: z.string().nullable(),
    requestId: z.string().nullable(),
    errorCode: z.string().nullable(),
    message: z.string().nullable(),
    context: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('SystemLogEntry');
export type SystemLogItem = z.infer<typeof SystemLogItemSchema>;

export const AuditItemSchema = z
  .object({
    id: z.string(),
    at: IsoDate,
    actorId: z.string().nullable(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    requestId: z.string().nullable(),
  })
  .openapi('AuditEntry');
export type AuditItem = z.infer<typeof AuditItemSchema>;

/** Pages newest first; nextCursor continues one. */
export const SystemLogPageSchema = pageOf(SystemLogItemSchema);
export type SystemLogPage = z.infer<typeof SystemLogPageSchema>;

export const AuditPageSchema = pageOf(AuditItemSchema);
export type AuditPage = z.infer<typeof AuditPageSchema>;

/** The admins' usage report: one row a day (Asia/Shanghai) or a model. */
export const UsageRowSchema = z
  .object({
    day: z.string().optional().openapi({ description: 'groupBy=day: the Asia/Shanghai day, YYYY-MM-DD' }),
    model: z.string().nullable().optional().openapi({ description: 'groupBy=model' }),
    requests: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    costCny: z.number().openapi({ description: 'at MODEL_PRICES when each answer was stored' }),
  })
  .openapi('UsageReportRow');
export type UsageRow = z.infer<typeof UsageRowSchema>;

export const UsageReportSchema = z.object({ items: z.array(UsageRowSchema) });

export const RetentionAnswerSchema = z.object({
  ranAt: IsoDate,
  tasks: z.array(
    z.object({
      name: z.string(),
      ok: z.boolean(),
      removed: z.number().int(),
      errorType: z.string().optional(),
    }),
  ),
});
