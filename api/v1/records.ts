// The records function: lab reports (化验单) read from photos by the vision model, stored as values
// that can be followed over time (GET /records/indicators).
import { createRoute, z } from '@hono/zod-openapi';
import { type App, createApp } from '../../lib/http/app.js';
import { currentUser, requireAuth, requireConsent } from '../../lib/http/auth.js';
import { assertRateLimit } from '../../lib/http/limits.js';
import {
  bearer,
  errors,
  IdParam,
  IsoDate,
  jsonBody,
  jsonResponse,
  LimitQuery,
} from '../../lib/http/openapi.js';
import { acquireModelLease } from '../../lib/limits.js';
import { EXTRACTION_MAX_TOKENS } from '../../lib/records/extract.js';
import {
  createLabReport,
  deleteLabReport,
  getLabReport,
  indicators,
  listLabReports,
} from '../../lib/records/service.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';

const Flag = z.enum(['high', 'low', 'normal', 'abnormal']).nullable();
const MemberQuery = z
  .string()
  .min(1)
  .max(64)
  .optional()
  .openapi({ description: 'a family member’s; absent: the account holder’s own' });

const LabItemSchema = z
  .object({
    name: z.string(),
    code: z
      .string()
      .nullable()
      .openapi({ description: 'a standard abbreviation (GLU, HbA1c, ALT, WBC, …) where known' }),
    value: z.number().nullable(),
    valueText: z.string().nullable().openapi({ description: 'as printed' }),
    unit: z.string().nullable(),
    referenceRange: z.object({
      low: z.number().nullable(),
      high: z.number().nullable(),
      text: z.string().nullable(),
    }),
    flag: Flag.openapi({ description: 'the report’s own mark, else computed from the range' }),
  })
  .openapi('LabItem');

export const LabReportSchema = z
  .object({
    id: z.string(),
    memberId: z.string().nullable(),
    takenAt: z
      .string()
      .nullable()
      .openapi({ format: 'date', description: 'the day on the report, if printed' }),
    institution: z.string().nullable(),
    imageIds: z.array(z.string()),
    items: z.array(LabItemSchema),
    createdAt: IsoDate,
  })
  .openapi('LabReport');

export const IndicatorSchema = z
  .object({
    code: z.string().nullable(),
    name: z.string(),
    unit: z.string().nullable(),
    points: z.array(
      z.object({
        at: z
          .string()
          .openapi({ format: 'date', description: 'the report’s date, else the day it was stored' }),
        value: z.number().nullable(),
        valueText: z.string().nullable(),
        flag: Flag,
        reportId: z.string(),
      }),
    ),
  })
  .openapi('Indicator');

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
  request: {
    body: jsonBody(
      z
        .strictObject({
          imageIds: z
            .array(z.string().min(1).max(64))
            .min(1)
            .max(4)
            .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an image'),
          memberId: z
            .string()
            .min(1)
            .max(64)
            .optional()
            .openapi({ description: 'whose report; absent: the caller’s' }),
        })
        .openapi('CreateLabReportRequest'),
    ),
  },
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
    200: jsonResponse(
      z
        .object({ items: z.array(LabReportSchema), nextCursor: z.string().nullable() })
        .openapi('LabReportPage'),
      'A page',
    ),
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
  request: {
    query: z.object({
      memberId: MemberQuery,
      code: z.string().min(1).max(20).optional().openapi({ description: 'one standard code, e.g. GLU' }),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(IndicatorSchema) }), 'Indicators'),
    ...errors(400, 401, 404),
  },
});

/** Tokens one reading may use, reserved from the daily quota like a chat turn. */
const IMAGE_TOKEN_ESTIMATE = 1_000;
const PROMPT_ESTIMATE = 600;

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('records', runtime);

  app.openapi(create, async (c) => {
    const rt = c.get('rt');
    const user = currentUser(c);
    const body = c.req.valid('json');
    // A model call: the chat limits apply.
    await assertRateLimit(c, 'chat:user:minute', user.id);
    await assertRateLimit(c, 'chat:user:day', user.id);
    await assertRateLimit(c, 'global', 'all');
    const lease = await acquireModelLease(
      rt,
      user,
      PROMPT_ESTIMATE + body.imageIds.length * IMAGE_TOKEN_ESTIMATE + EXTRACTION_MAX_TOKENS,
    );
    let used = 0;
    try {
      const { report, usage } = await createLabReport(rt, user.id, body, c.req.raw.signal);
      used = usage ? usage.promptTokens + usage.completionTokens : 0;
      rt.log.info(
        { requestId: c.get('requestId'), reportId: report.id, items: report.items.length },
        'lab report read',
      );
      return c.json(report, 201);
    } finally {
      await lease.finish(used);
    }
  });

  app.openapi(list, async (c) => {
    const rt = c.get('rt');
    const result = await listLabReports(await rt.db(), currentUser(c).id, c.req.valid('query'));
    return c.json(result, 200);
  });

  app.openapi(read, async (c) => {
    const rt = c.get('rt');
    return c.json(await getLabReport(await rt.db(), currentUser(c).id, c.req.valid('param').id), 200);
  });

  app.openapi(remove, async (c) => {
    await deleteLabReport(c.get('rt'), currentUser(c).id, c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(trend, async (c) => {
    const rt = c.get('rt');
    return c.json({ items: await indicators(await rt.db(), currentUser(c).id, c.req.valid('query')) }, 200);
  });

  return app;
}

export default build();
