// The uploads function: a signed form for wx.uploadFile to send an image straight to object
// storage, the check that makes it usable, and reading and deleting one's own files.
import { createRoute } from '@hono/zod-openapi';
import { type App, createApp } from '../../lib/http/app.js';
import { requireAuth, requireConsent } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { byUser, rateLimit } from '../../lib/http/limits.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import {
  CompletedSchema,
  CreateUploadBody,
  UploadSchema,
  UploadTicketSchema,
} from '../../lib/uploads/schemas.js';
import { completeUpload, createUpload, deleteUpload, getUpload } from '../../lib/uploads/service.js';

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
    const ticket = await createUpload(userCtx(c), c.req.valid('json'));
    c.header('Cache-Control', 'no-store');
    return c.json(ticket, 201);
  });

  app.openapi(complete, async (c) => c.json(await completeUpload(userCtx(c), c.req.valid('param')), 200));

  app.openapi(read, async (c) => {
    const info = await getUpload(userCtx(c), c.req.valid('param'));
    c.header('Cache-Control', 'no-store');
    return c.json(info, 200);
  });

  app.openapi(remove, async (c) => {
    await deleteUpload(userCtx(c), c.req.valid('param'));
    return c.body(null, 204);
  });

  return app;
}

export default build();
