// The one owner of a chat turn. A route checks the token's signature, parses and hands over;
// `startChat` (a new question) and `startRegeneration` (a stored question answered again) share
// one order:
//   1. triage by the rules, on the question alone (an emergency skips every limit and check);
//   2. together: one statement reads the account with its live session (401 when the sign-in has
//      ended), consent, the conversation's ownership, the health profile and history, and claims
//      the Idempotency-Key (lib/chat/start.ts); the limits with the stream slot and token
//      reservation are asked for in one Redis turn; the images are checked; content security
//      checks the question once the account is known;
//   3. a retry with a used key is answered from the first request, and a turn the account or the
//      key refuses (an ended session, no consent, another's conversation, a key in use) is
//      refused: either way what the limits counted, the slot and the reservation are given back;
//   4. one statement stores the question and the answer row (and a new conversation);
//   5. the answer is written in the background (lib/chat/writer.ts), or, for an emergency or a
//      refused question, is already whole.
// Anything refused before step 4 frees the key and gives back the slot and reservation.
import { and, eq, inArray } from 'drizzle-orm';
import { getSessionAccount, type SessionAccount } from '../auth/account.js';
import type { AccessClaims } from '../auth/jwt.js';
import type { RequestCtx } from '../context.js';
import { insertMessage } from '../conversations/messages.js';
import { touchConversation } from '../conversations/service.js';
import { regenerationTarget, supersedeAnswer } from '../conversations/versions.js';
import type { Db } from '../db/index.js';
import {
  conversations,
  type FileRow,
  files,
  type Message,
  messages,
  type NewMessage,
  type Relation,
  type Triage,
} from '../db/schema.js';
import { AppError, consentRequired, unauthorized } from '../errors.js';
import { acquireModelLease, enforceLimit, type ModelLease, NO_LEASE, refundLimits } from '../limits.js';
import { estimateTokens } from '../llm/tokens.js';
import type { ModelContext } from '../members/service.js';
import type { LimitResult } from '../ratelimit/index.js';
import type { Runtime } from '../runtime.js';
import { buildSystemPrompt, triage } from '../safety/index.js';
import { contentCheckEnabled } from '../wechat/content.js';
import { moderationGuard } from '../wechat/moderation.js';
import { modelTriage, triageNumbers } from './guards.js';
import { type HistoryRow, historyWindow } from './history.js';
import { claimKey, type IdempotencyScope, releaseKey, requestHash } from './idempotency.js';
import { type ChatOutcome, type ChatTurn, isOutcome, remember, toOutcome } from './outcome.js';
import { readTurnStart } from './start.js';
import { titleFromQuestion } from './title.js';
import { type AnswerGuard, BLOCKED_NOTICE, startAnswer } from './writer.js';

/**
 * Who asks and where: the request's context (lib/context.ts) with the access token's verified
 * claims in place of a user: the account and its session are checked by the turn's first statement.
 */
export type ChatCtx = RequestCtx & { claims: AccessClaims };

export type ChatInput = {
  /** The function's name: Idempotency-Keys are per user and route. */
  route: string;
  /** The validated body: what is asked, and what a retry's body is compared with. */
  body: { conversationId?: string; memberId?: string; content: string; imageIds?: string[] };
  /** CHAT_MODEL for text, VISION_MODEL for images. */
  model: string;
  idempotencyKey?: string;
};

export type ChatStart =
  | { kind: 'replay'; outcome: ChatOutcome; account: SessionAccount }
  | {
      kind: 'answer';
      /** The caller's account, as the turn's first statement found it. */
      account: SessionAccount;
      turn: ChatTurn;
      /** Settles once the answer is stored (at once for an emergency or a refused question). */
      outcome: Promise<ChatOutcome>;
      /** The limits passed, for RateLimit-* headers. */
      limits: LimitResult[];
    };

/** How many earlier messages are read to fill the history budget. */
const HISTORY_SCAN = 100;
const SYSTEM_PROMPT_ESTIMATE = 800;
const IMAGE_TOKEN_ESTIMATE = 1_000;

