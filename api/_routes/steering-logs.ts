// Steering an answer, in the logs function: the admins' view of ratings and of model usage and cost.
import { createRoute, z } from '@hono/zod-openapi';
import { audit } from '../../lib/audit.js';
import { FEEDBACK_RATINGS, FEEDBACK_REASONS, listFeedback } from '../../lib/conversations/feedback.js';
import type { App } from '../../lib/http/app.js';
import { currentUser, requireAdmin, requireAuth } from '../../lib/http/auth.js';
import { bearer, errors, IsoDate, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import { usageReport } from '../../lib/logs/usage.js';

const time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const FeedbackLogItem = z
  .object({
    messageId: z.string(),
    rating: z.enum(FEEDBACK_RATINGS),
    reason: z.enum(FEEDBACK_REASONS).nullable(),
    comment: z.string().nullable(),
    model: z.string().nullable(),
    createdAt: IsoDate,
  })
  .openapi('FeedbackLogEntry');

const feedback = createRoute({
  method: 'get',
  path: '/feedback',
  tags: ['logs'],
  summary: 'Ratings of answers, newest first, without conversation text (admins)',
  security: bearer,
  middleware: [requireAuth, requireAdmin] as const,
  request: {
    query: z.object({
      rating: z.enum(FEEDBACK_RATINGS).optional(),
      since: time.optional(),
      until: time.optional(),
      cursor: z.string().max(200).optional(),
      limit: LimitQuery(50).optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(FeedbackLogItem), nextCursor: z.string().nullable() }),
      'A page of ratings',
    ),
    ...errors(400, 401, 403),
  },
});

const UsageItem = z
  .object({
    day: z.string().optional().openapi({ description: 'groupBy=day: the Asia/Shanghai day, YYYY-MM-DD' }),
    model: z.string().nullable().optional().openapi({ description: 'groupBy=model' }),
    requests: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    costCny: z.number().openapi({ description: 'at MODEL_PRICES when each answer was stored' }),
  })
  .openapi('UsageReportRow');

const usage = createRoute({
  method: 'get',
  path: '/usage',
  tags: ['logs'],
  summary: 'Model answers, tokens and cost in CNY, by day or by model (admins)',
  security: bearer,
  middleware: [requireAuth, requireAdmin] as const,
  request: {
    query: z.object({
      since: time.optional(),
      until: time.optional(),
      groupBy: z.enum(['day', 'model']).default('day'),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(UsageItem) }), 'The report'),
    ...errors(400, 401, 403),
  },
});

export function register(app: App): void {
  app.openapi(feedback, async (c) => {
    const rt = c.get('rt');
    const q = c.req.valid('query');
    const db = await rt.db();
    const page = await listFeedback(db, { ...q, limit: q.limit ?? 50 });
    // Comments are users' own words: reads are on the record, like the system log's.
    await audit(db, {
      actorId: currentUser(c).id,
      action: 'admin.read',
      targetType: 'message_feedback',
      requestId: c.get('requestId'),
      meta: { resource: 'message_feedback', items: page.items.length },
    });
    return c.json(page, 200);
  });

  app.openapi(usage, async (c) => {
    const rt = c.get('rt');
    const items = await usageReport(await rt.db(), c.req.valid('query'));
    return c.json({ items }, 200);
  });
}
