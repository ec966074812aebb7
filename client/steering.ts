// Steering an answer (API.md, "Steering an answer"): regenerate it (the earlier answer is kept as
// a version), list its versions, rate it. Built on the client's own calls, so tokens, refresh and
// errors behave as everywhere else.
import type { ChatAnswer } from './answers.js';
import type { ChatJsonOptions, ChatStreamOptions } from './chat.js';
import type { CallOptions } from './http.js';
import type { HttpMethod } from './transport.js';
import type { ChatResult, FeedbackRating, FeedbackReason, Message, Page } from './types.js';

/** `comment`: at most 500 characters. */
export type FeedbackRequest = { rating: FeedbackRating; reason?: FeedbackReason; comment?: string };
export type Feedback = {
  rating: FeedbackRating;
  reason: FeedbackReason | null;
  comment: string | null;
  updatedAt: string;
};
export type MessageVersions = { items: Message[] };

/** Times are ISO 8601 with an offset. */
export type ListFeedbackQuery = {
  rating?: FeedbackRating;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
};
export type FeedbackLogEntry = {
  messageId: string;
  rating: FeedbackRating;
  reason: FeedbackReason | null;
  comment: string | null;
  model: string | null;
  createdAt: string;
};
export type UsageReportQuery = { since?: string; until?: string; groupBy?: 'day' | 'model' };
/** `day` (Asia/Shanghai, YYYY-MM-DD) with groupBy=day, `model` with groupBy=model. */
export type UsageReportRow = {
  day?: string;
  model?: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costCny: number;
};

export interface SteeringCalls {
  /**
   * A new answer to the same question (with its images), streamed like `textChat` (or one JSON
   * answer with `{ stream: false }`). Only the conversation's last answer (409 otherwise).
   */
  regenerate(conversationId: string, messageId: string, o: ChatJsonOptions): Promise<ChatResult>;
  regenerate(conversationId: string, messageId: string, o?: ChatStreamOptions): ChatAnswer;
  /** Every version of an answer, oldest first. */
  versions(conversationId: string, messageId: string, o?: CallOptions): Promise<MessageVersions>;
  /** Rates an answer (replacing an earlier rating); `null` removes the rating and answers null. */
  feedback(
    conversationId: string,
    messageId: string,
    body: FeedbackRequest | null,
    o?: CallOptions,
  ): Promise<Feedback | null>;
  /** Admins only: ratings of answers, newest first (no conversation text). */
  feedbackLog(query?: ListFeedbackQuery, o?: CallOptions): Promise<Page<FeedbackLogEntry>>;
  /** Admins only: answers, tokens and cost in CNY by day or by model. */
  usageReport(query?: UsageReportQuery, o?: CallOptions): Promise<{ items: UsageReportRow[] }>;
}

/** What the client lends these calls (see createClient). */
export type SteeringDeps = {
  json<T>(
    method: HttpMethod,
    path: string,
    body: unknown,
    o?: CallOptions,
    query?: Record<string, string | number | undefined>,
  ): Promise<T>;
  empty(method: HttpMethod, path: string, o?: CallOptions): Promise<void>;
  chat(path: string, body: object, o: ChatJsonOptions): Promise<ChatResult>;
  chat(path: string, body: object, o?: ChatStreamOptions): ChatAnswer;
};

const seg = (id: string) => encodeURIComponent(id);
const messagePath = (conversationId: string, messageId: string) =>
  `/conversations/${seg(conversationId)}/messages/${seg(messageId)}`;

export function createSteering(d: SteeringDeps): SteeringCalls {
  function regenerate(conversationId: string, messageId: string, o: ChatJsonOptions): Promise<ChatResult>;
  function regenerate(conversationId: string, messageId: string, o?: ChatStreamOptions): ChatAnswer;
  function regenerate(
    conversationId: string,
    messageId: string,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    const path = `${messagePath(conversationId, messageId)}/regenerate`;
    return o?.stream === false ? d.chat(path, {}, o) : d.chat(path, {}, o);
  }

  return {
    regenerate,
    versions: (conversationId, messageId, o) =>
      d.json('GET', `${messagePath(conversationId, messageId)}/versions`, undefined, o),
    feedback: async (conversationId, messageId, body, o) => {
      const path = `${messagePath(conversationId, messageId)}/feedback`;
      if (body === null) {
        await d.empty('DELETE', path, o);
        return null;
      }
      return d.json<Feedback>('PUT', path, body, o);
    },
    feedbackLog: (query, o) => d.json('GET', '/logs/feedback', undefined, o, { ...query }),
    usageReport: (query, o) => d.json('GET', '/logs/usage', undefined, o, { ...query }),
  };
}
