// Who asks and where: the first argument of every service flow, `(ctx, input)`. The HTTP layer
// builds it from a request (lib/http/context.ts); a script, a cron job or a test builds it by hand.
import type { Runtime } from './runtime.js';

/** A request before anyone is signed in (sign-in, refresh, logout). */
export type RequestCtx = {
  rt: Runtime;
  /** For log lines and audit rows. */
  requestId: string;
  /** Aborts when the caller goes away: upstream calls (the model) stop with it. */
  signal?: AbortSignal | undefined;
};

/** A signed-in caller's request: the owner every query of user data is scoped to. */
export type Ctx = RequestCtx & {
  userId: string;
  /** Admins have their own quota and may read the logs. */
  role: 'user' | 'admin';
};
