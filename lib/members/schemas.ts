// Family members' schemas: the member as answered, and the bodies that create and change one. One
// zod schema each validates, documents (OpenAPI) and types (z.infer) it; no HTTP here, so the
// service takes its types from these.
import { z } from '@hono/zod-openapi';
import { IsoDate } from '../schemas.js';
import { BirthYearSchema, GenderSchema, HealthProfileSchema } from '../users/schemas.js';

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
export type PublicMember = z.infer<typeof MemberSchema>;

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

export const CreateMemberSchema = z.strictObject(fields).openapi('CreateMemberRequest');
export type MemberInput = z.infer<typeof CreateMemberSchema>;

export const MemberPatchSchema = z
  .strictObject({ ...fields, name: fields.name.optional(), relation: fields.relation.optional() })
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' })
  .openapi('MemberPatch');
export type MemberPatch = z.infer<typeof MemberPatchSchema>;

export const MemberListSchema = z.object({ items: z.array(MemberSchema) });
