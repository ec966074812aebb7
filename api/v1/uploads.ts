// The uploads function: a signed form for wx.uploadFile to send an image straight to object
// storage, the check that makes it usable, and reading and deleting one's own files.
import { createRoute, z } from '@hono/zod-openapi';
import { type App, createApp } from '../../lib/http/app.js';
import { currentUser, requireAuth, requireConsent } from '../../lib/http/auth.js';
import { byUser, rateLimit } from '../../lib/http/limits.js';
import { bearer, errors, IdParam, IsoDate, jsonBody, jsonResponse } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { completeUpload, createUpload, deleteUpload, getUpload } from '../../lib/uploads/service.js';

const CreateUploadBody = z
  .strictObject({
    filename: z.string().trim().min(1).max(255),
    // Any string: a type we do not take answers 415, not 400.
    contentType: z.string().min(1).max(100).openapi({ example: 'image/jpeg' }),
    size: z.number().int().min(1).openapi({ description: 'bytes; over UPLOAD_MAX_BYTES answers 413' }),
    purpose: z.enum(['chat-image', 'avatar']),
  })
  .openapi('CreateUpload');

const UploadTicketSchema = z
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

const CompletedSchema = z
  .object({
    id: z.string(),
    status: z.literal('ready'),
    contentType: z.string(),
    size: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
  })
  .openapi('CompletedUpload');

const UploadSchema = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'ready']),
    purpose: z.enum(['chat-image', 'avatar']),
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

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['uploads'],
  summary: 'A signed form to upload one image straight to object storage',
  security: bearer,
  middleware: [requireAuth, requireConsent, rateLimit('upload:user', byUser)] as const,
  request: { body: jsonBody(CreateUploadBody) },
  responses: {
    201: jsonResponse(UploadTicketSchema, 'Upload form'),
    ...errors(400, 401, 403, 413, 415, 429, 503),
  },
});

const complete = createRoute({
  method: 'post',
  path: '/{id}/complete',
  tags: ['uploads'],
  summary: 'Check what was stored and make it usable',
  description:
    'Reads the stored bytes back: size must equal the declared size, the content must decode as a ' +
    'supported image. The image is re-encoded without EXIF/GPS metadata. Completing again answers the same.',
  security: bearer,
  middleware: [requireAuth, requireConsent] as const,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(CompletedSchema, 'Ready'),
    ...errors(401, 403, 404, 409, 422, 503),
  },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['uploads'],
  summary: 'An upload’s metadata and a short-lived read URL',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(UploadSchema, 'The upload'), ...errors(401, 404, 503) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['uploads'],
  summary: 'Delete an upload and its stored object',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404, 503) },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('uploads', runtime);

  app.openapi(create, async (c) => {
    const { contentType, size, purpose } = c.req.valid('json');
    const ticket = await createUpload(c.get('rt'), currentUser(c).id, { contentType, size, purpose });
    c.header('Cache-Control', 'no-store');
    return c.json(ticket, 201);
  });

  app.openapi(complete, async (c) => {
    const done = await completeUpload(c.get('rt'), currentUser(c).id, c.req.valid('param').id);
    return c.json(done, 200);
  });

  app.openapi(read, async (c) => {
    const info = await getUpload(c.get('rt'), currentUser(c).id, c.req.valid('param').id);
    c.header('Cache-Control', 'no-store');
    return c.json(info, 200);
  });

  app.openapi(remove, async (c) => {
    await deleteUpload(c.get('rt'), currentUser(c).id, c.req.valid('param').id);
    return c.body(null, 204);
  });

  return app;
}

export default build();