/** Tokens a turn may use at most, reserved from the daily quota before the model is asked. */
function estimateTurnTokens(rt: Runtime, content: string, imageCount: number): number {
  const images = imageCount * IMAGE_TOKEN_ESTIMATE;
  return (
    SYSTEM_PROMPT_ESTIMATE +
    estimateTokens(content) +
    images +
    rt.config.HISTORY_TOKEN_BUDGET +
    rt.config.LLM_MAX_OUTPUT_TOKENS
  );
}

/** The chat's counters: per user per minute and per day, and the service's global one. */
const chatCounters = (userId: string) =>
  [
    { policy: 'chat:user:minute', key: userId },
    { policy: 'chat:user:day', key: userId },
    { policy: 'global', key: 'all' },
  ] as const;

type Limited = {
  /** Each counter's answer: fulfilled when the request was counted, rejected when refused. */
  counters: PromiseSettledResult<LimitResult | null>[];
  /** The stream slot and token reservation (refused: no slot or no quota left). */
  lease: PromiseSettledResult<ModelLease>;
};

/**
 * The chat counters, the stream slot and the token reservation, asked for together. Nothing is
 * decided here: the turn decides once it knows whether the account and the key let it go ahead.
 */
async function askLimits(
  rt: Runtime,
  user: { id: string; role: SessionAccount['role'] },
  estimate: number,
): Promise<Limited> {
  const [lease, ...counters] = await Promise.allSettled([
    acquireModelLease(rt, user, estimate),
    ...chatCounters(user.id).map((c) => enforceLimit(rt, c.policy, c.key)),
  ]);
  return { lease: lease as PromiseSettledResult<ModelLease>, counters };
}

/** The counters this turn was counted under, given back (a refused account, a replayed retry). */
function refundCounted(rt: Runtime, userId: string, limited: Limited | undefined): void {
  if (!limited) return;
  const counted = chatCounters(userId).filter((_, i) => limited.counters[i]?.status === 'fulfilled');
  rt.background(refundLimits(rt, counted).catch(() => undefined));
}

async function isRiskyQuestion(rt: Runtime, openid: string, content: string): Promise<boolean> {
  if (!contentCheckEnabled(rt)) return false;
  const { checkText } = await import('../wechat/content.js');
  return (await checkText(rt, { content, openid, scene: 2 })) === 'risky';
}

/** What one turn asks and how it is stored: a new question (chat) or a stored one (regenerate). */
type TurnSpec = {
  route: string;
  content: string;
  imageIds: string[];
  conversationId?: string;
  memberId?: string;
  model: string;
  /** Regenerate: the history ends before the question answered again. */
  historyBeforeSeq?: number;
  /** Stores the question (or finds it) and the answer row, in one transaction or statement. */
  store(emergency: Triage | null, blocked: boolean, memberId: string | null): Promise<StoredTurn>;
};

type StoredTurn = { conversationId: string; userMessage: Message; assistantMessage: Message };

/** Claims the Idempotency-Key once (a retry is answered from the first), and frees it on refusal. */
async function withKey(
  ctx: ChatCtx,
  route: string,
  key: string | undefined,
  body: unknown,
  run: (scope: IdempotencyScope | undefined) => Promise<ChatStart>,
): Promise<ChatStart> {
  const db = await ctx.rt.db();
  let scope: IdempotencyScope | undefined;
  if (key) {
    scope = { userId: ctx.claims.sub, route, key };
    const claim = await claimKey(db, scope, requestHash(body), ctx.rt.now());
    if (!claim.claimed) {
      if (!isOutcome(claim.result)) throw new AppError('CONFLICT', 'stored result unreadable; use a new key');
      const account = await requireAccount(ctx);
      return { kind: 'replay', outcome: claim.result, account };
    }
  }
  try {
    return await run(scope);
  } catch (err) {
    if (scope) await releaseKey(db, scope).catch(() => undefined);
    throw err;
  }
}

/** POST /text-chat and /vision-chat. */
export async function startChat(ctx: ChatCtx, input: ChatInput): Promise<ChatStart> {
  const { body } = input;
  const db = await ctx.rt.db();
  const now = ctx.rt.now();
  const userId = ctx.claims.sub;
  const key = input.idempotencyKey
    ? { scope: { userId, route: input.route, key: input.idempotencyKey }, hash: requestHash(body) }
    : undefined;
  return runTurn(
    ctx,
    {
      route: input.route,
      content: body.content,
      imageIds: body.imageIds ?? [],
      conversationId: body.conversationId,
      memberId: body.memberId,
      model: input.model,
      store: (emergency, blocked, memberId) => storeTurn(db, userId, body, now, emergency, blocked, memberId),
    },
    key,
  );
}

