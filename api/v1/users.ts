// The users function: WeChat sign-in, token refresh and logout, and the caller's own account.
import { createRoute, z } from '@hono/zod-openapi';
import { type App, createApp } from '../../lib/http/app.js';
import { forgetCaller, requireAuth } from '../../lib/http/auth.js';
import { requestCtx, userCtx } from '../../lib/http/context.js';
import { clientIp, showLimit } from '../../lib/http/limits.js';
import { bearer, errors, jsonBody, jsonResponse } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { listConsents, recordConsent } from '../../lib/users/consent.js';
import { deleteAccount } from '../../lib/users/deletion.js';
import { exportAccount } from '../../lib/users/export.js';
import { refreshSession, signIn, signOut } from '../../lib/users/login.js';
import { updateProfile } from '../../lib/users/profile.js';
import {
  ConsentBody,
  ConsentSchema,
  ExportSchema,
  HealthProfileSchema,
  LoginAnswerSchema,
  LoginBody,
  ProfilePatchSchema,
  RefreshBody,
  TokenPairSchema,
  UserSchema,
} from '../../lib/users/schemas.js';
import { getAccount } from '../../lib/users/service.js';
import { register as registerComplaints } from '../_routes/complaints.js';
import { register as registerMembers } from '../_routes/members.js';

export { HealthProfileSchema, UserSchema };

const login = createRoute({
  method: 'post',
  path: '/login',
  tags: ['users'],
  summary: 'Sign in with a wx.login code',
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonResponse(LoginAnswerSchema, 'Signed in'),
    ...errors(400, 401, 403, 413, 415, 429, 502, 503),
  },
});

const refresh = createRoute({
  method: 'post',
  path: '/refresh',
  tags: ['users'],
  summary: 'Rotate a refresh token into a new pair',
  request: { body: jsonBody(RefreshBody) },
  responses: { 200: jsonResponse(TokenPairSchema, 'A new token pair'), ...errors(400, 401, 429) },
});

const logout = createRoute({
  method: 'post',
  path: '/logout',
  tags: ['users'],
  summary: 'End the session of a refresh token',
  request: { body: jsonBody(RefreshBody) },
  responses: { 204: { description: 'Signed out' }, ...errors(400) },
});

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['users'],
  summary: 'The caller’s account',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: { 200: jsonResponse(UserSchema, 'The account'), ...errors(401) },
});

const listConsentsRoute = createRoute({
  method: 'get',
  path: '/me/consents',
  tags: ['users'],
  summary: 'The consent versions this user accepted or withdrew, newest first',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: {
    200: jsonResponse(z.object({ items: z.array(ConsentSchema) }), 'Consent history'),
    ...errors(401),
  },
});

const recordConsentRoute = createRoute({
  method: 'post',
  path: '/me/consents',
  tags: ['users'],
  summary: 'Accept or withdraw a consent version',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(ConsentBody) },
  responses: { 201: jsonResponse(ConsentSchema, 'Recorded'), ...errors(400, 401, 422) },
});

const patchMe = createRoute({
  method: 'patch',
  path: '/me',
  tags: ['users'],
  summary: 'Update the caller’s profile',
  security: bearer,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(ProfilePatchSchema) },
  responses: {
    200: jsonResponse(UserSchema, 'The updated account'),
    ...errors(400, 401, 404, 413, 415, 422),
  },
});

const exportMe = createRoute({
  method: 'get',
  path: '/me/export',
  tags: ['users'],
  summary: 'Everything held about the caller, as one JSON document (a download)',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: { 200: jsonResponse(ExportSchema, 'The export, streamed as an attachment'), ...errors(401) },
});

const deleteMe = createRoute({
  method: 'delete',
  path: '/me',
  tags: ['users'],
  summary: 'Delete the account with its conversations, messages and stored objects',
  security: bearer,
  middleware: [requireAuth] as const,
  responses: { 204: { description: 'Deleted; every token of the account stops working' }, ...errors(401) },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('users', runtime);

  app.openapi(login, async (c) => {
    const ctx = { ...requestCtx(c), clientKey: clientIp(c) };
    const { answer, user, limits } = await signIn(ctx, c.req.valid('json'));
    for (const l of limits) showLimit(c, l);
    // The request log names the account that just signed in.
    const { id, role, openid, acceptedConsentVersion } = user;
    c.set('user', { id, role, openid, acceptedConsentVersion, sessionId: '' });
    return c.json(answer, 200);
  });

  app.openapi(refresh, async (c) => c.json(await refreshSession(requestCtx(c), c.req.valid('json')), 200));

  app.openapi(logout, async (c) => {
    await signOut(requestCtx(c), c.req.valid('json'));
    return c.body(null, 204);
  });

  app.openapi(me, async (c) => c.json(await getAccount(userCtx(c)), 200));

  app.openapi(patchMe, async (c) => c.json(await updateProfile(userCtx(c), c.req.valid('json')), 200));

  app.openapi(exportMe, async (c) => {
    const { exportedAt, body } = await exportAccount(userCtx(c));
    const day = exportedAt.toISOString().slice(0, 10);
    const res = c.body(body, 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="health-assistant-export-${day}.json"`,
      'Cache-Control': 'no-store',
    });
    // The body is the JSON document of ExportSchema, streamed: the typed c.json() cannot stream.
    return res as never;
  });

  app.openapi(deleteMe, async (c) => {
    await deleteAccount(userCtx(c));
    // The request log must not write the deleted id back into system_logs.
    forgetCaller(c);
    return c.body(null, 204);
  });

  app.openapi(listConsentsRoute, async (c) => c.json({ items: await listConsents(userCtx(c)) }, 200));

  app.openapi(recordConsentRoute, async (c) =>
    c.json(await recordConsent(userCtx(c), c.req.valid('json')), 201),
  );

  registerComplaints(app);
  registerMembers(app);
  return app;
}

export default build();
