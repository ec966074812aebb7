// The user's side of the complaint channel (《生成式人工智能服务管理暂行办法》 Art. 15), mounted in
// the users function: file a complaint (about one of one's own messages, or the service) and follow
// its answer. Reading and filing need no consent, like reading one's own data.
import { createRoute, z } from '@hono/zod-openapi';
import {
  COMPLAINT_CATEGORIES,
  COMPLAINT_STATUSES,
  fileComplaint,
  listOwnComplaints,
} from '../../lib/compliance/complaints.js';
import type { App } from '../../lib/http/app.js';
import { currentUser, requireAuth } from '../../lib/http/auth.js';
import { bearer, errors, IsoDate, jsonBody, jsonResponse } from '../../lib/http/openapi.js';

export const ComplaintSchema = z
  .object({
    id: z.string(),
    messageId: z.string().nullable().openapi({
      description: 'the message complained about; null for the service as a whole, or once it was deleted',
    }),
    category: z.enum(COMPLAINT_CATEGORIES),
    description: z.string(),
    status: z.enum(COMPLAINT_STATUSES),
    resolution: z.string().nullable().openapi({ description: 'the answer, once given' }),
    createdAt: IsoDate,
    answerBy: IsoDate.openapi({
      description: 'when the answer is due (COMPLAINT_DEADLINE_DAYS after filing): show it to the user',
    }),
    resolvedAt: IsoDate.nullable(),
  })
  .openapi('Complaint');

export const NewComplaintSchema = z
  .strictObject({
    messageId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'one of the caller’s own messages' }),
    category: z.enum(COMPLAINT_CATEGORIES),
    description: z.string().trim().min(1).max(1000),
  })
  .openapi('NewComplaint');

const create = createRoute({
  method: 'post',
  path: '/me/complaints',
  tags: ['complaints'],
  summary: 'File a complaint about an answer or the service',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(NewComplaintSchema) },
  responses: {
    201: jsonResponse(
      ComplaintSchema.pick({ id: true, status: true, createdAt: true, answerBy: true }).openapi(
        'ComplaintFiled',
      ),
      'Filed',
    ),
    ...errors(400, 401, 404, 413, 415),
  },
});

const list = createRoute({
  method: 'get',
  path: '/me/complaints',
  tags: ['complaints'],
  summary: 'The caller’s complaints and their answers, newest first',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: {
    200: jsonResponse(z.object({ items: z.array(ComplaintSchema) }), 'The complaints'),
    ...errors(401),
  },
});

export function register(app: App): void {
  app.openapi(create, async (c) => {
    const rt = c.get('rt');
    const body = c.req.valid('json');
    const row = await fileComplaint(await rt.db(), {
      userId: currentUser(c).id,
      messageId: body.messageId,
      category: body.category,
      description: body.description,
      deadlineDays: rt.config.COMPLAINT_DEADLINE_DAYS,
      now: rt.now(),
      requestId: c.get('requestId'),
    });
    return c.json(
      {
        id: row.id,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        answerBy: row.answerBy.toISOString(),
      },
      201,
    );
  });

  app.openapi(list, async (c) => {
    const rt = c.get('rt');
    return c.json({ items: await listOwnComplaints(await rt.db(), currentUser(c).id) }, 200);
  });
}
