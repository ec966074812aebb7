// Steering an answer, in the conversations function: its versions and the caller's feedback.
// (Regenerate itself is a chat route: it streams like text-chat.)
import { createRoute, z } from '@hono/zod-openapi';
import { deleteFeedback, setFeedback } from '../../lib/conversations/feedback.js';
import {
  FeedbackRequestSchema,
  FeedbackSchema,
  MessageVersionsSchema,
} from '../../lib/conversations/schemas.js';
import { listVersions } from '../../lib/conversations/versions.js';
import type { App } from '../../lib/http/app.js';
import { requireAuth } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse } from '../../lib/http/openapi.js';

export { FeedbackRequestSchema, FeedbackSchema };

const MessageParams = IdParam.extend({
  messageId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'messageId', in: 'path' } }),
});

const versions = createRoute({
  method: 'get',
  path: '/{id}/messages/{messageId}/versions',
  tags: ['conversations'],
  summary: 'Every version of an answer (regenerated ones kept), oldest first',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: MessageParams },
  responses: {
    200: jsonResponse(MessageVersionsSchema, 'The versions'),
    ...errors(401, 404, 422),
  },
});

const putFeedback = createRoute({
  method: 'put',
  path: '/{id}/messages/{messageId}/feedback',
  tags: ['conversations'],
  summary: 'Rate an answer (replaces an earlier rating)',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: MessageParams, body: jsonBody(FeedbackRequestSchema) },
  responses: {
    200: jsonResponse(FeedbackSchema, 'Stored'),
    ...errors(400, 401, 404, 413, 415, 422),
  },
});

const removeFeedback = createRoute({
  method: 'delete',
  path: '/{id}/messages/{messageId}/feedback',
  tags: ['conversations'],
  summary: 'Remove the rating of an answer',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: MessageParams },
  responses: { 204: { description: 'Removed' }, ...errors(401, 404, 422) },
});

export function register(app: App): void {
  app.openapi(versions, async (c) =>
    c.json({ items: await listVersions(userCtx(c), c.req.valid('param')) }, 200),
  );

  app.openapi(putFeedback, async (c) => {
    const input = { ...c.req.valid('param'), ...c.req.valid('json') };
    return c.json(await setFeedback(userCtx(c), input), 200);
  });

  app.openapi(removeFeedback, async (c) => {
    await deleteFeedback(userCtx(c), c.req.valid('param'));
    return c.body(null, 204);
  });
}
