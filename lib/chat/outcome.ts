// A chat turn once stored, and its outcome: the JSON answer of stream=false, and what an
// Idempotency-Key keeps for retries (replayed as the same events).
import { toPublicMessage } from '../conversations/messages.js';
import type { ChatResult } from '../conversations/schemas.js';
import type { Db } from '../db/index.js';
import type { Message } from '../db/schema.js';
import type { ErrorCode } from '../errors.js';
import type { ChatMessage } from '../llm/types.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { AI_DISCLAIMER } from '../safety/index.js';
import type { AnswerEvent } from './bus.js';
import { type IdempotencyScope, releaseKey, storeResult } from './idempotency.js';

export type MetaEvent = { conversationId: string; userMessageId: string; assistantMessageId: string };

/** A question and its answer row, stored before any model call. */
export type ChatTurn = {
  userId: string;
  /** The function's name: scopes Idempotency-Keys and labels logs. */
  route: string;
  conversationId: string;
  userMessage: Message;
  assistantMessage: Message;
  openid: string;
  systemPrompt: string;
  /** Earlier messages within the history budget, oldest first. */
  history: ChatMessage[];
  idempotency: IdempotencyScope | undefined;
};

export type { ChatResult };

/** ABORTED is never sent to a client. */
export type ChatOutcome = {
  response: ChatResult;
  finishReason: string | null;
  failure: { code: ErrorCode | 'ABORTED'; message: string } | null;
};

export function toOutcome(
  turn: Pick<ChatTurn, 'conversationId' | 'userMessage'>,
  answer: Message,
  failure: ChatOutcome['failure'],
): ChatOutcome {
  return {
    response: {
      conversationId: turn.conversationId,
      userMessage: toPublicMessage(turn.userMessage),
      assistantMessage: toPublicMessage(answer),
    },
    finishReason: answer.finishReason,
    failure,
  };
}

export function metaOf(r: ChatResult): MetaEvent {
  return {
    conversationId: r.conversationId,
    userMessageId: r.userMessage.id,
    assistantMessageId: r.assistantMessage.id,
  };
}

export function isOutcome(v: Record<string, unknown>): v is ChatOutcome & Record<string, unknown> {
  const r = v.response as Partial<ChatResult> | undefined;
  return typeof r?.conversationId === 'string' && !!r.userMessage && !!r.assistantMessage;
}

/** A stored outcome as the events of its stream: triage?, the whole text, done (or error). */
export function eventsOfOutcome(outcome: ChatOutcome): AnswerEvent[] {
  const a = outcome.response.assistantMessage;
  const out: AnswerEvent[] = [];
  if (a.triage) out.push({ t: 'triage', triage: a.triage });
  if (a.content) out.push({ t: 'delta', text: a.content });
  const f = outcome.failure;
  if (f) {
    if (f.code !== 'ABORTED')
      out.push({ t: 'error', error: { code: f.code, message: f.message, assistantMessageId: a.id } });
    return out;
  }
  out.push({
    t: 'done',
    done: {
      assistantMessageId: a.id,
      finishReason: outcome.finishReason ?? 'stop',
      usage: a.usage ?? { promptTokens: 0, completionTokens: 0 },
      ...(a.aiGenerated ? { disclaimer: AI_DISCLAIMER } : {}),
    },
  });
  return out;
}

/** Keeps the outcome for retries under the same key; an answer that never started frees the key. */
export async function remember(rt: Runtime, db: Db, turn: ChatTurn, outcome: ChatOutcome): Promise<void> {
  const scope = turn.idempotency;
  if (!scope) return;
  try {
    if (outcome.response.assistantMessage.status === 'error') await releaseKey(db, scope);
    else await storeResult(db, scope, outcome);
  } catch (err) {
    rt.log.warn({ ...errorFields(err) }, 'idempotency result not stored');
  }
}
