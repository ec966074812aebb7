// Steering an answer, in the logs function: the admins' view of ratings and of model usage and cost.
import { createRoute, z } from '@hono/zod-openapi';
import { FEEDBACK_RATINGS, readFeedback } from '../../lib/conversations/feedback.js';
import { FeedbackLogPageSchema } from '../../lib/conversations/schemas.js';
import type { App } from '../../lib/http/app.js';
import { requireAdmin, requireAuth } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import { UsageReportSchema } from '../../lib/logs/schemas.js';
import { usageReport } from '../../lib/logs/usage.js';

const time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

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
    200: jsonResponse(FeedbackLogPageSchema, 'A page of ratings'),
    ...errors(400, 401, 403),
  },
});

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
    200: jsonResponse(UsageReportSchema, 'The report'),
    ...errors(400, 401, 403),
  },
});

export function register(app: App): void {
  app.openapi(feedback, async (c) => {
    const q = c.req.valid('query');
    return c.json(await readFeedback(userCtx(c), { ...q, limit: q.limit ?? 50 }), 200);
  });

  app.openapi(usage, async (c) =>
    c.json({ items: await usageReport(userCtx(c), c.req.valid('query')) }, 200),
  );
}