/**
 * POST /conversations/:id/messages/:messageId/regenerate: a new answer to the same question (with
 * its images), exactly as chat asks (idempotency, triage, limits, quota, content security); the
 * earlier answer is kept as an earlier version. The key is claimed before the target is read, so
 * a retry is answered even after the answer it made became the conversation's last.
 */
export function startRegeneration(
  ctx: ChatCtx,
  input: { conversationId: string; messageId: string; idempotencyKey?: string },
): Promise<ChatStart> {
  const route = 'regenerate';
  const { conversationId, messageId } = input;
  return withKey(ctx, route, input.idempotencyKey, { conversationId, messageId }, async (scope) => {
    const { rt } = ctx;
    const userId = ctx.claims.sub;
    const db = await rt.db();
    const now = rt.now();
    const { question } = await regenerationTarget(db, userId, conversationId, messageId, { now });
    return runTurn(
      ctx,
      {
        route,
        content: question.content,
        imageIds: question.imageIds,
        conversationId,
        model: question.imageIds.length ? rt.config.VISION_MODEL : rt.config.CHAT_MODEL,
        historyBeforeSeq: question.seq,
        store: (emergency, blocked) =>
          db.transaction(async (tx) => {
            const s = await supersedeAnswer(tx, userId, conversationId, messageId, { now });
            const assistantMessage = await insertMessage(tx, userId, conversationId, {
              ...answerRow(emergency, blocked),
              createdAt: now,
              ...s.next,
            });
            await touchConversation(tx, userId, conversationId, now);
            return { conversationId, userMessage: s.question, assistantMessage };
          }),
      },
      undefined,
      scope,
    );
  });
}

/** The live session's account (a replay read apart from a turn's first statement). */
async function requireAccount(ctx: ChatCtx): Promise<SessionAccount> {
  const account = await getSessionAccount(await ctx.rt.db(), ctx.claims);
  if (!account) throw unauthorized();
  return account;
}

/** What the turn's first statement decided: go ahead with the account and context, or replay. */
type Gate =
  | { replay: ChatOutcome; account: SessionAccount }
  | { replay: null; account: SessionAccount; context: ModelContext; history: HistoryRow[] };

/**
 * One turn. `key` is claimed by the turn's first statement (chat); `claimed` is a key its caller
 * claimed already and frees itself on refusal (regenerate).
 */
