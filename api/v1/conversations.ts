// The conversations function: the caller's conversations and their messages.
import { createRoute, z } from '@hono/zod-openapi';
import { deleteConversation } from '../../lib/conversations/delete.js';
import { listMessages } from '../../lib/conversations/messages.js';
import {
  ConversationPageSchema,
  ConversationPatchSchema,
  ConversationSchema,
  MessagePageSchema,
  NewConversationSchema,
} from '../../lib/conversations/schemas.js';
import {
  createConversation,
  getConversation,
  listConversationsForSession,
  updateConversation,
} from '../../lib/conversations/service.js';
import { type App, createApp } from '../../lib/http/app.js';
import { accessClaims, authorize, requireAuth, requireToken } from '../../lib/http/auth.js';
import { requestCtx, userCtx } from '../../lib/http/context.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { register as registerAnswers } from '../_routes/answers.js';
import { register as registerSteering } from '../_routes/steering.js';

const Limit = LimitQuery();
const Cursor = z.string().min(1).max(200).optional();

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['conversations'],
  summary: 'The caller’s conversations, newest activity first',
  security: bearer,
  // The account and session are checked inside the list query: one database round trip.
  middleware: [requireToken] as const,
  request: {
    query: z.object({
      limit: Limit,
      cursor: Cursor.openapi({ description: 'the previous page’s nextCursor' }),
      archived: z.enum(['true', 'false']).optional().openapi({ description: 'true: archived ones only' }),
    }),
  },
  responses: {
    200: jsonResponse(ConversationPageSchema, 'A page'),
    ...errors(400, 401),
  },
});

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['conversations'],
  summary: 'Start a conversation',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { body: { ...jsonBody(NewConversationSchema), required: false } },
  responses: { 201: jsonResponse(ConversationSchema, 'Created'), ...errors(400, 401, 404, 413, 415) },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['conversations'],
  summary: 'One conversation',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(ConversationSchema, 'The conversation'), ...errors(401, 404) },
});

const patch = createRoute({
  method: 'patch',
  path: '/{id}',
  tags: ['conversations'],
  summary: 'Rename or archive a conversation',
  security: bearer,
  middleware: [requireAuth] as const,
  request: {
    params: IdParam,
    body: jsonBody(ConversationPatchSchema),
  },
  responses: { 200: jsonResponse(ConversationSchema, 'Updated'), ...errors(400, 401, 404, 413, 415) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['conversations'],
  summary: 'Delete a conversation with its messages and images',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

const messages = createRoute({
  method: 'get',
  path: '/{id}/messages',
  tags: ['conversations'],
  summary: 'Messages, newest page first, each page oldest first',
  security: bearer,
  middleware: [requireAuth] as const,
  request: {
    params: IdParam,
    query: z.object({
      limit: Limit,
      before: Cursor.openapi({ description: 'the previous page’s nextCursor (older messages)' }),
    }),
  },
  responses: { 200: jsonResponse(MessagePageSchema, 'A page'), ...errors(400, 401, 404) },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('conversations', runtime);

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const found = await listConversationsForSession(requestCtx(c), {
      claims: accessClaims(c),
      limit: q.limit,
      cursor: q.cursor,
      archived: q.archived === 'true',
    });
    authorize(c, found?.account);
    return c.json(found?.page ?? { items: [], nextCursor: null }, 200);
  });

  // The body is optional: a bodyless POST gets the default title.
  app.openapi(create, async (c) =>
    c.json(await createConversation(userCtx(c), c.req.valid('json') ?? {}), 201),
  );

  app.openapi(read, async (c) => c.json(await getConversation(userCtx(c), c.req.valid('param')), 200));

  app.openapi(patch, async (c) => {
    const input = { ...c.req.valid('json'), id: c.req.valid('param').id };
    return c.json(await updateConversation(userCtx(c), input), 200);
  });

  app.openapi(remove, async (c) => {
    await deleteConversation(userCtx(c), c.req.valid('param'));
    return c.body(null, 204);
  });

  app.openapi(messages, async (c) => {
    const input = { ...c.req.valid('query'), id: c.req.valid('param').id };
    return c.json(await listMessages(userCtx(c), input), 200);
  });

  registerAnswers(app);
  registerSteering(app);

  return app;
}

export default build();
