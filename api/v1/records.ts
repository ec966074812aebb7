// The records function: lab reports (化验单) read from photos by the vision model, stored as values
// that can be followed over time (GET /records/indicators).
import { createRoute, z } from '@hono/zod-openapi';
import { type App, createApp } from '../../lib/http/app.js';
import { requireAuth, requireConsent } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { showLimit } from '../../lib/http/limits.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import {
  CreateLabReportBody,
  IndicatorQuery,
  IndicatorSchema,
  LabReportPageSchema,
  LabReportSchema,
  MemberQuery,
} from '../../lib/records/schemas.js';
import {
  createLabReport,
  deleteLabReport,
  getLabReport,
  indicators,
  listLabReports,
} from '../../lib/records/service.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';

export { IndicatorSchema, LabReportSchema };

const create = createRoute({
  method: 'post',
  path: '/lab-reports',
  tags: ['records'],
  summary: 'Read a lab report from 1–4 uploaded photos and store its values',
  description:
    'The images must be the caller’s completed uploads, not yet sent in a chat nor read into another ' +
    'report. Not a lab report: 422; the model failed or its answer was unreadable: 502 (504 on timeout); ' +
    'nothing is stored on failure.',
  security: bearer,
  middleware: [requireAuth, requireConsent] as const,
  request: { body: jsonBody(CreateLabReportBody) },
  responses: {
    201: jsonResponse(LabReportSchema, 'Read and stored'),
    ...errors(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504),
  },
});

const list = createRoute({
  method: 'get',
  path: '/lab-reports',
  tags: ['records'],
  summary: 'Lab reports, newest first',
  security: bearer,
  middleware: [requireAuth] as const,
  request: {
    query: z.object({
      memberId: MemberQuery,
      cursor: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .openapi({ description: 'the previous page’s nextCursor' }),
      limit: LimitQuery(),
    }),
  },
  responses: {
    200: jsonResponse(LabReportPageSchema, 'A page'),
    ...errors(400, 401, 404),
  },
});

const read = createRoute({
  method: 'get',
  path: '/lab-reports/{id}',
  tags: ['records'],
  summary: 'One lab report',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(LabReportSchema, 'The report'), ...errors(401, 404) },
});

const remove = createRoute({
  method: 'delete',
  path: '/lab-reports/{id}',
  tags: ['records'],
  summary: 'Delete a lab report with its values and photos',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

const trend = createRoute({
  method: 'get',
  path: '/indicators',
  tags: ['records'],
  summary: 'Each indicator’s values over time, oldest first',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { query: IndicatorQuery },
  responses: {
    200: jsonResponse(z.object({ items: z.array(IndicatorSchema) }), 'Indicators'),
    ...errors(400, 401, 404),
  },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('records', runtime);

  app.openapi(create, async (c) => {
    const { report, limits } = await createLabReport(userCtx(c), c.req.valid('json'));
    for (const l of limits) showLimit(c, l);
    return c.json(report, 201);
  });

  app.openapi(list, async (c) => c.json(await listLabReports(userCtx(c), c.req.valid('query')), 200));

  app.openapi(read, async (c) => c.json(await getLabReport(userCtx(c), c.req.valid('param')), 200));

  app.openapi(remove, async (c) => {
    await deleteLabReport(userCtx(c), c.req.valid('param'));
    return c.body(null, 204);
  });

  app.openapi(trend, async (c) => c.json({ items: await indicators(userCtx(c), c.req.valid('query')) }, 200));

  return app;
}

export default build();
