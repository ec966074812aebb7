// Family members (/users/me/members), mounted by the users function: each with its own health
// profile; deleting one deletes its conversations and lab reports.
import { createRoute, z } from '@hono/zod-openapi';
import { deleteConversationObjects } from '../../lib/conversations/delete.js';
import type { App } from '../../lib/http/app.js';
import { currentUser, requireAuth, requireConsent } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, IdParam, IsoDate, jsonBody, jsonResponse } from '../../lib/http/openapi.js';
import {
  createMember,
  deleteMemberRows,
  listMembers,
  toPublicMember,
  updateMember,
} from '../../lib/members/service.js';
import { BirthYearSchema, GenderSchema, HealthProfileSchema } from '../../lib/users/schemas.js';

const RelationSchema = z.enum(['self', 'child', 'parent', 'spouse', 'other']);

export const MemberSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    relation: RelationSchema,
    gender: GenderSchema.nullable(),
    birthYear: z.number().int().nullable(),
    healthProfile: z.union([HealthProfileSchema, z.null()]),
    guardianConsent: z
      .object({ version: z.string(), at: IsoDate })
      .nullable()
      .openapi({ description: 'the guardian’s consent for a member under 14 (PIPL Art. 31)' }),
    createdAt: IsoDate,
  })
  .openapi('Member');

const fields = {
  name: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .regex(/^[^\p{Cc}]*$/u),
  relation: RelationSchema,
  gender: GenderSchema.nullable().optional(),
  birthYear: BirthYearSchema,
  healthProfile: z.union([HealthProfileSchema, z.null()]).optional(),
  guardianConsent: z
    .boolean()
    .optional()
    .openapi({
      description:
        'true: the account holder, as guardian, consents to this member’s health data being processed; ' +
        'required when the member may be under 14 (born 14 or fewer years ago, Beijing time)',
    }),
};

const CreateMemberSchema = z.strictObject(fields).openapi('CreateMemberRequest');
const MemberPatchSchema = z
  .strictObject({ ...fields, name: fields.name.optional(), relation: fields.relation.optional() })
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' })
  .openapi('MemberPatch');

const list = createRoute({
  method: 'get',
  path: '/me/members',
  tags: ['members'],
  summary: 'The caller’s family members, oldest first',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: { 200: jsonResponse(z.object({ items: z.array(MemberSchema) }), 'Members'), ...errors(401) },
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
  app.openapi(list, async (c) => {
    const rt = c.get('rt');
    return c.json({ items: await listMembers(await rt.db(), currentUser(c).id) }, 200);
  });

  app.openapi(create, async (c) => {
    const row = await createMember(userCtx(c), c.req.valid('json'));
    return c.json(toPublicMember(row), 201);
  });

  app.openapi(patch, async (c) => {
    const input = { id: c.req.valid('param').id, patch: c.req.valid('json') };
    return c.json(toPublicMember(await updateMember(userCtx(c), input)), 200);
  });

  app.openapi(remove, async (c) => {
    const rt = c.get('rt');
    const objects = await deleteMemberRows(await rt.db(), currentUser(c).id, c.req.valid('param').id);
    await deleteConversationObjects(rt, objects);
    return c.body(null, 204);
  });
}
