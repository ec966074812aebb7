// Family members (/users/me/members): one phone often asks for the whole family. A member who may
// be under 14 needs `guardianConsent: true` (PIPL Art. 31: the guardian consents to a child's health
// data); the mini-program must ask the guardian explicitly before sending it.
import type { Caller } from './http.js';
import type { AbortSignalLike } from './transport.js';
import type { Gender, HealthProfile } from './types.js';

export type Relation = 'self' | 'child' | 'parent' | 'spouse' | 'other';

export type Member = {
  id: string;
  name: string;
  relation: Relation;
  gender: Gender | null;
  birthYear: number | null;
  healthProfile: HealthProfile | null;
  /** The guardian's consent (version of the consent text, time) for a member under 14. */
  guardianConsent: { version: string; at: string } | null;
  createdAt: string;
};

export type CreateMemberRequest = {
  name: string;
  relation: Relation;
  gender?: Gender | null;
  birthYear?: number | null;
  healthProfile?: HealthProfile | null;
  /** Required (true) when the member may be under 14: born 14 or fewer years ago. */
  guardianConsent?: boolean;
};

/** Fields given replace their values; null clears one. */
export type MemberPatch = Partial<CreateMemberRequest>;

type Opts = { signal?: AbortSignalLike };
const sig = (o: Opts | undefined) => (o?.signal ? { signal: o.signal } : {});
const seg = (id: string) => encodeURIComponent(id);

export interface MembersClient {
  list(o?: Opts): Promise<{ items: Member[] }>;
  /** 422 without guardianConsent for a minor; 409 beyond 10 members. */
  create(body: CreateMemberRequest, o?: Opts): Promise<Member>;
  update(id: string, patch: MemberPatch, o?: Opts): Promise<Member>;
  /** Deletes the member with their conversations and lab reports. */
  delete(id: string, o?: Opts): Promise<void>;
}

export function membersClient(call: Caller): MembersClient {
  return {
    list: (o) => call.json({ method: 'GET', path: '/users/me/members', ...sig(o) }),
    create: (body, o) => call.json({ method: 'POST', path: '/users/me/members', body, ...sig(o) }),
    update: (id, patch, o) =>
      call.json({ method: 'PATCH', path: `/users/me/members/${seg(id)}`, body: patch, ...sig(o) }),
    delete: (id, o) => call.empty({ method: 'DELETE', path: `/users/me/members/${seg(id)}`, ...sig(o) }),
  };
}
