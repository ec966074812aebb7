// The logs function: the mini-program's log ingestion, the admins' system and audit log queries,
// and the daily retention job (Vercel cron).
import { timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { audit } from '../../lib/audit.js';
import { AppError } from '../../lib/errors.js';
import { type App, type AppEnv, createApp } from '../../lib/http/app.js';
import { currentUser, requireAdmin, requireAuth } from '../../lib/http/auth.js';
import { byUser, rateLimit } from '../../lib/http/limits.js';
import { bearer, errors, IsoDate, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import { insertClientLogs, listAudit, listSystemLogs } from '../../lib/logs/service.js';
import { runRetention } from '../../lib/retention/index.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { register as registerAdminComplaints } from '../_routes/admin-complaints.js';
import { register as registerSteering } from '../_routes/steering-logs.js';

const LevelSchema = z.enum(['debug', 'info', 'warn', 'error']);
const CONTEXT_MAX_BYTES = 4 * 1024;

const ClientEntrySchema = z.strictObject({
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

const ingest = createRoute({
  method: 'post',
  path: '/',
  tags: ['logs'],
  summary: 'Log entries from the mini-program (scrubbed of phone numbers, ids and secrets)',
  security: bearer,
  middleware: [requireAuth, rateLimit('logs:user', byUser)] as const,
  request: { body: jsonBody(z.strictObject({ entries: z.array(ClientEntrySchema).min(1).max(50) })) },
  responses: {
    202: jsonResponse(z.object({ accepted: z.number().int() }), 'Stored'),
    ...errors(400, 401, 413, 415, 429),
  },
});

const limit = LimitQuery(50);
const time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const id = z.string().min(1).max(128);

const SystemLogItem = z
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

const listLogs = createRoute({
  method: 'get',
  path: '/',
  tags: ['logs'],
  summary: 'System log entries, newest first (admins)',
  security: bearer,
  middleware: [requireAuth, requireAdmin] as const,
  request: {
    query: z.object({
      level: LevelSchema.optional(),
      since: time.optional(),
      until: time.optional(),
      route: z.string().min(1).max(200).optional(),
      userId: id.optional(),
      requestId: id.optional(),
      cursor: z.string().max(200).optional(),
      limit: limit.optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(SystemLogItem), nextCursor: z.string().nullable() }),
      'A page of entries',
    ),
    ...errors(400, 401, 403),
  },
});

const AuditItem = z
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

const listAuditRoute = createRoute({
  method: 'get',
  path: '/audit',
  tags: ['logs'],
  summary: 'Audit records, newest first (admins)',
  security: bearer,
  middleware: [requireAuth, requireAdmin] as const,
  request: {
    query: z.object({
      action: z.string().min(1).max(64).optional(),
      actorId: id.optional(),
      since: time.optional(),
      until: time.optional(),
      cursor: z.string().max(200).optional(),
      limit: limit.optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(AuditItem), nextCursor: z.string().nullable() }),
      'A page of records',
    ),
    ...errors(400, 401, 403),
  },
});

const secretsEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Vercel cron calls with `Authorization: Bearer $CRON_SECRET`. Without a CRON_SECRET only a
 * development deployment runs it, and only for a signed-in admin; production refuses.
 */
const requireCron: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { config } = c.get('rt');
  if (config.CRON_SECRET) {
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!secretsEqual(given, config.CRON_SECRET)) {
      throw new AppError('UNAUTHORIZED', 'missing or invalid cron secret');
    }
    return next();
  }
  if (config.production) throw new AppError('FORBIDDEN', 'CRON_SECRET is not configured');
  return requireAuth(c, async () => {
    await requireAdmin(c, next);
  });
};

const RetentionAnswer = z.object({
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

const retention = createRoute({
  method: 'get',
  path: '/retention',
  tags: ['logs'],
  summary: 'Run the retention job (Vercel cron with CRON_SECRET)',
  security: bearer,
  middleware: [requireCron] as const,
  responses: { 200: jsonResponse(RetentionAnswer, 'What each task removed'), ...errors(401, 403) },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('logs', runtime);

  app.openapi(ingest, async (c) => {
    const rt = c.get('rt');
    const accepted = await insertClientLogs(
      await rt.db(),
      currentUser(c).id,
      c.get('requestId'),
      c.req.valid('json').entries,
      rt.now(),
    );
    return c.json({ accepted }, 202);
  });

  app.openapi(listLogs, async (c) => {
    const rt = c.get('rt');
    const q = c.req.valid('query');
    const db = await rt.db();
    const page = await listSystemLogs(db, { ...q, limit: q.limit ?? 50 });
    // Log entries carry users' ids and (scrubbed) client text: every read is on the record, naming
    // the user whose entries were asked for.
    await audit(db, {
      actorId: currentUser(c).id,
      action: 'admin.read',
      targetType: q.userId ? 'user' : 'system_logs',
      ...(q.userId ? { targetId: q.userId } : {}),
      requestId: c.get('requestId'),
      meta: { resource: 'system_logs', items: page.items.length },
    });
    return c.json(page, 200);
  });

  app.openapi(listAuditRoute, async (c) => {
    const rt = c.get('rt');
    const q = c.req.valid('query');
    const db = await rt.db();
    const page = await listAudit(db, { ...q, limit: q.limit ?? 50 });
    // Reading one person's activity is a read of their data; browsing the whole log is not recorded
    // (it would bury the log under its own reads).
    if (q.actorId) {
      await audit(db, {
        actorId: currentUser(c).id,
        action: 'admin.read',
        targetType: 'user',
        targetId: q.actorId,
        requestId: c.get('requestId'),
        meta: { resource: 'audit_log', items: page.items.length },
      });
    }
    return c.json(page, 200);
  });

  app.openapi(retention, async (c) => {
    const rt = c.get('rt');
    const ranAt = rt.now();
    const tasks = await runRetention(rt, { now: ranAt });
    return c.json({ ranAt: ranAt.toISOString(), tasks }, 200);
  });

  registerAdminComplaints(app);
  registerSteering(app);

  return app;
}

export default build();
