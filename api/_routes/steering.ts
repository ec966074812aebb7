// Steering an answer, in the conversations function: its versions and the caller's feedback.
// (Regenerate itself is a chat route: it streams like text-chat.)
import { createRoute, z } from '@hono/zod-openapi';
import {
  deleteFeedback,
  FEEDBACK_COMMENT_MAX,
  FEEDBACK_RATINGS,
  FEEDBACK_REASONS,
  setFeedback,
} from '../../lib/conversations/feedback.js';
import { MessageSchema } from '../../lib/conversations/schemas.js';
import { listVersions } from '../../lib/conversations/versions.js';
import type { App } from '../../lib/http/app.js';
import { currentUser, requireAuth } from '../../lib/http/auth.js';
import { bearer, errors, IdParam, IsoDate, jsonBody, jsonResponse } from '../../lib/http/openapi.js';

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
    200: jsonResponse(z.object({ items: z.array(MessageSchema) }).openapi('MessageVersions'), 'The versions'),
    ...errors(401, 404, 422),
  },
});

export const FeedbackRequestSchema = z
  .strictObject({
    rating: z.enum(FEEDBACK_RATINGS),
    reason: z.enum(FEEDBACK_REASONS).optional(),
    comment: z.string().trim().max(FEEDBACK_COMMENT_MAX).optional(),
  })
  .openapi('FeedbackRequest');

export const FeedbackSchema = z
  .object({
    rating: z.enum(FEEDBACK_RATINGS),
    reason: z.enum(FEEDBACK_REASONS).nullable(),
    comment: z.string().nullable(),
    updatedAt: IsoDate,
  })
  .openapi('Feedback');

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
  app.openapi(versions, async (c) => {
    const rt = c.get('rt');
    const p = c.req.valid('param');
    const items = await listVersions(await rt.db(), currentUser(c).id, p.id, p.messageId);
    return c.json({ items }, 200);
  });

  app.openapi(putFeedback, async (c) => {
    const rt = c.get('rt');
    const p = c.req.valid('param');
    const body = c.req.valid('json');
    const stored = await setFeedback(
      await rt.db(),
      currentUser(c).id,
      p.id,
      p.messageId,
      // A blank comment is no comment.
      { ...body, comment: body.comment || undefined },
      rt.now(),
    );
    return c.json(stored, 200);
  });

  app.openapi(removeFeedback, async (c) => {
    const rt = c.get('rt');
    const p = c.req.valid('param');
    await deleteFeedback(await rt.db(), currentUser(c).id, p.id, p.messageId);
    return c.body(null, 204);
  });
}
