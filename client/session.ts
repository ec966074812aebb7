// The session: the token pair (kept in a TokenStore), the access token on every authenticated call,
// one refresh at a time on a 401, and the end of the session when the refresh token is refused.
import { ApiError } from './errors.js';
import type { Caller } from './http.js';
import type { TokenPair } from './types.js';

export type Tokens = { accessToken: string; refreshToken: string };

/** Where the session lives between launches (wx storage in the mini-program); may be async. */
export interface TokenStore {
  get(): Tokens | null | Promise<Tokens | null>;
  set(tokens: Tokens): void | Promise<void>;
  clear(): void | Promise<void>;
}

export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (t) => {
      tokens = t;
    },
    clear: () => {
      tokens = null;
    },
  };
}

export type SessionDeps = {
  tokens: TokenStore;
  /** The session is over (no tokens, or the refresh token was refused). */
  onAuthFailure?: (() => void) | undefined;
  /** Calls without a token (POST /users/refresh). */
  anonymous: Caller;
};

export interface Session {
  readonly tokens: TokenStore;
  /** Runs `send` with the access token; on a 401, refreshes once and runs it again. */
  authed<T>(send: (token: string | undefined) => Promise<T>): Promise<T>;
  /** Rotates the refresh token now (shared with any refresh under way). */
  refresh(): Promise<Tokens>;
}

export function createSession(d: SessionDeps): Session {
  const { tokens } = d;
  let refreshing: Promise<Tokens> | undefined;

  const authFailed = () => {
    try {
      d.onAuthFailure?.();
    } catch {
      // The app's handler must not turn into this call's error.
    }
  };

  /** Rotates the refresh token; a refused one ends the session. */
  const rotate = async (refreshToken: string): Promise<Tokens> => {
    let pair: TokenPair;
    try {
      pair = await d.anonymous.json<TokenPair>({
        method: 'POST',
        path: '/users/refresh',
        body: { refreshToken },
      });
    } catch (err) {
      // 400/401: this refresh token will never work again. Anything else (offline, 5xx, 429) may pass:
      // the session is kept for the next try.
      if (err instanceof ApiError && (err.status === 400 || err.status === 401)) {
        await tokens.clear();
        authFailed();
      }
      throw err;
    }
    const next = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
    await tokens.set(next);
    return next;
  };

  /** One refresh at a time: every call that hits a 401 meanwhile waits for the same one. */
  const refreshOnce = (refreshToken: string): Promise<Tokens> => {
    if (!refreshing) {
      const done = () => {
        refreshing = undefined;
      };
      refreshing = rotate(refreshToken);
      refreshing.then(done, done);
    }
    return refreshing;
  };

  return {
    tokens,

    authed: async <T>(send: (token: string | undefined) => Promise<T>): Promise<T> => {
      const used = (await tokens.get())?.accessToken;
      try {
        return await send(used);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        const current = await tokens.get();
        if (!current) {
          // Tokens cleared by a refresh that failed meanwhile have already been reported.
          if (used === undefined) authFailed();
          throw err;
        }
        // Rotated by another call while this one was out: the refresh token it held is spent, and
        // using it again would revoke the whole session.
        const fresh = current.accessToken !== used ? current : await refreshOnce(current.refreshToken);
        return send(fresh.accessToken);
      }
    },

    refresh: async () => {
      const current = await tokens.get();
      if (!current) {
        authFailed();
        throw new ApiError({ status: 401, code: 'UNAUTHORIZED', message: 'not signed in', requestId: '' });
      }
      return refreshOnce(current.refreshToken);
    },
  };
}
