// The complaint channel's schemas: a complaint as its author and as administrators see it, and the
// bodies that file and answer one. One zod schema each validates, documents (OpenAPI) and types
// (z.infer) it; no HTTP here, so the service takes its types from these.
import { z } from '@hono/zod-openapi';
import type { ComplaintCategory, ComplaintStatus } from '../db/schema.js';
import { IsoDate, pageOf } from '../schemas.js';

export const COMPLAINT_CATEGORIES = [
  'harmful',
  'inaccurate',
  'privacy',
  'other',
] as const satisfies readonly ComplaintCategory[];
export const COMPLAINT_STATUSES = [
  'open',
  'resolved',
  'rejected',
] as const satisfies readonly ComplaintStatus[];

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
export type PublicComplaint = z.infer<typeof ComplaintSchema>;

export const ComplaintListSchema = z.object({ items: z.array(ComplaintSchema) });

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
export type NewComplaint = z.infer<typeof NewComplaintSchema>;

export const ComplaintFiledSchema = ComplaintSchema.pick({
  id: true,
  status: true,
  createdAt: true,
  answerBy: true,
}).openapi('ComplaintFiled');
export type ComplaintFiled = z.infer<typeof ComplaintFiledSchema>;

export const AdminComplaintSchema = ComplaintSchema.extend({ userId: z.string() }).openapi('AdminComplaint');
export type AdminComplaint = z.infer<typeof AdminComplaintSchema>;

export const AdminComplaintPageSchema = pageOf(AdminComplaintSchema);
export type AdminComplaintPage = z.infer<typeof AdminComplaintPageSchema>;

export const ComplaintAnswerSchema = z
  .strictObject({
    status: z.enum(['resolved', 'rejected']),
    resolution: z.string().trim().min(1).max(1000),
  })
  .openapi('ComplaintAnswer');
export type ComplaintAnswer = z.infer<typeof ComplaintAnswerSchema>;
