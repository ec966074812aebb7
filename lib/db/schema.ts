// The whole product's tables. Migrations in drizzle/ are generated from this file.
// Every table holding a user's data carries `user_id`, so every query can be scoped to its owner.
import type { InferInsertModel, InferSelectModel } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => ts('created_at').notNull().defaultNow();

export type HealthProfile = { allergies: string[]; conditions: string[]; medications: string[] };
export type Gender = 'male' | 'female' | 'other' | 'unknown';
export type Role = 'user' | 'admin';

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  openid: text('openid').notNull().unique(),
  unionid: text('unionid'),
  nickname: text('nickname'),
  avatarFileId: text('avatar_file_id'),
  gender: text('gender').$type<Gender>(),
  birthYear: integer('birth_year'),
  healthProfile: jsonb('health_profile').$type<HealthProfile>(),
  role: text('role').$type<Role>().notNull().default('user'),
  acceptedConsentVersion: text('accepted_consent_version'),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  // Set when deletion starts: from then on the account is gone for every route.
  deletingAt: ts('deleting_at'),
});

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: text('family_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('refresh_tokens_family_idx').on(t.familyId), index('refresh_tokens_user_idx').on(t.userId)],
);

export const consents = pgTable(
  'consents',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    version: text('version').notNull(),
    accepted: boolean('accepted').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('consents_user_idx').on(t.userId, t.createdAt)],
);

export type Relation = 'self' | 'child' | 'parent' | 'spouse' | 'other';

// A family member the account holder asks for (one phone, the whole family). Health data of its
// own; a child under 14 is held only with the guardian's consent (PIPL Art. 31), recorded here.
export const familyMembers = pgTable(
  'family_members',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    relation: text('relation').$type<Relation>().notNull(),
    gender: text('gender').$type<Gender>(),
    birthYear: integer('birth_year'),
    healthProfile: jsonb('health_profile').$type<HealthProfile>(),
    guardianConsentVersion: text('guardian_consent_version'),
    guardianConsentAt: ts('guardian_consent_at'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('family_members_user_idx').on(t.userId, t.createdAt)],
);

export const conversations = pgTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // Whom the conversation is about: null is the account holder.
    memberId: text('member_id').references(() => familyMembers.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    archived: boolean('archived').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    lastMessageAt: ts('last_message_at'),
    // lastMessageAt, else createdAt: the list's sort key, kept in one indexed column.
    activityAt: ts('activity_at').notNull().defaultNow(),
  },
  (t) => [index('conversations_owner_activity_idx').on(t.userId, t.archived, t.activityAt, t.id)],
);

export type MessageStatus = 'pending' | 'streaming' | 'complete' | 'incomplete' | 'error' | 'blocked';
export type Triage = {
  level: 'emergency';
  category: string;
  message: string;
  actions: { type: 'call'; number: string; label: string }[];
  /** Who judged it: the rules before any model call, or the model-judgement layer while answering. */
  source?: 'rules' | 'model';
};

