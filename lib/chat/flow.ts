// The one owner of a chat turn. A route parses and hands over; `startChat` (a new question) and
// `startRegeneration` (a stored question answered again) share one order:
//   1. the Idempotency-Key is claimed, once (a retry gets the stored result, before any limit);
//   2. triage by the rules, on the question alone (an emergency skips every limit and check);
//   3. together: the images (plain data, the caller's and ready), the conversation's ownership,
//      the health profile and history, the limits with the stream slot and token reservation, and
//      content security on the question;
//   4. one transaction stores the question and the answer row (and a new conversation);
//   5. the answer is written in the background (lib/chat/writer.ts), or, for an emergency or a
//      refused question, is already whole.
// Anything refused before step 4 frees the key and gives back the slot and reservation.
import { and, eq, inArray } from 'drizzle-orm';
import { insertMessage, recentMessages } from '../conversations/messages.js';
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
import { AppError } from '../errors.js';
import { acquireModelLease, enforceLimit, type ModelLease, NO_LEASE } from '../limits.js';
import { estimateTokens } from '../llm/tokens.js';
import { type ModelContext, modelContextFor } from '../members/service.js';
import type { LimitResult } from '../ratelimit/index.js';
import type { Runtime } from '../runtime.js';
import { buildSystemPrompt, triage } from '../safety/index.js';
import { contentCheckEnabled } from '../wechat/content.js';
import { moderationGuard } from '../wechat/moderation.js';
import { modelTriage, triageNumbers } from './guards.js';
import { historyWindow } from './history.js';
import { claimKey, type IdempotencyScope, releaseKey, requestHash } from './idempotency.js';
import { type ChatOutcome, type ChatTurn, isOutcome, remember, toOutcome } from './outcome.js';
import { titleFromQuestion } from './title.js';
import { type AnswerGuard, BLOCKED_NOTICE, startAnswer } from './writer.js';

