// The vision-chat function: a question about 1–4 uploaded images, answered like text-chat (same
// stream, storage and safety rules, the same engine) by VISION_MODEL.
import { createRoute, z } from '@hono/zod-openapi';
import { respondChat } from '../../lib/chat/http.js';
import { ChatContentSchema, ChatResponses, IdempotencyHeaders, StreamQuery } from '../../lib/chat/schemas.js';
import { type App, createApp } from '../../lib/http/app.js';
import { requireToken } from '../../lib/http/auth.js';
import { bearer, jsonBody } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';

const VisionChatBody = z
  .strictObject({
    conversationId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'omit to start a conversation' }),
    memberId: z.string().min(1).max(64).optional().openapi({
      description:
        'the family member a new conversation is about (404 if not the caller’s); with conversationId it must be that conversation’s member (422)',
    }),
    content: ChatContentSchema,
    imageIds: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(4)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an image')
      .openapi({ description: 'uploads the caller completed (POST /uploads/{id}/complete)' }),
  })
  .openapi('VisionChatRequest');

const chat = createRoute({
  method: 'post',
  path: '/',
  tags: ['chat'],
  summary: 'Ask about 1–4 uploaded images; the answer streams as server-sent events',
  description:
    'Every image must be the caller’s and ready: unknown or other users’ ids answer 404, images not ' +
    'completed, deleted or sent in another conversation 422, all before the model is asked.',
  security: bearer,
  // The account, its session and consent are checked by the turn's first statement (lib/chat/start.ts).
  middleware: [requireToken] as const,
  request: { query: StreamQuery, headers: IdempotencyHeaders, body: jsonBody(VisionChatBody) },
  responses: ChatResponses,
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('vision-chat', runtime);

  // The images are checked by the chat flow before any stream (404/422), after an idempotent replay.
  app.openapi(chat, (c) =>
    respondChat(c, {
      route: 'vision-chat',
      body: c.req.valid('json'),
      model: c.get('rt').config.VISION_MODEL,
      stream: c.req.valid('query').stream !== 'false',
      idempotencyKey: c.req.valid('header')['idempotency-key'],
    }),
  );

  return app;
}

export default build();
