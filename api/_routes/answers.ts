// An answer after its request: follow it from an offset (resume), or stop it. Both work from any
// instance: the answer belongs to the server, not to the connection that asked for it.
import { createRoute, z } from '@hono/zod-openapi';
import { startRegeneration } from '../../lib/chat/flow.js';
import { stopAnswer } from '../../lib/chat/follow.js';
import { chatCtx, respondResume, respondTurn } from '../../lib/chat/http.js';
import { ChatResponses, ChatStreamSchema, IdempotencyHeaders, StreamQuery } from '../../lib/chat/schemas.js';
import { toPublicMessage } from '../../lib/conversations/messages.js';
import { MessageSchema } from '../../lib/conversations/schemas.js';
import type { App } from '../../lib/http/app.js';
import { requireAuth, requireConsent } from '../../lib/http/auth.js';
import { userCtx } from '../../lib/http/context.js';
import { bearer, errors, idParam, jsonResponse } from '../../lib/http/openapi.js';

// Server-made UUIDs: anything else answers 404 like an unknown id (lib/http/openapi.ts).
const AnswerParams = z.object({ id: idParam('id'), messageId: idParam('messageId') });

const Offset = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a whole number')
  .optional()
  .openapi({ description: 'how many characters (UTF-16 code units) of the answer the client already has' });

const stream = createRoute({
  method: 'get',
  path: '/{id}/messages/{messageId}/stream',
  tags: ['chat'],
  summary: 'Follow an answer from an offset (resume after the connection dropped)',
  description:
    'meta, triage if any, then delta events with the text from `after` on (what exists at once, the rest ' +
    'as it is written), then done or error exactly as the original stream ends. Every event carries ' +
    '`id:` = the answer offset after it. `Last-Event-ID` may stand for `after`. An offset past a finished ' +
    'answer is 400.',
  security: bearer,
  middleware: [requireAuth] as const,
  request: {
    params: AnswerParams,
    query: z.object({ after: Offset }),
    headers: z.object({ 'last-event-id': Offset }),
  },
  responses: {
    200: {
      description: 'The answer as server-sent events',
      content: { 'text/event-stream': { schema: ChatStreamSchema } },
    },
    ...errors(400, 401, 404),
  },
});

const stop = createRoute({
  method: 'post',
  path: '/{id}/messages/{messageId}/stop',
  tags: ['chat'],
  summary: 'Stop an answer being written',
  description:
    'Writing stops within a second wherever it runs; the message keeps what was written (incomplete, ' +
    'finishReason "stopped") and its open streams end with done. A finished answer is answered as it is.',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: AnswerParams },
  responses: { 200: jsonResponse(MessageSchema, 'The message as stored'), ...errors(401, 404) },
});

const regenerate = createRoute({
  method: 'post',
  path: '/{id}/messages/{messageId}/regenerate',
  tags: ['chat'],
  summary: 'A new answer to the same question; the earlier one is kept as an earlier version',
  description:
    'Streamed like POST /text-chat (`?stream=false` answers JSON), with the same Idempotency-Key, limits, ' +
    'quota, triage and content security. The question and its images are the stored ones. Only the ' +
    'conversation’s last answer can be regenerated (409), and not while it is being written (409); a user ' +
    'message is 422.',
  security: bearer,
  middleware: [requireAuth, requireConsent] as const,
  request: { params: AnswerParams, query: StreamQuery, headers: IdempotencyHeaders },
  responses: ChatResponses,
});

export function register(app: App): void {
  app.openapi(regenerate, async (c) => {
    const { id, messageId } = c.req.valid('param');
    const start = await startRegeneration(chatCtx(c), {
      conversationId: id,
      messageId,
      idempotencyKey: c.req.valid('header')['idempotency-key'],
    });
    return respondTurn(c, start, c.req.valid('query').stream !== 'false');
  });
  app.openapi(stream, (c) => {
    const { id, messageId } = c.req.valid('param');
    const after = c.req.valid('query').after ?? c.req.valid('header')['last-event-id'] ?? '0';
    return respondResume(c, id, messageId, Number(after));
  });
  app.openapi(stop, async (c) => {
    const { id, messageId } = c.req.valid('param');
    const row = await stopAnswer(userCtx(c), { conversationId: id, messageId });
    return c.json(toPublicMessage(row), 200);
  });
}
