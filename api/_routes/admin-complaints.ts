// The administrators' side of the complaint channel, mounted in the logs function: every user's
// complaints, and the answer to one. Reading complaints is reading users' words: every list is
// audited as admin.read, every answer as complaint.resolve, each in the transaction of its read or
// change (lib/compliance/complaints.ts).
import { createRoute, z } from '@hono/zod-openapi';
import { readComplaints, resolveComplaint } from '../../lib/compliance/complaints.js';
import {
  AdminComplaintPageSchema,
  AdminComplaintSchema,
  COMPLAINT_STATUSES,
  ComplaintAnswerSchema,
} from '../../lib/compliance/schemas.js';
import type { App } from '../../lib/http/app.js';
import { requireAdmin, requireAuth } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';

const list = createRoute({
  method: 'get',
  path: '/complaints',
  tags: ['complaints'],
  summary: 'Every user’s complaints, newest first (admins)',
  security: bearer,
  middleware: [requireAuth, requireAdmin] as const,
  request: {
    query: z.object({
      status: z.enum(COMPLAINT_STATUSES).optional(),
      cursor: z.string().min(1).max(200).optional(),
      limit: LimitQuery(50).optional(),
    }),
  },
  responses: {
    200: jsonResponse(AdminComplaintPageSchema, 'A page of complaints'),
    ...errors(400, 401, 403),
  },
});

const answer = createRoute({
  method: 'patch',
  path: '/complaints/{id}',
  tags: ['complaints'],
  summary: 'Answer a complaint (admins); a complaint is answered once',
  security: bearer,
  middleware: [requireAuth, requireAdmin] as const,
  request: {
    params: IdParam,
    body: jsonBody(ComplaintAnswerSchema),
  },
  responses: {
    200: jsonResponse(AdminComplaintSchema, 'Answered'),
    ...errors(400, 401, 403, 404, 409, 413, 415),
  },
});

export function register(app: App): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await readComplaints(userCtx(c), { ...q, limit: q.limit ?? 50 }), 200);
  });

  app.openapi(answer, async (c) => {
    const input = { ...c.req.valid('json'), id: c.req.valid('param').id };
    return c.json(await resolveComplaint(userCtx(c), input), 200);
  });
}