async function runTurn(
  ctx: ChatCtx,
  spec: TurnSpec,
  key: { scope: IdempotencyScope; hash: string } | undefined,
  claimed?: IdempotencyScope,
): Promise<ChatStart> {
  const { rt, claims } = ctx;
  const db = await rt.db();
  const now = rt.now();
  let lease: ModelLease = NO_LEASE;
  /** The key this turn claimed, freed if the turn is refused. */
  let owned: IdempotencyScope | undefined;
  const refuse = async (err: unknown): Promise<never> => {
    await lease.finish(0);
    if (owned) await releaseKey(db, owned).catch(() => undefined);
    throw err;
  };
  // Warning signs are answered whatever the limits say: that answer costs no model call.
  const found: Triage | null = triage(spec.content, triageNumbers(rt));
  const emergency = found ? { ...found, source: 'rules' as const } : null;
  const { imageIds, conversationId } = spec;
  const estimate = estimateTurnTokens(rt, spec.content, imageIds.length);

  const gate: Promise<Gate> = readTurnStart(
    db,
    claims,
    {
      conversationId,
      memberId: spec.memberId,
      historyMax: emergency || !conversationId ? 0 : HISTORY_SCAN,
      historyBeforeSeq: spec.historyBeforeSeq,
      claim: key,
    },
    now,
  ).then(async (start): Promise<Gate> => {
    if (key && start.claimed) owned = key.scope;
    const account = start.account;
    if (!account) throw unauthorized();
    // Chat processes health data: only after the current consent version is accepted.
    if (account.acceptedConsentVersion !== rt.config.CONSENT_VERSION) {
      throw consentRequired();
    }
    if (key && !start.claimed) {
      // Taken: the stored result of a finished first request, 422, 409, or taken over when stale.
      const claim = await claimKey(db, key.scope, key.hash, now);
      if (!claim.claimed) {
        if (!isOutcome(claim.result))
          throw new AppError('CONFLICT', 'stored result unreadable; use a new key');
        return { replay: claim.result, account };
      }
      owned = key.scope;
    }
    // The conversation's and the member's ownership (404), and whom the model is told about: the
    // member's age, gender and profile, else the account holder's.
    return { replay: null, account, context: start.context(), history: start.history };
  });
  const caller = { id: claims.sub, role: claims.role };
  const [gated, images, asked, risky] = await Promise.allSettled([
    gate,
    imageIds.length
      ? import('../uploads/chat-images.js').then((m) =>
          m.checkChatImages(rt, caller.id, imageIds, conversationId),
        )
      : Promise.resolve([] as FileRow[]),
    // Emergencies skip every limit: that answer costs no model call.
    emergency ? Promise.resolve(undefined) : askLimits(rt, caller, estimate),
    // Content security only for what would reach the model: emergency guidance is never withheld.
    emergency
      ? Promise.resolve(false)
      : gate.then((g) => (g.replay ? false : isRiskyQuestion(rt, g.account.openid, spec.content))),
  ]);
  const value = <T>(s: PromiseSettledResult<T>) => (s as PromiseFulfilledResult<T>).value;
  const limits = asked.status === 'fulfilled' ? asked.value : undefined;
  if (limits?.lease.status === 'fulfilled') lease = limits.lease.value;
  // The account and the key decide first. A turn they refuse (an ended session, no consent,
  // another's conversation, a key in use) or answer from the first request (a retry) gives back
  // what the limits counted, so a dead token cannot spend its account's limits and a retry is free.
  if (gated.status === 'rejected' || gated.value.replay) refundCounted(rt, caller.id, limits);
  if (gated.status === 'rejected') return refuse(gated.reason);
  const g = gated.value;
  if (g.replay) {
    await lease.finish(0);
    return { kind: 'replay', outcome: g.replay, account: g.account };
  }
  for (const s of [images, asked, risky]) if (s.status === 'rejected') return refuse(s.reason);
  const refusedCounter = limits?.counters.find((c) => c.status === 'rejected');
  if (refusedCounter) return refuse(refusedCounter.reason);
  const { account, context: person } = g;
  let leased = limits?.lease ?? { status: 'fulfilled' as const, value: NO_LEASE };
  if (!emergency && account.role !== caller.role) {
    // The token was minted before a role change: the quota follows the account's role.
    await lease.finish(0);
    lease = NO_LEASE;
    [leased] = await Promise.allSettled([acquireModelLease(rt, account, estimate)]);
  }
  if (leased.status === 'rejected') return refuse(leased.reason);
  lease = leased.value;
  const blocked = value(risky) === true;
  const guidance = emergency && forPerson(emergency, person);
  const stored = await spec.store(guidance, blocked, person.memberId).catch(refuse);
  const turn: ChatTurn = {
    userId: account.id,
    route: spec.route,
    ...stored,
    openid: account.openid,
    systemPrompt: buildSystemPrompt({
      healthProfile: emergency ? null : person.healthProfile,
      person,
      now,
      emergencyNumber: rt.config.EMERGENCY_NUMBER,
      crisisLine: rt.config.CRISIS_LINE,
    }),
    history: historyWindow(g.history, rt.config.HISTORY_TOKEN_BUDGET),
    idempotency: owned ?? claimed,
  };
  const shown = (limits?.counters ?? [])
    .map((c) => (c.status === 'fulfilled' ? c.value : null))
    .filter((r): r is LimitResult => r !== null);
  if (guidance || blocked) {
    await lease.finish(0);
    const outcome = toOutcome(turn, turn.assistantMessage, null);
    await remember(rt, db, turn, outcome);
    return { kind: 'answer', account, turn, outcome: Promise.resolve(outcome), limits: shown };
  }
  const rows = value(images);
  const guards = [
    modelTriage(rt, spec.content, ctx.requestId),
    moderationGuard(rt, account.openid, BLOCKED_NOTICE, { requestId: ctx.requestId }),
  ].filter((x): x is AnswerGuard => x !== null);
  const outcome = startAnswer(
    rt,
    turn,
    {
      model: spec.model,
      requestId: ctx.requestId,
      lease,
      imageParts: rows.length
        ? () => import('../uploads/chat-images.js').then((m) => m.imagePartsFor(rt, rows))
        : undefined,
    },
    guards,
  );
  return { kind: 'answer', account, turn, outcome, limits: shown };
}

