// The account (/users): sign in and out, the profile, consents, the export and the deletion. Signing
// in and out keep the session's tokens (session.ts).
import { type Caller, type CallOptions, signalOf } from './http.js';
import type { Session, Tokens } from './session.js';
import type {
  Consent,
  ConsentList,
  LoginResponse,
  ProfilePatch,
  RecordConsentRequest,
  User,
  UserExport,
} from './types.js';

export interface UsersCalls {
  /** Signs in with a `wx.login` code (or `dev:<name>` on a development server) and keeps the tokens. */
  login(code: string, o?: CallOptions): Promise<LoginResponse>;
  /** Rotates the refresh token now (calls do this by themselves on a 401). */
  refresh(): Promise<Tokens>;
  /** Ends the session on the server and forgets the tokens (they are forgotten even if the call fails). */
  logout(o?: CallOptions): Promise<void>;
  me(o?: CallOptions): Promise<User>;
  updateMe(patch: ProfilePatch, o?: CallOptions): Promise<User>;
  consents: {
    list(o?: CallOptions): Promise<ConsentList>;
    record(body: RecordConsentRequest, o?: CallOptions): Promise<Consent>;
  };
  exportMe(o?: CallOptions): Promise<UserExport>;
  /** Deletes the account and everything in it, then forgets the tokens. */
  deleteMe(o?: CallOptions): Promise<void>;
}

/** What createClient lends these calls: the session, and calls with and without its token. */
export type UsersDeps = { session: Session; call: Caller; anonymous: Caller };

export function createUsers({ session, call, anonymous }: UsersDeps): UsersCalls {
  const { tokens } = session;
  return {
    login: async (code, o) => {
      const answer = await anonymous.json<LoginResponse>({
        method: 'POST',
        path: '/users/login',
        body: { code },
        ...signalOf(o),
      });
      await tokens.set({ accessToken: answer.accessToken, refreshToken: answer.refreshToken });
      return answer;
    },

    refresh: () => session.refresh(),

    logout: async (o) => {
      const current = await tokens.get();
      try {
        if (current) {
          await anonymous.empty({
            method: 'POST',
            path: '/users/logout',
            body: { refreshToken: current.refreshToken },
            ...signalOf(o),
          });
        }
      } finally {
        await tokens.clear();
      }
    },

    me: (o) => call.json({ method: 'GET', path: '/users/me', ...signalOf(o) }),
    updateMe: (patch, o) => call.json({ method: 'PATCH', path: '/users/me', body: patch, ...signalOf(o) }),
    consents: {
      list: (o) => call.json({ method: 'GET', path: '/users/me/consents', ...signalOf(o) }),
      record: (body, o) => call.json({ method: 'POST', path: '/users/me/consents', body, ...signalOf(o) }),
    },
    exportMe: (o) => call.json({ method: 'GET', path: '/users/me/export', ...signalOf(o) }),
    deleteMe: async (o) => {
      await call.empty({ method: 'DELETE', path: '/users/me', ...signalOf(o) });
      await tokens.clear();
    },
  };
}
