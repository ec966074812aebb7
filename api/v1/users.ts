// The users function: WeChat sign-in, token refresh and logout, and the caller's own account.
import { createRoute, z } from '@hono/zod-openapi';
import { audit } from '../../lib/audit.js';
import { endSession, rotateSession } from '../../lib/auth/sessions.js';
import { AppError } from '../../lib/errors.js';
import { type App, createApp } from '../../lib/http/app.js';
import { currentUser, requireAuth } from '../../lib/http/auth.js';
import { requestCtx } from '../../lib/http/context.js';
import { clientIp, showLimit } from '../../lib/http/limits.js';
import { bearer, errors, IsoDate, jsonBody, jsonResponse } from '../../lib/http/openapi.js';
import { errorFields } from '../../lib/logger.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { listConsents, recordConsent } from '../../lib/users/consent.js';
import { beginDeletion, finishDeletion } from '../../lib/users/deletion.js';
import { writeUserExport } from '../../lib/users/export.js';
import { signIn } from '../../lib/users/login.js';
import { updateProfile } from '../../lib/users/profile.js';
import { BirthYearSchema, GenderSchema, HealthProfileSchema } from '../../lib/users/schemas.js';
import { getActiveUser, toPublicUser } from '../../lib/users/service.js';
import { register as registerComplaints } from '../_routes/complaints.js';
import { register as registerMembers } from '../_routes/members.js';

export { HealthProfileSchema };

export const UserSchema = z
  .object({
    id: z.string(),
    nickname: z.string().nullable(),
    avatarFileId: z.string().nullable(),
    gender: GenderSchema.nullable(),
    birthYear: z.number().int().nullable(),
    healthProfile: z.union([HealthProfileSchema, z.null()]),
    role: z.enum(['user', 'admin']),
    consent: z.object({
      required: z.boolean(),
      currentVersion: z.string(),
      acceptedVersion: z.string().nullable(),
      text: z.string().nullable().openapi({
        description:
          'The consent text of this deployment (CONSENT_TEXT), shown before accepting; null when the app ships its own',
      }),
      crossBorderTransfer: z.string().nullable().openapi({
        description:
          'When personal information leaves mainland China (CONSENT_CROSS_BORDER): who receives it, where, for what and how to exercise rights; the app asks for it as a separate consent. null: no cross-border transfer',
      }),
    }),
    createdAt: IsoDate,
  })
  .openapi('User');

const TokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().openapi({ description: 'access token lifetime in seconds' }),
});
const LoginAnswer = TokenPairSchema.extend({ user: UserSchema }).openapi('LoginAnswer');
const RefreshBody = z.strictObject({ refreshToken: z.string().min(16).max(200) });