const WHO: Record<Exclude<Relation, 'self'>, string> = {
  child: '孩子',
  parent: '父母',
  spouse: '爱人',
  other: '家人',
};

/** In a conversation about a family member, the guidance says whom it is about (the same steps). */
function forPerson(t: Triage, person: ModelContext): Triage {
  const who = person.relation && person.relation !== 'self' ? WHO[person.relation] : null;
  if (!who) return t;
  return { ...t, message: t.message.replace('【紧急提示】', `【紧急提示：${who}】`) };
}

/** The answer row of a turn: the guidance, the notice, or an empty row the writer fills. */
function answerRow(emergency: Triage | null, blocked: boolean) {
  return emergency
    ? {
        role: 'assistant' as const,
        content: emergency.message,
        status: 'complete' as const,
        triage: emergency,
        finishReason: 'triage',
      }
    : blocked
      ? {
          role: 'assistant' as const,
          content: BLOCKED_NOTICE,
          status: 'blocked' as const,
          finishReason: 'blocked',
        }
      : { role: 'assistant' as const, content: '', status: 'streaming' as const, aiGenerated: true };
}

/**
 * The question and the answer row, a new conversation or the existing one moved to the top, and
 * the images tied to it: one statement (data-modifying CTEs), so one round trip before `meta`.
 * The messages are inserted in one VALUES list, so the question's seq is below the answer's.
 */
async function storeTurn(
  db: Db,
  userId: string,
  body: ChatInput['body'],
  now: Date,
  emergency: Triage | null,
  blocked: boolean,
  memberId: string | null,
): Promise<{ conversationId: string; userMessage: Message; assistantMessage: Message }> {
  const imageIds = body.imageIds ?? [];
  const conversationId = body.conversationId ?? crypto.randomUUID();
  const activity = { lastMessageAt: now, activityAt: now, updatedAt: now };
  const conversation = body.conversationId
    ? db.$with('conversation').as(
        db
          .update(conversations)
          .set(activity)
          .where(and(eq(conversations.userId, userId), eq(conversations.id, conversationId)))
          .returning({ id: conversations.id }),
      )
    : db.$with('conversation').as(
        db
          .insert(conversations)
          .values({
            id: conversationId,
            userId,
            memberId,
            title: titleFromQuestion(body.content),
            createdAt: now,
            ...activity,
          })
          .returning({ id: conversations.id }),
      );
  const images = db.$with('images').as(
    db
      .update(files)
      .set({ conversationId })
      .where(and(eq(files.userId, userId), inArray(files.id, imageIds.length ? imageIds : [''])))
      .returning({ id: files.id }),
  );
  const row = (
    m: Omit<NewMessage, 'id' | 'conversationId' | 'userId' | 'createdAt' | 'updatedAt'>,
  ): NewMessage => ({
    id: crypto.randomUUID(),
    conversationId,
    userId,
    createdAt: now,
    updatedAt: now,
    ...m,
  });
  const question = row({
    role: 'user',
    content: body.content,
    status: blocked ? 'blocked' : 'complete',
    imageIds,
  });
  const answer = row(answerRow(emergency, blocked));
  const stored = await db.with(conversation, images).insert(messages).values([question, answer]).returning();
  const userMessage = stored.find((m) => m.id === question.id);
  const assistantMessage = stored.find((m) => m.id === answer.id);
  if (!userMessage || !assistantMessage) throw new Error('insert returned no row');
  return { conversationId, userMessage, assistantMessage };
}