export const messages = pgTable(
  'messages',
  {
    id: text('id').primaryKey(),
    // A stable, strictly increasing order inside a conversation (created_at can tie).
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').$type<'user' | 'assistant'>().notNull(),
    content: text('content').notNull().default(''),
    imageIds: jsonb('image_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    status: text('status').$type<MessageStatus>().notNull(),
    triage: jsonb('triage').$type<Triage>(),
    model: text('model'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    finishReason: text('finish_reason'),
    errorCode: text('error_code'),
    aiGenerated: boolean('ai_generated').notNull().default(false),
    // Set by POST …/stop; the writer of the answer (any instance) watches for it when no Redis is
    // configured (with Redis the stop travels there, see lib/chat/bus.ts).
    stopRequestedAt: ts('stop_requested_at'),
    // What the answer cost at MODEL_PRICES when it was stored (CNY); null without usage.
    costCny: numeric('cost_cny', { precision: 14, scale: 6, mode: 'number' }),
    // Versions of a regenerated answer: every version keeps its own row; `version_of` names the
    // first version's id (null on the first version itself), and only the current version (no
    // `superseded_at`) is listed and sent to the model. Versions are never removed one by one, so
    // the current version's number is also the count.
    version: integer('version').notNull().default(1),
    versionOf: text('version_of'),
    supersededAt: ts('superseded_at'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('messages_conversation_seq_idx').on(t.conversationId, t.seq),
    index('messages_user_idx').on(t.userId),
    index('messages_version_of_idx').on(t.versionOf),
    // The usage report scans answers by time.
    index('messages_usage_idx').on(t.createdAt).where(sql`${t.promptTokens} is not null`),
  ],
);

export type FeedbackRating = 'up' | 'down';
export type FeedbackReason = 'inaccurate' | 'unsafe' | 'unhelpful' | 'other';

// One rating per answer (a version is an answer of its own); giving it again replaces it, so
// created_at is when the current rating was given. Goes with the message, and so with the
// conversation and the account.
export const messageFeedback = pgTable(
  'message_feedback',
  {
    messageId: text('message_id')
      .primaryKey()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    rating: text('rating').$type<FeedbackRating>().notNull(),
    reason: text('reason').$type<FeedbackReason>(),
    comment: text('comment'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('message_feedback_created_idx').on(t.createdAt, t.messageId),
    index('message_feedback_user_idx').on(t.userId),
  ],
);

export type FileStatus = 'pending' | 'ready' | 'deleted';

export const files = pgTable(
  'files',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull().unique(),
    purpose: text('purpose').$type<'chat-image' | 'avatar'>().notNull(),
    status: text('status').$type<FileStatus>().notNull().default('pending'),
    declaredContentType: text('declared_content_type').notNull(),
    declaredSize: integer('declared_size').notNull(),
    contentType: text('content_type'),
    size: integer('size'),
    width: integer('width'),
    height: integer('height'),
    // Set when an image is used in a conversation, so deleting it removes the image too.
    conversationId: text('conversation_id').references(() => conversations.id, { onDelete: 'set null' }),
    // Set when an image was read as a lab report, so deleting the report removes the image too.
    labReportId: text('lab_report_id').references(() => labReports.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    completedAt: ts('completed_at'),
    uploadExpiresAt: ts('upload_expires_at').notNull(),
  },
  (t) => [
    index('files_user_idx').on(t.userId, t.createdAt),
    index('files_status_idx').on(t.status, t.uploadExpiresAt),
    index('files_conversation_idx').on(t.conversationId),
  ],
);

export type LabFlag = 'high' | 'low' | 'normal' | 'abnormal';

// A lab report read from photos; its values are rows of lab_results so a trend is one indexed query.
export const labReports = pgTable(
  'lab_reports',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // Whose report: null is the account holder.
    memberId: text('member_id').references(() => familyMembers.id, { onDelete: 'cascade' }),
    takenAt: date('taken_at', { mode: 'string' }),
    institution: text('institution'),
    imageIds: jsonb('image_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    model: text('model'),
    createdAt: createdAt(),
  },
  (t) => [index('lab_reports_owner_idx').on(t.userId, t.memberId, t.createdAt, t.id)],
);

export const labResults = pgTable(
  'lab_results',
  {
    reportId: text('report_id')
      .notNull()
      .references(() => labReports.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    memberId: text('member_id'),
    name: text('name').notNull(),
    code: text('code'),
    value: doublePrecision('value'),
    valueText: text('value_text'),
    unit: text('unit'),
    low: doublePrecision('low'),
    high: doublePrecision('high'),
    rangeText: text('range_text'),
    flag: text('flag').$type<LabFlag>(),
  },
  (t) => [
    primaryKey({ columns: [t.reportId, t.position] }),
    index('lab_results_trend_idx').on(t.userId, t.memberId, t.code),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    route: text('route').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: text('status').$type<'running' | 'done'>().notNull(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.route, t.key] }),
    index('idempotency_expires_idx').on(t.expiresAt),
  ],
);

export const usageDaily = pgTable(
  'usage_daily',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    requests: integer('requests').notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.userId, t.day] })],
);

