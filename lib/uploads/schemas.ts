// The uploads routes' schemas: the request for a signed form, the form, the completed image and an
// upload's metadata. One zod schema each validates, documents (OpenAPI) and types (z.infer) it; no
// HTTP here, so the service takes its types from these.
import { z } from '@hono/zod-openapi';
import { IsoDate } from '../schemas.js';

const PurposeSchema = z.enum(['chat-image', 'avatar']);

export const CreateUploadBody = z
  .strictObject({
    filename: z.string().trim().min(1).max(255),
    // Any string: a type we do not take answers 415, not 400.
    contentType: z.string().min(1).max(100).openapi({ example: 'image/jpeg' }),
    size: z.number().int().min(1).openapi({ description: 'bytes; over UPLOAD_MAX_BYTES answers 413' }),
    purpose: PurposeSchema,
  })
  .openapi('CreateUpload');
export type CreateUploadInput = z.infer<typeof CreateUploadBody>;

export const UploadTicketSchema = z
  .object({
    fileId: z.string(),
    method: z.literal('POST'),
    url: z.string().openapi({ description: 'the form action for wx.uploadFile' }),
    fields: z.record(z.string(), z.string()).openapi({
      description: 'sent as formData, unchanged, with the file under name "file"',
    }),
    expiresAt: IsoDate,
    maxBytes: z.number().int(),
    put: z
      .object({ url: z.string(), headers: z.record(z.string(), z.string()) })
      .openapi({ description: 'alternative: PUT the bytes to url with exactly these headers' }),
  })
  .openapi('UploadTicket');
export type UploadTicket = z.infer<typeof UploadTicketSchema>;

export const CompletedSchema = z
  .object({
    id: z.string(),
    status: z.literal('ready'),
    contentType: z.string(),
    size: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
  })
  .openapi('CompletedUpload');
export type CompletedUpload = z.infer<typeof CompletedSchema>;

export const UploadSchema = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'ready']),
    purpose: PurposeSchema,
    contentType: z.string(),
    size: z.number().int(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    createdAt: IsoDate,
    completedAt: IsoDate.nullable(),
    url: z.string().nullable().openapi({ description: 'short-lived read URL; null until ready' }),
    urlExpiresAt: IsoDate.nullable(),
  })
  .openapi('Upload');
export type UploadInfo = z.infer<typeof UploadSchema>;
