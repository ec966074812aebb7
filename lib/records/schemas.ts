// The records routes' schemas: lab reports, their values and the indicators followed over time. One
// zod schema each validates, documents (OpenAPI) and types (z.infer) a shape; no HTTP here, so the
// services take their types from these.
import { z } from '@hono/zod-openapi';
import { IsoDate, pageOf } from '../schemas.js';

const Flag = z.enum(['high', 'low', 'normal', 'abnormal']).nullable();

export const MemberQuery = z
  .string()
  .min(1)
  .max(64)
  .optional()
  .openapi({ description: 'a family member’s; absent: the account holder’s own' });

export const LabItemSchema = z
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
export type LabItem = z.infer<typeof LabItemSchema>;

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
export type PublicLabReport = z.infer<typeof LabReportSchema>;

export const LabReportPageSchema = pageOf(LabReportSchema).openapi('LabReportPage');
export type LabReportPage = z.infer<typeof LabReportPageSchema>;

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
export type Indicator = z.infer<typeof IndicatorSchema>;

export const CreateLabReportBody = z
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
  .openapi('CreateLabReportRequest');
export type CreateLabReportInput = z.infer<typeof CreateLabReportBody>;

export const IndicatorQuery = z.object({
  memberId: MemberQuery,
  code: z.string().min(1).max(20).optional().openapi({ description: 'one standard code, e.g. GLU' }),
});
