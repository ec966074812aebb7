// The app factory every function uses: request id, structured request log, body limits,
// content-type check, and the single error envelope (onError, notFound and the validation hook are
// the only places that write it).
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { methodOverride } from 'hono/method-override';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isDatabaseUnavailable, isUnstorableText } from '../db/errors.js';
import { errorFields } from '../logger.js';
import { requestLogRow, shouldPersist, writeSystemLogs } from '../logs/sink.js';
import type { Runtime } from '../runtime.js';
import { tokenSubject } from './claims.js';
import { AppError, type ErrorDetail, envelope, statusOf } from './errors.js';
import { applySecurityHeaders } from './security-headers.js';

export type AuthUser = {
  id: string;
  role: 'user' | 'admin';
  openid: string;
  acceptedConsentVersion: string | null;
  sessionId: string;
};

export type AppEnv = {
  Variables: {
    rt: Runtime;
    requestId: string;
    user: AuthUser | undefined;
    /** Set by handlers that know more than the status, e.g. an upstream error code. */
    errorCode: string | undefined;
    /** The class name of an unexpected error (never its message), for the persisted request log. */
    errorType: string | undefined;
  };
};

export type App = OpenAPIHono<AppEnv>;
export type AppContext = Context<AppEnv>;

export const JSON_BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

export function requestIdFrom(header: string | undefined): string {
  return header && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (isUnstorableText(err))
    return new AppError('BAD_REQUEST', 'text contains characters that cannot be stored');
  if (isDatabaseUnavailable(err)) {
    return new AppError('SERVICE_UNAVAILABLE', 'service temporarily unavailable, please retry', {
      headers: { 'Retry-After': '2' },
    });
  }
  if (err instanceof HTTPException) {
    if (err.status === 400) return new AppError('BAD_REQUEST', 'malformed request body');
    if (err.status === 401) return new AppError('UNAUTHORIZED', 'authentication required');
    if (err.status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'request body too large');
    if (err.status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
  }
  return undefined;
}

/** The error answer for any thrown value; unexpected errors become a 500 that says nothing. */
export function errorResponse(c: AppContext, err: unknown): Response {
  const requestId = c.get('requestId') ?? requestIdFrom(undefined);
  const appErr = toAppError(err);
  if (!appErr) {
    const fields = errorFields(err);
    c.get('rt')?.log.error({ requestId, ...fields }, 'unhandled error');
    c.set('errorType', fields.errorType);
    const internal = new AppError('INTERNAL', 'internal error');
    c.set('errorCode', internal.code);
    return c.json(envelope(internal, requestId), 500);
  }
  c.set('errorCode', appErr.code);
  for (const [k, v] of Object.entries(appErr.headers ?? {})) c.header(k, v);
  return c.json(envelope(appErr, requestId), statusOf(appErr) as ContentfulStatusCode);
}

type Issue = { path: PropertyKey[]; code: string; errors?: Issue[][] };

/**
 * An issue as field paths and codes. A value that matched no branch of a union (an object-or-null
 * field given a bad object) is described by the branch it came closest to, so the client learns
 * which field inside it is wrong rather than only that the union failed.
 */
function issueDetails(issue: Issue, base: PropertyKey[]): ErrorDetail[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors?.length) {
    const depth = (branch: Issue[]) => Math.max(0, ...branch.map((i) => i.path.length));
    const closest = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
    if (depth(closest) > 0) return closest.flatMap((i) => issueDetails(i, path));
  }
  return [{ path: path.map(String).join('.') || '(body)', code: issue.code }];
}

/** A function's app, mounted at /api/v1/<name> as Vercel routes it. */
export function createApp(name: string, runtime: () => Runtime, basePath = `/api/v1/${name}`): App {
  // Resolved once now: a missing or malformed setting fails the cold start, naming the variable.
  runtime();
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      // A path parameter that cannot be an id names nothing: 404, as for an unknown id.
      if (!result.success && result.target === 'param') throw new AppError('NOT_FOUND', 'not found');
      if (!result.success) {
        // Field paths and issue codes only: values may be health data.
        const details = result.error.issues.flatMap((i) => issueDetails(i, []));
        throw new AppError('BAD_REQUEST', 'invalid request', { details });
      }
    },
  });

  // wx.request has no PATCH: the mini-program sends POST with X-HTTP-Method-Override: PATCH. Only
  // PATCH is honoured, and the request is dispatched again as PATCH (so it is logged once, as PATCH).
  const override = methodOverride({ app, header: 'X-HTTP-Method-Override' });
  app.use('*', async (c, next) => {
    if (c.req.method === 'POST' && c.req.header('x-http-method-override')?.toUpperCase() === 'PATCH') {
      return override(c, next);
    }
    await next();
  });

  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    const rt = runtime();
    c.set('rt', rt);
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    await next();
    // Here, after the error handler has written its answer: errors carry these headers too.
    applySecurityHeaders(c.res.headers, !!c.get('user') || c.req.header('authorization') !== undefined);
    const entry = {
      requestId,
      fn: name,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      latencyMs: Math.round(performance.now() - started),
      // A refusal before the account was read still names the token's subject; a 401 names nobody
      // (the sign-in has ended, or the account is gone: its id is not written back).
      userId: c.get('user')?.id ?? (c.res.status === 401 ? undefined : tokenSubject(c)),
      errorCode: c.get('errorCode'),
    };
    rt.log.info(entry, 'request');
    // After the response, not before it: the row costs the caller no round trip. rt.background
    // keeps the function alive for it on Vercel (waitUntil) and makes shutdown wait for it; the
    // write has a time cap and never throws (lib/logs/sink.ts).
    if (shouldPersist(entry)) {
      rt.background(writeSystemLogs(rt, [requestLogRow({ ...entry, errorType: c.get('errorType') })]));
    }
  });

  app.use('*', async (c, next) => {
    const method = c.req.method;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const length = c.req.header('content-length');
      const hasBody =
        (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
      const type = c.req.header('content-type') ?? '';
      if (hasBody && !/^application\/json\s*(;|$)/i.test(type)) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
      }
    }
    await next();
  });

  app.use(
    '*',
    bodyLimit({
      maxSize: JSON_BODY_LIMIT,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', 'request body exceeds 1 MB');
      },
    }),
  );

  // On both apps: OpenAPIHono's basePath() does not carry these handlers over, and a PATCH sent
  // as a method override is dispatched again through the unbased app. Hono's own fallback would
  // answer plain text and print the error (with its data) to the console.
  const based = app.basePath(basePath) as unknown as App;
  for (const a of [app, based]) {
    a.onError((err, c) => errorResponse(c, err));
    a.notFound((c) => errorResponse(c, new AppError('NOT_FOUND', 'route not found')));
  }
  return based;
}

/** What a function file (api/v1/<name>.ts) exports besides its default app. */
export type FunctionModule = { build(runtime: () => Runtime): App };
