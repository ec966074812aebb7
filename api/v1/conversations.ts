// The conversations function: the caller's conversations and their messages.
import { createRoute, z } from '@hono/zod-openapi';
import { aigcCodes } from '../../lib/compliance/aigc.js';
import { deleteConversation } from '../../lib/conversations/delete.js';
import { listMessages } from '../../lib/conversations/messages.js';
import { ConversationSchema, MessageSchema } from '../../lib/conversations/schemas.js';
import {
  createConversation,
  getConversationOrThrow,
  listConversationsForSession,
  toPublicConversation,
  updateConversation,
} from '../../lib/conversations/service.js';
import { type App, createApp } from '../../lib/http/app.js';
import { accessClaims, authorize, currentUser, requireAuth, requireToken } from '../../lib/http/auth.js';
import { bearer, errors, IdParam, jsonBody, jsonResponse, LimitQuery } from '../../lib/http/openapi.js';
import { getMemberOrThrow } from '../../lib/members/service.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { register as registerAnswers } from '../_routes/answers.js';
import { register as registerSteering } from '../_routes/steering.js';

const Title = z.string().trim().min(1).max(100);
const Limit = LimitQuery();
const Cursor = z.string().min(1).max(200).optional();

const page = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

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
    200: jsonResponse(page(ConversationSchema, 'ConversationPage'), 'A page'),
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
  request: {
    body: {
      ...jsonBody(
        z.strictObject({
          title: Title.optional(),
          memberId: z
            .string()
            .min(1)
            .max(64)
            .optional()
            .openapi({ description: 'a family member: the model is then told about them, not the caller' }),
        }),
      ),
      required: false,
    },
  },
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
    body: jsonBody(
      z
        .strictObject({ title: Title.optional(), archived: z.boolean().optional() })
        .refine((b) => b.title !== undefined || b.archived !== undefined, 'nothing to change'),
    ),
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
  responses: { 200: jsonResponse(page(MessageSchema, 'MessagePage'), 'A page'), ...errors(400, 401, 404) },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('conversations', runtime);

  app.openapi(list, async (c) => {
    const rt = c.get('rt');
    const q = c.req.valid('query');
    const found = await listConversationsForSession(await rt.db(), accessClaims(c), {
      limit: q.limit,
      cursor: q.cursor,
      archived: q.archived === 'true',
    });
    authorize(c, found?.account);
    return c.json(found?.page ?? { items: [], nextCursor: null }, 200);
  });

  app.openapi(create, async (c) => {
    const rt = c.get('rt');
    // The body is optional: a bodyless POST gets the default title.
    const body = c.req.valid('json');
    const db = await rt.db();
    const userId = currentUser(c).id;
    // Another user's member is 404, like an unknown one.
    if (body?.memberId) await getMemberOrThrow(db, userId, body.memberId);
    const row = await createConversation(db, userId, {
      title: body?.title,
      memberId: body?.memberId ?? null,
      now: rt.now(),
    });
    return c.json(toPublicConversation(row), 201);
  });

  app.openapi(read, async (c) => {
    const rt = c.get('rt');
    const row = await getConversationOrThrow(await rt.db(), currentUser(c).id, c.req.valid('param').id);
    return c.json(toPublicConversation(row), 200);
  });

  app.openapi(patch, async (c) => {
    const rt = c.get('rt');
    const row = await updateConversation(await rt.db(), currentUser(c).id, c.req.valid('param').id, {
      ...c.req.valid('json'),
      now: rt.now(),
    });
    return c.json(toPublicConversation(row), 200);
  });

  app.openapi(remove, async (c) => {
    await deleteConversation(c.get('rt'), currentUser(c).id, c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(messages, async (c) => {
    const rt = c.get('rt');
    const q = c.req.valid('query');
    const result = await listMessages(await rt.db(), currentUser(c).id, c.req.valid('param').id, {
      ...q,
      aigc: aigcCodes(rt.config),
    });
    return c.json(result, 200);
  });

  registerAnswers(app);
  registerSteering(app);

  return app;
}

export default build();
