// The administrators' side of the complaint channel, mounted in the logs function: every user's
// complaints, and the answer to one. Reading complaints is reading users' words: every list is
// audited as admin.read, every answer as complaint.resolve (in the same transaction).
import { createRoute, z } from '@hono/zod-openapi';
import { audit } from '../../lib/audit.js';
import { COMPLAINT_STATUSES, listComplaints, resolveComplaint } from '../../lib/compliance/complaints.js';
import type { App } from '../../lib/http/app.js';
import { currentUser, requireAdmin, requireAuth } from '../../lib/http/auth.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import { ComplaintSchema } from './complaints.js';

const AdminComplaintSchema = ComplaintSchema.extend({ userId: z.string() }).openapi('AdminComplaint');

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
    200: jsonResponse(
      z.object({ items: z.array(AdminComplaintSchema), nextCursor: z.string().nullable() }),
      'A page of complaints',
    ),
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
    body: jsonBody(
      z
        .strictObject({
          status: z.enum(['resolved', 'rejected']),
          resolution: z.string().trim().min(1).max(1000),
        })
        .openapi('ComplaintAnswer'),
    ),
  },
  responses: {
    200: jsonResponse(AdminComplaintSchema, 'Answered'),
    ...errors(400, 401, 403, 404, 409, 413, 415),
  },
});

export function register(app: App): void {
  app.openapi(list, async (c) => {
    const rt = c.get('rt');
    const q = c.req.valid('query');
    const db = await rt.db();
    const page = await listComplaints(db, { ...q, limit: q.limit ?? 50 });
    await audit(db, {
      actorId: currentUser(c).id,
      action: 'admin.read',
      targetType: 'complaints',
      requestId: c.get('requestId'),
      meta: { resource: 'complaints', items: page.items.length },
    });
    return c.json(page, 200);
  });

  app.openapi(answer, async (c) => {
    const rt = c.get('rt');
    const body = c.req.valid('json');
    const row = await resolveComplaint(await rt.db(), {
      id: c.req.valid('param').id,
      adminId: currentUser(c).id,
      status: body.status,
      resolution: body.resolution,
      now: rt.now(),
      requestId: c.get('requestId'),
    });
    return c.json(row, 200);
  });
}
