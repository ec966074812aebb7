// The logs function: the mini-program's log ingestion, the admins' system and audit log queries,
// and the daily retention job (Vercel cron).
import { createRoute, z } from '@hono/zod-openapi';
import { type App, createApp } from '../../lib/http/app.js';
import { requireAdmin, requireAuth } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { requireCron } from '../../lib/http/cron.js';
import { byUser, rateLimit } from '../../lib/http/limits.js';
import { bearer, errors, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import {
  AuditPageSchema,
  IngestBody,
  LevelSchema,
  RetentionAnswerSchema,
  SystemLogPageSchema,
} from '../../lib/logs/schemas.js';
import { insertClientLogs, readAuditLog, readSystemLogs } from '../../lib/logs/service.js';
import { runRetention } from '../../lib/retention/index.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { register as registerAdminComplaints } from '../_routes/admin-complaints.js';
import { register as registerSteering } from '../_routes/steering-logs.js';

const ingest = createRoute({
  method: 'post',
  path: '/',
  tags: ['logs'],
  summary: 'Log entries from the mini-program (scrubbed of phone numbers, ids and secrets)',
  security: bearer,
  middleware: [requireAuth, rateLimit('logs:user', byUser)] as const,
  request: { body: jsonBody(IngestBody) },
  responses: {
    202: jsonResponse(z.object({ accepted: z.number().int() }), 'Stored'),
    ...errors(400, 401, 413, 415, 429),
  },
});

const limit = LimitQuery(50);
const time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const id = z.string().min(1).max(128);

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
    200: jsonResponse(SystemLogPageSchema, 'A page of entries'),
    ...errors(400, 401, 403),
  },
});

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
    200: jsonResponse(AuditPageSchema, 'A page of records'),
    ...errors(400, 401, 403),
  },
});

const retention = createRoute({
  method: 'get',
  path: '/retention',
  tags: ['logs'],
  summary: 'Run the retention job (Vercel cron with CRON_SECRET)',
  security: bearer,
  middleware: [requireCron] as const,
  responses: { 200: jsonResponse(RetentionAnswerSchema, 'What each task removed'), ...errors(401, 403) },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('logs', runtime);

  app.openapi(ingest, async (c) => {
    const accepted = await insertClientLogs(userCtx(c), c.req.valid('json'));
    return c.json({ accepted }, 202);
  });

  app.openapi(listLogs, async (c) => {
    const q = c.req.valid('query');
    return c.json(await readSystemLogs(userCtx(c), { ...q, limit: q.limit ?? 50 }), 200);
  });

  app.openapi(listAuditRoute, async (c) => {
    const q = c.req.valid('query');
    return c.json(await readAuditLog(userCtx(c), { ...q, limit: q.limit ?? 50 }), 200);
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
