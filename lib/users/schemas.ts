// The person fields shared by the account (users) and its family members.
import { z } from '@hono/zod-openapi';

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