export type ChatUser = { id: string; openid: string; role: 'user' | 'admin' };
/** Who asks and where: the runtime, the signed-in user, the request id for logs. */
export type ChatCtx = { rt: Runtime; user: ChatUser; requestId: string };

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
  | { kind: 'replay'; outcome: ChatOutcome }
  | {
      kind: 'answer';
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

/** The chat limits, the stream slot and the token reservation, asked for together. */
async function passLimits(
  rt: Runtime,
  user: ChatUser,
  estimate: number,
): Promise<{ lease: ModelLease; limits: LimitResult[] }> {
  const settled = await Promise.allSettled([
    enforceLimit(rt, 'chat:user:minute', user.id),
    enforceLimit(rt, 'chat:user:day', user.id),
    enforceLimit(rt, 'global', 'all'),
    acquireModelLease(rt, user, estimate),
  ]);
  const [minute, day, global, lease] = settled;
  const refused = settled.find((s) => s.status === 'rejected');
  if (refused) {
    if (lease.status === 'fulfilled') await lease.value.finish(0);
    throw refused.reason;
  }
  const limits = [minute, day, global]
    .map((s) => (s.status === 'fulfilled' ? s.value : null))
    .filter((r): r is LimitResult => r !== null);
  return { lease: lease.status === 'fulfilled' ? lease.value : NO_LEASE, limits };
}

async function isRiskyQuestion(rt: Runtime, openid: string, content: string): Promise<boolean> {
  if (!contentCheckEnabled(rt)) return false;
  const { checkText } = await import('../wechat/content.js');
  return (await checkText(rt, { content, openid, scene: 2 })) === 'risky';
}

/** Gives back whatever a refused turn held, and frees its key. */
async function settleAll<T>(parts: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(parts);
  const refused = settled.find((s) => s.status === 'rejected');
  if (refused) throw refused.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
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
    scope = { userId: ctx.user.id, route, key };
    const claim = await claimKey(db, scope, requestHash(body), ctx.rt.now());
    if (!claim.claimed) {
      if (!isOutcome(claim.result)) throw new AppError('CONFLICT', 'stored result unreadable; use a new key');
      return { kind: 'replay', outcome: claim.result };
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
export function startChat(ctx: ChatCtx, input: ChatInput): Promise<ChatStart> {
  const { body } = input;
  return withKey(ctx, input.route, input.idempotencyKey, body, async (scope) => {
    const db = await ctx.rt.db();
    const now = ctx.rt.now();
    return runTurn(ctx, scope, {
      route: input.route,
      content: body.content,
      imageIds: body.imageIds ?? [],
      conversationId: body.conversationId,
      memberId: body.memberId,
      model: input.model,
      store: (emergency, blocked, memberId) =>
        storeTurn(db, ctx.user.id, body, now, emergency, blocked, memberId),
    });
  });
}

/**
 * POST /conversations/:id/messages/:messageId/regenerate: a new answer to the same question (with
 * its images), exactly as chat asks (idempotency, triage, limits, quota, content security); the
 * earlier answer is kept as an earlier version.
 */
export function startRegeneration(
  ctx: ChatCtx,
  input: { conversationId: string; messageId: string; idempotencyKey?: string },
): Promise<ChatStart> {
  const route = 'regenerate';
  const { conversationId, messageId } = input;
  return withKey(ctx, route, input.idempotencyKey, { conversationId, messageId }, async (scope) => {
    const { rt, user } = ctx;
    const db = await rt.db();
    const now = rt.now();
    const { question } = await regenerationTarget(db, user.id, conversationId, messageId, { now });
    return runTurn(ctx, scope, {
      route,
      content: question.content,
      imageIds: question.imageIds,
      conversationId,
      model: question.imageIds.length ? rt.config.VISION_MODEL : rt.config.CHAT_MODEL,
      historyBeforeSeq: question.seq,
      store: (emergency, blocked) =>
        db.transaction(async (tx) => {
          const s = await supersedeAnswer(tx, user.id, conversationId, messageId, { now });
          const assistantMessage = await insertMessage(tx, user.id, conversationId, {
            ...answerRow(emergency, blocked),
            createdAt: now,
            ...s.next,
          });
          await touchConversation(tx, user.id, conversationId, now);
          return { conversationId, userMessage: s.question, assistantMessage };
        }),
    });
  });
}

async function runTurn(
  ctx: ChatCtx,
  scope: IdempotencyScope | undefined,
  spec: TurnSpec,
): Promise<ChatStart> {
  const { rt, user } = ctx;
  const db = await rt.db();
  const now = rt.now();
  let lease: ModelLease = NO_LEASE;
  // Warning signs are answered whatever the limits say: that answer costs no model call.
  const found: Triage | null = triage(spec.content, triageNumbers(rt));
  const emergency = found ? { ...found, source: 'rules' as const } : null;
  const { imageIds, conversationId } = spec;
  const [images, context, earlier, limited, risky] = await settleAll<unknown>([
    imageIds.length
      ? import('../uploads/chat-images.js').then((m) =>
          m.checkChatImages(rt, user.id, imageIds, conversationId),
        )
      : Promise.resolve([]),
    // The conversation's and the member's ownership (404), and whom the model is told about: the
    // member's age, gender and profile, else the account holder's (consent is required on chat
    // routes, so the profile may be part of the model's context).
    modelContextFor(db, user.id, { conversationId, memberId: spec.memberId }, now),
    emergency || !conversationId
      ? Promise.resolve([])
      : recentMessages(db, user.id, conversationId, HISTORY_SCAN, { beforeSeq: spec.historyBeforeSeq }),
    emergency
      ? Promise.resolve({ lease: NO_LEASE, limits: [] })
      : passLimits(rt, user, estimateTurnTokens(rt, spec.content, imageIds.length)).then((r) => {
          lease = r.lease;
          return r;
        }),
    // Content security only for what would reach the model: emergency guidance is never withheld.
    emergency ? Promise.resolve(false) : isRiskyQuestion(rt, user.openid, spec.content),
  ]).catch(async (err: unknown) => {
    await lease.finish(0);
    throw err;
  });
  const blocked = risky === true;
  const person = context as ModelContext;
  const guidance = emergency && forPerson(emergency, person);
  const stored = await spec.store(guidance, blocked, person.memberId).catch(async (err: unknown) => {
    await lease.finish(0);
    throw err;
  });
  const turn: ChatTurn = {
    userId: user.id,
    route: spec.route,
    ...stored,
    openid: user.openid,
    systemPrompt: buildSystemPrompt({
      healthProfile: emergency ? null : person.healthProfile,
      person,
      now,
      emergencyNumber: rt.config.EMERGENCY_NUMBER,
      crisisLine: rt.config.CRISIS_LINE,
    }),
    history: historyWindow(
      earlier as Awaited<ReturnType<typeof recentMessages>>,
      rt.config.HISTORY_TOKEN_BUDGET,
    ),
    idempotency: scope,
  };
  const { limits } = limited as { limits: LimitResult[] };
  if (guidance || blocked) {
    await lease.finish(0);
    const outcome = toOutcome(turn, turn.assistantMessage, null);
    await remember(rt, db, turn, outcome);
    return { kind: 'answer', turn, outcome: Promise.resolve(outcome), limits };
  }
  const rows = images as FileRow[];
  const guards = [
    modelTriage(rt, spec.content, ctx.requestId),
    moderationGuard(rt, user.openid, BLOCKED_NOTICE, { requestId: ctx.requestId }),
  ].filter((g): g is AnswerGuard => g !== null);
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
  return { kind: 'answer', turn, outcome, limits };
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
