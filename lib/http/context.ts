// The service context of a request: what a handler passes as the `ctx` of a service's (ctx, input).
import type { Ctx, RequestCtx } from '../context.js';
import type { AppContext } from './app.js';
import { currentUser } from './auth.js';

/** For the routes that run before anyone is signed in. */
export function requestCtx(c: AppContext): RequestCtx {
  return { rt: c.get('rt'), requestId: c.get('requestId'), signal: c.req.raw.signal };
}

/** For the routes behind requireAuth: the signed-in caller (401 without one). */
export function userCtx(c: AppContext): Ctx {
  const user = currentUser(c);
  return { ...requestCtx(c), userId: user.id, role: user.role };
}
