// The user's side of the complaint channel (《生成式人工智能服务管理暂行办法》 Art. 15), mounted in
// the users function: file a complaint (about one of one's own messages, or the service) and follow
// its answer. Reading and filing need no consent, like reading one's own data.
import { createRoute } from '@hono/zod-openapi';
import { fileComplaint, listOwnComplaints } from '../../lib/compliance/complaints.js';
import {
  ComplaintFiledSchema,
  ComplaintListSchema,
  ComplaintSchema,
  NewComplaintSchema,
} from '../../lib/compliance/schemas.js';
import type { App } from '../../lib/http/app.js';
import { requireAuth } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, jsonBody, jsonResponse } from '../../lib/http/openapi.js';

export { ComplaintSchema, NewComplaintSchema };

const create = createRoute({
  method: 'post',
  path: '/me/complaints',
  tags: ['complaints'],
  summary: 'File a complaint about an answer or the service',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(NewComplaintSchema) },
  responses: {
    201: jsonResponse(ComplaintFiledSchema, 'Filed'),
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
    200: jsonResponse(ComplaintListSchema, 'The complaints'),
    ...errors(401),
  },
});

export function register(app: App): void {
  app.openapi(create, async (c) => c.json(await fileComplaint(userCtx(c), c.req.valid('json')), 201));

  app.openapi(list, async (c) => c.json({ items: await listOwnComplaints(userCtx(c)) }, 200));
}
