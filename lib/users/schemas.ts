// The account's schemas: the person fields it shares with family members, the request bodies and
// the answers of the users routes. One zod schema each validates, documents (OpenAPI) and types
// (z.infer) it; no HTTP here, so the services take their types from these.
import { z } from '@hono/zod-openapi';
import { IsoDate } from '../schemas.js';

export const HealthProfileSchema = z
  .strictObject({
    allergies: z.array(z.string().trim().min(1).max(100)).max(50),
    conditions: z.array(z.string().trim().min(1).max(100)).max(50),
    medications: z.array(z.string().trim().min(1).max(100)).max(50),
  })
  .openapi('HealthProfile');

export const GenderSchema = z.enum(['male', 'female', 'other', 'unknown']);

/** A year of birth as a patch gives it: null clears it; the current-year bound is checked by the caller. */
export const BirthYearSchema = z
  .number()
  .int()
  .min(1900)
  .nullable()
  .optional()
  .openapi({ description: '1900 to the current year' });

export const UserSchema = z
  .object({
    id: z.string(),
    nickname: z.string().nullable(),
    avatarFileId: z.string().nullable(),
    gender: GenderSchema.nullable(),
    birthYear: z.number().int().nullable(),
    healthProfile: z.union([HealthProfileSchema, z.null()]),
    role: z.enum(['user', 'admin']),
    consent: z.object({
      required: z.boolean(),
      currentVersion: z.string(),
      acceptedVersion: z.string().nullable(),
      text: z.string().nullable().openapi({
        description:
          'The consent text of this deployment (CONSENT_TEXT), shown before accepting; null when the app ships its own',
      }),
      crossBorderTransfer: z.string().nullable().openapi({
        description:
          'When personal information leaves mainland China (CONSENT_CROSS_BORDER): who receives it, where, for what and how to exercise rights; the app asks for it as a separate consent. null: no cross-border transfer',
      }),
    }),
    createdAt: IsoDate,
  })
  .openapi('User');
export type PublicUser = z.infer<typeof UserSchema>;

export const LoginBody = z.strictObject({ code: z.string().min(1).max(200) });

export const TokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().openapi({ description: 'access token lifetime in seconds' }),
});
export const LoginAnswerSchema = TokenPairSchema.extend({ user: UserSchema }).openapi('LoginAnswer');
export type LoginAnswer = z.infer<typeof LoginAnswerSchema>;

export const RefreshBody = z.strictObject({ refreshToken: z.string().min(16).max(200) });

export const ConsentSchema = z
  .object({ id: z.string(), version: z.string(), accepted: z.boolean(), createdAt: IsoDate })
  .openapi('Consent');
export type ConsentRecord = z.infer<typeof ConsentSchema>;

export const ConsentBody = z.strictObject({ version: z.string().min(1).max(64), accepted: z.boolean() });

// Fields given replace their old values; null clears one; unknown fields are refused (strict).
export const ProfilePatchSchema = z
  .strictObject({
    nickname: z
      .string()
      .trim()
      .min(1)
      .max(32)
      .regex(/^[^\p{Cc}]*$/u)
      .nullable()
      .optional(),
    avatarFileId: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .optional()
      .openapi({ description: 'a ready file the caller uploaded with purpose "avatar"' }),
    gender: GenderSchema.nullable().optional(),
    birthYear: BirthYearSchema,
    healthProfile: z.union([HealthProfileSchema, z.null()]).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' })
  .openapi('ProfilePatch');
export type ProfilePatch = z.infer<typeof ProfilePatchSchema>;

/** The export document: written piece by piece by export.ts, described here. */
export const ExportSchema = z
  .object({
    format: z.literal('health-assistant-export'),
    version: z.literal(1),
    exportedAt: IsoDate,
    user: z.record(z.string(), z.unknown()),
    consents: z.array(z.record(z.string(), z.unknown())),
    conversations: z.array(z.record(z.string(), z.unknown())),
    messages: z.array(z.record(z.string(), z.unknown())).openapi({
      description:
        'AI answers carry the visible label `aiLabel` ("本内容由人工智能生成") and the implicit one, `aigc`',
    }),
    feedback: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: 'the caller’s ratings of answers' }),
    members: z.array(z.record(z.string(), z.unknown())),
    labReports: z.array(z.record(z.string(), z.unknown())),
    files: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'file metadata; `url` is a short-lived read link (until `urlExpiresAt`) for ready files',
    }),
    usage: z.array(z.record(z.string(), z.unknown())),
    complaints: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('UserExport');
