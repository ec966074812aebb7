// What a chat turn needs to start, read in one statement (one database round trip): the caller's
// account with its live session (so the route checks only the token's signature), the
// conversation's ownership, the family member it is about, the health profile the model is told,
// the recent history, and the Idempotency-Key claimed. Every other part reads or inserts nothing
// unless the account's session is live.
// A conversation keeps the member it was started for; a new one takes `memberId`. Another user's
// conversation or member is 404; a memberId that contradicts the conversation's is 422.
import { sql } from 'drizzle-orm';
import { liveSession, type SessionAccount } from '../auth/account.js';
import type { AccessClaims } from '../auth/jwt.js';
import type { Db } from '../db/index.js';
import {
  conversations,
  familyMembers,
  type Gender,
  type HealthProfile,
  idempotencyKeys,
  messages,
  type Relation,
  users,
} from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { ageFrom, type ModelContext } from '../members/service.js';
import type { HistoryRow } from './history.js';
import { IDEMPOTENCY_TTL_MS, type IdempotencyScope } from './idempotency.js';

export type StartRead = {
  /** The live session's account; undefined when the sign-in has ended or the account is gone. */
  account: SessionAccount | undefined;
  /**
   * Whom the model is told about (the member's or the account holder's profile); throws 404 for
   * another user's conversation or member and 422 for a member the conversation is not about.
   */
  context(): ModelContext;
  /** Earlier messages of the conversation, newest first. */
  history: HistoryRow[];
  /** The key was inserted by this statement; false when it was taken already (see claimKey). */
  claimed: boolean;
};

type PersonJson = {
  id?: string;
  health_profile: HealthProfile | null;
  birth_year: number | null;
  gender: Gender | null;
  relation?: Relation;
};
type AccountJson = PersonJson & {
  id: string;
  role: SessionAccount['role'];
  openid: string;
  accepted_consent_version: string | null;
};
type Row = {
  account: AccountJson | null;
  conversation_found: boolean;
  conversation_member: string | null;
  member: PersonJson | null;
  history: HistoryRow[] | null;
  claimed: boolean;
};

export async function readTurnStart(
  db: Db,
  claims: Pick<AccessClaims, 'sub' | 'sid'>,
  opts: {
    conversationId?: string | undefined;
    memberId?: string | undefined;
    /** How many earlier messages to read (0: none, e.g. for an emergency). */
    historyMax: number;
    /** Regenerate: the history ends before the question answered again. */
    historyBeforeSeq?: number | undefined;
    /** The Idempotency-Key to claim, with the request's hash. */
    claim?: { scope: IdempotencyScope; hash: string } | undefined;
  },
  now: Date,
): Promise<StartRead> {
  const userId = claims.sub;
  const conversationId = opts.conversationId ?? null;
  const before = opts.historyBeforeSeq ?? null;
  const claim = opts.claim;
  const claimCte = claim
    ? sql`, claim as (
        insert into ${idempotencyKeys} (user_id, route, key, request_hash, status, created_at, expires_at)
        select ${userId}, ${claim.scope.route}, ${claim.scope.key}, ${claim.hash}, 'running',
               ${now.toISOString()}::timestamptz, ${new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString()}::timestamptz
        where exists (select 1 from account)
        on conflict do nothing
        returning 1 as one)`
    : sql``;
  const query = sql`
    with account as (
      select ${users.id} as id, ${users.role} as role, ${users.openid} as openid,
             ${users.acceptedConsentVersion} as accepted_consent_version,
             ${users.healthProfile} as health_profile, ${users.birthYear} as birth_year,
             ${users.gender} as gender
      from ${users} where ${liveSession(claims)}
    ),
    conversation as (
      select ${conversations.memberId} as member_id from ${conversations}
      where ${conversations.userId} = ${userId} and ${conversations.id} = ${conversationId}
        and exists (select 1 from account)
    ),
    member as (
      select ${familyMembers.id} as id, ${familyMembers.healthProfile} as health_profile,
             ${familyMembers.birthYear} as birth_year, ${familyMembers.gender} as gender,
             ${familyMembers.relation} as relation
      from ${familyMembers}
      where ${familyMembers.userId} = ${userId}
        and ${familyMembers.id} = coalesce((select member_id from conversation), ${opts.memberId ?? null})
        and exists (select 1 from account)
    ),
    history as (
      select ${messages.seq} as seq, ${messages.role} as role, ${messages.content} as content,
             ${messages.status} as status
      from ${messages}
      where ${messages.userId} = ${userId} and ${messages.conversationId} = ${conversationId}
        and ${messages.supersededAt} is null and exists (select 1 from account)
        and (${before}::bigint is null or ${messages.seq} < ${before}::bigint)
      order by ${messages.seq} desc
      limit ${opts.historyMax}
    )${claimCte}
    select
      (select row_to_json(a) from account a) as account,
      exists (select 1 from conversation) as conversation_found,
      (select member_id from conversation) as conversation_member,
      (select row_to_json(m) from member m) as member,
      (select json_agg(json_build_object('role', h.role, 'content', h.content, 'status', h.status)
                       order by h.seq desc) from history h) as history,
      ${claim ? sql`exists (select 1 from claim)` : sql`false`} as claimed`;
  const result = await db.execute(query);
  const row = ((result as unknown as { rows?: Row[] }).rows ?? (result as unknown as Row[]))[0];
  if (!row) throw new Error('start read returned no row');
  const a = row.account;
  const account: SessionAccount | undefined = a
    ? { id: a.id, role: a.role, openid: a.openid, acceptedConsentVersion: a.accepted_consent_version }
    : undefined;
  return {
    account,
    context: () => (a ? contextOf(row, a, opts, now) : emptyContext),
    history: row.history ?? [],
    claimed: row.claimed === true,
  };
}

const emptyContext: ModelContext = {
  memberId: null,
  healthProfile: null,
  age: null,
  gender: null,
  relation: null,
};

/** Whom the model is told about: 404 for another's conversation or member, 422 for a clash. */
function contextOf(
  row: Row,
  account: AccountJson,
  opts: { conversationId?: string | undefined; memberId?: string | undefined },
  now: Date,
): ModelContext {
  let memberId = opts.memberId ?? null;
  if (opts.conversationId) {
    if (!row.conversation_found) throw notFound('conversation');
    if (opts.memberId !== undefined && opts.memberId !== row.conversation_member) {
      throw new AppError('UNPROCESSABLE', 'the conversation is about another member');
    }
    memberId = row.conversation_member;
  }
  if (memberId) {
    const m = row.member;
    if (!m?.id) throw notFound('member');
    return {
      memberId: m.id,
      healthProfile: m.health_profile,
      age: ageFrom(m.birth_year, now),
      gender: m.gender,
      relation: m.relation ?? null,
    };
  }
  return {
    memberId: null,
    healthProfile: account.health_profile,
    age: ageFrom(account.birth_year, now),
    gender: account.gender,
    relation: null,
  };
}