const login = createRoute({
  method: 'post',
  path: '/login',
  tags: ['users'],
  summary: 'Sign in with a wx.login code',
  request: { body: jsonBody(z.strictObject({ code: z.string().min(1).max(200) })) },
  responses: {
    200: jsonResponse(LoginAnswer, 'Signed in'),
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

const ConsentSchema = z
  .object({ id: z.string(), version: z.string(), accepted: z.boolean(), createdAt: IsoDate })
  .openapi('Consent');

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
  request: { body: jsonBody(z.strictObject({ version: z.string().min(1).max(64), accepted: z.boolean() })) },
  responses: { 201: jsonResponse(ConsentSchema, 'Recorded'), ...errors(400, 401, 422) },
});

// Fields given replace their old values; null clears one; unknown fields are refused (strict).
const ProfilePatchSchema = z
  .strictObject({
    nickname: z
      .string()
      .trim()
      .min(1)
      .max(32)
      .regex(/^[^\p{Cc}]*$/u)
      .nullable()
      .optional(),
    avatarFileId: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .optional()
      .openapi({ description: 'a ready file the caller uploaded with purpose "avatar"' }),
    gender: GenderSchema.nullable().optional(),
    birthYear: BirthYearSchema,
    healthProfile: z.union([HealthProfileSchema, z.null()]).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' })
  .openapi('ProfilePatch');

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

const ExportSchema = z
  .object({
    format: z.literal('health-assistant-export'),
    version: z.literal(1),
    exportedAt: IsoDate,
    user: z.record(z.string(), z.unknown()),
    consents: z.array(z.record(z.string(), z.unknown())),
    conversations: z.array(z.record(z.string(), z.unknown())),
    messages: z.array(z.record(z.string(), z.unknown())).openapi({
      description:
        'AI answers carry the visible label `aiLabel` ("本内容由人工智能生成") and the implicit one, `aigc`',
    }),
    feedback: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: 'the caller’s ratings of answers' }),
    members: z.array(z.record(z.string(), z.unknown())),
    labReports: z.array(z.record(z.string(), z.unknown())),
    files: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'file metadata; `url` is a short-lived read link (until `urlExpiresAt`) for ready files',
    }),
    usage: z.array(z.record(z.string(), z.unknown())),
    complaints: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('UserExport');

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
    const rt = c.get('rt');
    const { pair, user, limits } = await signIn(
      { ...requestCtx(c), clientKey: clientIp(c) },
      c.req.valid('json'),
    );
    for (const l of limits) showLimit(c, l);
    c.set('user', {
      id: user.id,
      role: user.role,
      openid: user.openid,
      acceptedConsentVersion: user.acceptedConsentVersion,
      sessionId: '',
    });
    return c.json({ ...pair, user: toPublicUser(rt.config, user) }, 200);
  });

  app.openapi(refresh, async (c) => {
    const rt = c.get('rt');
    const db = await rt.db();
    const outcome = await rotateSession(db, rt.config, c.req.valid('json').refreshToken, rt.now());
    if ('reused' in outcome) {
      await audit(db, {
        actorId: outcome.userId,
        action: 'user.refresh_reuse',
        targetType: 'user',
        targetId: outcome.userId,
        requestId: c.get('requestId'),
      });
      throw new AppError('UNAUTHORIZED', 'refresh token already used; please sign in again');
    }
    return c.json(outcome.pair, 200);
  });

  app.openapi(logout, async (c) => {
    const rt = c.get('rt');
    const db = await rt.db();
    const userId = await endSession(db, c.req.valid('json').refreshToken, rt.now());
    if (userId) {
      await audit(db, {
        actorId: userId,
        action: 'user.logout',
        targetType: 'user',
        targetId: userId,
        requestId: c.get('requestId'),
      });
    }
    return c.body(null, 204);
  });

  app.openapi(me, async (c) => {
    const rt = c.get('rt');
    const user = await getActiveUser(await rt.db(), currentUser(c).id);
    if (!user) throw new AppError('UNAUTHORIZED', 'missing or invalid access token');
    return c.json(toPublicUser(rt.config, user), 200);
  });

  app.openapi(patchMe, async (c) => {
    const rt = c.get('rt');
    const patch = c.req.valid('json');
    const now = rt.now();
    // Checked here rather than in the schema: "the current year" moves, and follows the runtime clock.
    if (typeof patch.birthYear === 'number' && patch.birthYear > now.getUTCFullYear()) {
      throw new AppError('BAD_REQUEST', 'invalid request', {
        details: [{ path: 'birthYear', code: 'too_big' }],
      });
    }
    const user = await updateProfile(await rt.db(), currentUser(c).id, patch, now);
    return c.json(toPublicUser(rt.config, user), 200);
  });

  app.openapi(exportMe, async (c) => {
    const rt = c.get('rt');
    const requestId = c.get('requestId');
    const userId = currentUser(c).id;
    const db = await rt.db();
    const now = rt.now();
    await audit(db, {
      actorId: userId,
      action: 'user.export',
      targetType: 'user',
      targetId: userId,
      requestId,
    });
    // Written page by page as the client reads (write() waits for it), so memory stays flat however
    // long the history. A failure part-way aborts the body: the download fails visibly instead of
    // ending as a well-formed but incomplete file.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    void (async () => {
      try {
        await writeUserExport(
          db,
          () => rt.storage(),
          rt.config,
          userId,
          now,
          (chunk) => writer.write(encoder.encode(chunk)),
        );
        await writer.close();
      } catch (err) {
        rt.log.error({ requestId, ...errorFields(err) }, 'export stream failed');
        await writer.abort(err).catch(() => {});
      }
    })();
    const day = now.toISOString().slice(0, 10);
    const res = c.body(readable, 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="health-assistant-export-${day}.json"`,
      'Cache-Control': 'no-store',
    });
    // The body is the JSON document of ExportSchema, streamed: the typed c.json() cannot stream.
    return res as never;
  });

  app.openapi(deleteMe, async (c) => {
    const rt = c.get('rt');
    const requestId = c.get('requestId');
    const userId = currentUser(c).id;
    const db = await rt.db();
    // From here on the account is gone for every route, whatever happens next.
    await beginDeletion(db, userId, rt.now());
    // The id is all the audit log keeps: once the account row is gone it identifies no one.
    await audit(db, {
      actorId: userId,
      action: 'user.delete',
      targetType: 'user',
      targetId: userId,
      requestId,
    });
    try {
      await finishDeletion(db, () => rt.storage(), userId);
    } catch (err) {
      // The deletion job stays and the retention job finishes it; for the caller it is done.
      rt.log.error(
        { requestId, ...errorFields(err) },
        'account deletion unfinished; left to the retention job',
      );
    }
    // The request log must not write the deleted id back into system_logs.
    c.set('user', undefined);
    return c.body(null, 204);
  });

  app.openapi(listConsentsRoute, async (c) => {
    const rt = c.get('rt');
    return c.json({ items: await listConsents(await rt.db(), currentUser(c).id) }, 200);
  });

  app.openapi(recordConsentRoute, async (c) => {
    const rt = c.get('rt');
    const { version, accepted } = c.req.valid('json');
    // Only the current text can be accepted: agreeing to an unknown version means nothing.
    if (accepted && version !== rt.config.CONSENT_VERSION) {
      // The caller's text is never echoed back; the current version is the server's own.
      throw new AppError(
        'UNPROCESSABLE',
        `consent version is not the current version (${rt.config.CONSENT_VERSION})`,
      );
    }
    const db = await rt.db();
    const user = currentUser(c);
    const record = await recordConsent(db, user.id, version, accepted, rt.now());
    await audit(db, {
      actorId: user.id,
      action: 'user.consent',
      targetType: 'consent',
      targetId: record.id,
      requestId: c.get('requestId'),
      meta: { version, accepted },
    });
    return c.json(record, 201);
  });

  registerComplaints(app);
  registerMembers(app);
  return app;
}

export default build();
