// Request and response pieces shared by the chat routes' schemas. ChatResultSchema lives with the
// message shapes (lib/conversations/schemas.ts) so the chat services can take its type.
export { ChatResultSchema };

import { z } from '@hono/zod-openapi';
import { ChatResultSchema } from '../conversations/schemas.js';
import { errors } from '../http/openapi.js';
import { IDEMPOTENCY_KEY } from './idempotency.js';

/** The question, shared by text-chat and vision-chat. */
export const ChatContentSchema = z.string().min(1).max(4000).regex(/\S/, 'must not be blank');

export const ChatStreamSchema = z.string().openapi({
  description:
    'Server-sent events: `meta` first; `triage` when the question shows emergency signs; any number of ' +
    '`delta` ({ text }); exactly one `done` ({ assistantMessageId, finishReason, usage, disclaimer? }) or ' +
    '`error` ({ code, message, assistantMessageId? }) last; `: ping` comments keep an idle stream alive.',
});

export const StreamQuery = z.object({
  stream: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'false: answer one JSON document instead of an event stream' }),
});

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().regex(IDEMPOTENCY_KEY).optional().openapi({
    description: 'per user and route, kept 24 h: a retry with the same body replays the stored result',
  }),
});

/** What both chat routes answer: a stream or (stream=false) one JSON document, or an envelope. */
export const ChatResponses = {
  200: {
    description: 'An event stream, or with stream=false the whole answer',
    content: {
      'text/event-stream': { schema: ChatStreamSchema },
      'application/json': { schema: ChatResultSchema },
    },
  },
  ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504),
};
