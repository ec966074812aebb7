// The text-chat function: a question in, an answer streamed (SSE) or as one JSON document.
import { createRoute, z } from '@hono/zod-openapi';
import { respondChat } from '../../lib/chat/http.js';
import { ChatContentSchema, ChatResponses, IdempotencyHeaders, StreamQuery } from '../../lib/chat/schemas.js';
import { type App, createApp } from '../../lib/http/app.js';
import { requireToken } from '../../lib/http/auth.js';
import { bearer, jsonBody } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';

const TextChatBody = z
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
  })
  .openapi('TextChatRequest');

const chat = createRoute({
  method: 'post',
  path: '/',
  tags: ['chat'],
  summary: 'Ask a health question; the answer streams as server-sent events',
  security: bearer,
  // The account, its session and consent are checked by the turn's first statement (lib/chat/start.ts).
  middleware: [requireToken] as const,
  request: { query: StreamQuery, headers: IdempotencyHeaders, body: jsonBody(TextChatBody) },
  responses: ChatResponses,
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('text-chat', runtime);

  app.openapi(chat, (c) =>
    respondChat(c, {
      route: 'text-chat',
      body: c.req.valid('json'),
      model: c.get('rt').config.CHAT_MODEL,
      stream: c.req.valid('query').stream !== 'false',
      idempotencyKey: c.req.valid('header')['idempotency-key'],
    }),
  );

  return app;
}

export default build();