// No personal data: levels, routes, statuses, ids and error codes only (client messages are scrubbed).
export const systemLogs = pgTable(
  'system_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    level: text('level').$type<'debug' | 'info' | 'warn' | 'error'>().notNull(),
    source: text('source').$type<'server' | 'client'>().notNull(),
    route: text('route'),
    method: text('method'),
    status: integer('status'),
    latencyMs: integer('latency_ms'),
    userId: text('user_id'),
    requestId: text('request_id'),
    errorCode: text('error_code'),
    message: text('message'),
    context: jsonb('context').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('system_logs_at_idx').on(t.at, t.id),
    index('system_logs_request_idx').on(t.requestId),
    index('system_logs_user_idx').on(t.userId, t.at),
  ],
);

// Append-only (a trigger in the migrations refuses UPDATE and DELETE). actor_id is not a foreign
// key: once an account is deleted it stays behind as a pseudonymous id.
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    requestId: text('request_id'),
    meta: jsonb('meta').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_log_at_idx').on(t.at, t.id), index('audit_log_actor_idx').on(t.actorId, t.at)],
);

export type ComplaintCategory = 'harmful' | 'inaccurate' | 'privacy' | 'other';
export type ComplaintStatus = 'open' | 'resolved' | 'rejected';

// Complaints about the service or an answer (《生成式人工智能服务管理暂行办法》 Art. 15). The
// complaint outlives the message it names (the reference is cleared); it goes with its account,
// while its audit rows (ids and outcome only) stay as the record that it was received and answered.
export const complaints = pgTable(
  'complaints',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    messageId: text('message_id').references(() => messages.id, { onDelete: 'set null' }),
    category: text('category').$type<ComplaintCategory>().notNull(),
    description: text('description').notNull(),
    status: text('status').$type<ComplaintStatus>().notNull().default('open'),
    resolution: text('resolution'),
    resolvedBy: text('resolved_by'),
    createdAt: createdAt(),
    // Fixed when filed, so a later change of COMPLAINT_DEADLINE_DAYS does not move a promise made.
    answerBy: ts('answer_by').notNull(),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [
    index('complaints_user_idx').on(t.userId, t.createdAt),
    index('complaints_status_idx').on(t.status, t.createdAt, t.id),
    index('complaints_created_idx').on(t.createdAt, t.id),
    index('complaints_message_idx').on(t.messageId),
  ],
);

// A deletion in progress: a crash part-way leaves this row, and the retention job finishes it.
export const deletionJobs = pgTable('deletion_jobs', {
  userId: text('user_id').primaryKey(),
  requestedAt: ts('requested_at').notNull().defaultNow(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
});

export const schema = {
  users,
  refreshTokens,
  consents,
  familyMembers,
  conversations,
  messages,
  messageFeedback,
  files,
  labReports,
  labResults,
  idempotencyKeys,
  usageDaily,
  systemLogs,
  auditLog,
  deletionJobs,
  complaints,
};

export type User = InferSelectModel<typeof users>;
export type NewUser = InferInsertModel<typeof users>;
export type Conversation = InferSelectModel<typeof conversations>;
export type Message = InferSelectModel<typeof messages>;
export type NewMessage = InferInsertModel<typeof messages>;
export type MessageFeedback = InferSelectModel<typeof messageFeedback>;
export type FileRow = InferSelectModel<typeof files>;
export type FamilyMember = InferSelectModel<typeof familyMembers>;
export type LabReport = InferSelectModel<typeof labReports>;
export type LabResult = InferSelectModel<typeof labResults>;
export type SystemLog = InferSelectModel<typeof systemLogs>;
export type AuditRow = InferSelectModel<typeof auditLog>;
export type Complaint = InferSelectModel<typeof complaints>;
