// Family members (/users/me/members), mounted by the users function: each with its own health
// profile; deleting one deletes its conversations and lab reports.
import { createRoute } from '@hono/zod-openapi';
import type { App } from '../../lib/http/app.js';
import { requireAuth, requireConsent } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse } from '../../lib/http/openapi.js';
import {
  CreateMemberSchema,
  MemberListSchema,
  MemberPatchSchema,
  MemberSchema,
} from '../../lib/members/schemas.js';
import { createMember, deleteMember, listMembers, updateMember } from '../../lib/members/service.js';

export { MemberSchema };

const list = createRoute({
  method: 'get',
  path: '/me/members',
  tags: ['members'],
  summary: 'The caller’s family members, oldest first',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: { 200: jsonResponse(MemberListSchema, 'Members'), ...errors(401) },
});

const create = createRoute({
  method: 'post',
  path: '/me/members',
  tags: ['members'],
  summary: 'Add a family member (at most 10)',
  description: 'A member under 14 needs guardianConsent: true (422 otherwise); an 11th member answers 409.',
  security: bearer,
  middleware: [requireAuth, requireConsent] as const,
  request: { body: jsonBody(CreateMemberSchema) },
  responses: {
    201: jsonResponse(MemberSchema, 'Added'),
    ...errors(400, 401, 403, 409, 413, 415, 422),
  },
});

const patch = createRoute({
  method: 'patch',
  path: '/me/members/{id}',
  tags: ['members'],
  summary: 'Change a family member: fields given replace their values',
  security: bearer,
  middleware: [requireAuth, requireConsent] as const,
  request: { params: IdParam, body: jsonBody(MemberPatchSchema) },
  responses: {
    200: jsonResponse(MemberSchema, 'Updated'),
    ...errors(400, 401, 403, 404, 413, 415, 422),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/me/members/{id}',
  tags: ['members'],
  summary: 'Delete a family member with their conversations and lab reports',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

export function register(app: App): void {
  app.openapi(list, async (c) => c.json({ items: await listMembers(userCtx(c)) }, 200));

  app.openapi(create, async (c) => c.json(await createMember(userCtx(c), c.req.valid('json')), 201));

  app.openapi(patch, async (c) => {
    const input = { id: c.req.valid('param').id, patch: c.req.valid('json') };
    return c.json(await updateMember(userCtx(c), input), 200);
  });

  app.openapi(remove, async (c) => {
    await deleteMember(userCtx(c), c.req.valid('param'));
    return c.body(null, 204);
  });
}
