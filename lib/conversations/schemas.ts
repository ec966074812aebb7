// The shapes of conversations, messages and ratings, shared by the conversations, chat and logs
// functions. One zod schema each validates, documents (OpenAPI) and types (z.infer) it; no HTTP
// here, so the services take their types from these.
import { z } from '@hono/zod-openapi';
import type { FeedbackRating, FeedbackReason } from '../db/schema.js';
import { IsoDate, pageOf } from '../schemas.js';

export const FEEDBACK_RATINGS = ['up', 'down'] as const satisfies readonly FeedbackRating[];
export const FEEDBACK_REASONS = [
  'inaccurate',
  'unsafe',
  'unhelpful',
  'other',
] as const satisfies readonly FeedbackReason[];
export const FEEDBACK_COMMENT_MAX = 500;

export const ConversationSchema = z
  .object({
    id: z.string(),
    memberId: z
      .string()
      .nullable()
      .openapi({ description: 'the family member it is about; null: the account holder' }),
    title: z.string(),
    archived: z.boolean(),
    createdAt: IsoDate,
    updatedAt: IsoDate,
    lastMessageAt: IsoDate.nullable(),
  })
  .openapi('Conversation');
export type PublicConversation = z.infer<typeof ConversationSchema>;

export const TriageSchema = z
  .object({
    level: z.literal('emergency'),
    category: z.string(),
    message: z.string(),
    actions: z.array(z.object({ type: z.literal('call'), number: z.string(), label: z.string() })),
    source: z.enum(['rules', 'model']).optional().openapi({
      description: 'rules: found in the question before any model call; model: judged while answering',
    }),
  })
  .openapi('Triage');

export const UsageSchema = z
  .object({ promptTokens: z.number().int(), completionTokens: z.number().int() })
  .openapi('Usage');

// GB 45438-2025 Annex E's metadata fields, under the standard's own names.
export const AigcSchema = z
  .object({
    Label: z.literal('1').openapi({ description: '"1": the content is AI-generated' }),
    ContentProducer: z.string().openapi({ description: 'generation service provider’s name or code' }),
    ProduceID: z.string().openapi({ description: 'the producer’s number of this content: the message id' }),
    ReservedCode1: z.string().openapi({ description: 'the producer’s integrity digest of the text' }),
    ContentPropagator: z.string().openapi({ description: 'propagation service provider’s name or code' }),
    PropagateID: z.string(),
    ReservedCode2: z.string(),
  })
  .openapi('Aigc', {
    description:
      'Implicit AI-generated-content label (GB 45438-2025, Annex E). Null for what is not ' +
      'AI-generated: user messages, emergency guidance, content-security notices, failed answers.',
  });
export type Aigc = z.infer<typeof AigcSchema>;
export const FeedbackSummarySchema = z
  .object({
    rating: z.enum(['up', 'down']),
    reason: z.enum(['inaccurate', 'unsafe', 'unhelpful', 'other']).nullable(),
  })
  .openapi('FeedbackSummary');
export type FeedbackSummary = z.infer<typeof FeedbackSummarySchema>;

export const MessageSchema = z
  .object({
    id: z.string(),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    imageIds: z.array(z.string()),
    status: z.enum(['streaming', 'complete', 'incomplete', 'error', 'blocked']).openapi({
      description:
        'streaming: still being written (follow it with …/messages/{messageId}/stream); ' +
        'incomplete: the answer stopped after some text (upstream cut, timeout, stopped by the user); ' +
        'error: it failed before any text; blocked: a content-safety check refused it',
    }),
    finishReason: z.string().nullable().optional().openapi({
      description:
        'assistant messages: stop, length, triage, blocked, stopped (POST …/stop), or null while written or after a failure',
    }),
    triage: TriageSchema.optional(),
    model: z.string().optional(),
    usage: UsageSchema.optional(),
    aiGenerated: z.boolean(),
    disclaimer: z.string().optional().openapi({ description: 'shown under every AI-generated answer' }),
    aigc: AigcSchema.nullable(),
    version: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'assistant messages: which version of the answer this is (1-based)' }),
    versions: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'assistant messages: how many versions the answer has (regenerate)' }),
    feedback: FeedbackSummarySchema.nullable()
      .optional()
      .openapi({ description: 'assistant messages: the caller’s rating of this answer' }),
    createdAt: IsoDate,
  })
  .openapi('Message');
export type PublicMessage = z.infer<typeof MessageSchema>;
export type PublicStatus = PublicMessage['status'];

export const ConversationPageSchema = pageOf(ConversationSchema).openapi('ConversationPage');
export type ConversationPage = z.infer<typeof ConversationPageSchema>;

export const MessagePageSchema = pageOf(MessageSchema).openapi('MessagePage');
export type MessagePage = z.infer<typeof MessagePageSchema>;

export const MessageVersionsSchema = z.object({ items: z.array(MessageSchema) }).openapi('MessageVersions');

const Title = z.string().trim().min(1).max(100);

export const NewConversationSchema = z.strictObject({
  title: Title.optional(),
  memberId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: 'a family member: the model is then told about them, not the caller' }),
});
export type NewConversation = z.infer<typeof NewConversationSchema>;

export const ConversationPatchSchema = z
  .strictObject({ title: Title.optional(), archived: z.boolean().optional() })
  .refine((b) => b.title !== undefined || b.archived !== undefined, 'nothing to change');
export type ConversationPatch = z.infer<typeof ConversationPatchSchema>;

export const FeedbackRequestSchema = z
  .strictObject({
    rating: z.enum(FEEDBACK_RATINGS),
    reason: z.enum(FEEDBACK_REASONS).optional(),
    comment: z.string().trim().max(FEEDBACK_COMMENT_MAX).optional(),
  })
  .openapi('FeedbackRequest');
export type FeedbackInput = z.infer<typeof FeedbackRequestSchema>;

export const FeedbackSchema = z
  .object({
    rating: z.enum(FEEDBACK_RATINGS),
    reason: z.enum(FEEDBACK_REASONS).nullable(),
    comment: z.string().nullable(),
    updatedAt: IsoDate,
  })
  .openapi('Feedback');
export type PublicFeedback = z.infer<typeof FeedbackSchema>;

/** The admins' view of a rating: no user id and no conversation text. */
export const FeedbackLogItemSchema = z
  .object({
    messageId: z.string(),
    rating: z.enum(FEEDBACK_RATINGS),
    reason: z.enum(FEEDBACK_REASONS).nullable(),
    comment: z.string().nullable(),
    model: z.string().nullable(),
    createdAt: IsoDate,
  })
  .openapi('FeedbackLogEntry');
export type FeedbackLogItem = z.infer<typeof FeedbackLogItemSchema>;

export const FeedbackLogPageSchema = pageOf(FeedbackLogItemSchema);
export type FeedbackLogPage = z.infer<typeof FeedbackLogPageSchema>;

/** A chat turn as JSON (`?stream=false`), and what an Idempotency-Key replays. */
export const ChatResultSchema = z
  .object({ conversationId: z.string(), userMessage: MessageSchema, assistantMessage: MessageSchema })
  .openapi('ChatResult');
export type ChatResult = z.infer<typeof ChatResultSchema>;
