// The v1 contract's shapes (../shared/API.md), written by hand so the mini-program needs nothing from
// the server's code. tests/services/openapi-client-types.test.ts fails when these drift from the
// server's zod schemas or from the OpenAPI document.

// ---- errors ------------------------------------------------------------------------------------

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'CONSENT_REQUIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNPROCESSABLE'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'INTERNAL'
  | 'UPSTREAM_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT';

/** A validation problem: the field's path and the code, never the value. */
export type ErrorDetail = { path: string; code: string };

export type ErrorEnvelope = {
  error: { code: ErrorCode; message: string; requestId: string; details?: ErrorDetail[] };
};

// ---- lists -------------------------------------------------------------------------------------

/** `nextCursor` is null on the last page. */
export type Page<T> = { items: T[]; nextCursor: string | null };

// ---- auth --------------------------------------------------------------------------------------

export type LoginRequest = { code: string };
export type RefreshRequest = { refreshToken: string };
export type LogoutRequest = { refreshToken: string };

export type TokenPair = {
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
};

export type LoginResponse = TokenPair & { user: User };

// ---- users and privacy -------------------------------------------------------------------------

export type Gender = 'male' | 'female' | 'other' | 'unknown';
export type Role = 'user' | 'admin';

export type HealthProfile = { allergies: string[]; conditions: string[]; medications: string[] };

/** `required` stays true while `acceptedVersion` differs from `currentVersion`. */
export type ConsentState = {
  required: boolean;
  currentVersion: string;
  acceptedVersion: string | null;
  /** The deployment's consent text (CONSENT_TEXT); null when the app ships its own. */
  text: string | null;
  /** The cross-border transfer notice to consent to separately; null when data stays in the mainland. */
  crossBorderTransfer: string | null;
};

export type User = {
  id: string;
  nickname: string | null;
  avatarFileId: string | null;
  gender: Gender | null;
  birthYear: number | null;
  healthProfile: HealthProfile | null;
  role: Role;
  consent: ConsentState;
  createdAt: string;
};

/** Fields given replace their old values; null clears one. */
export type ProfilePatch = {
  nickname?: string | null;
  avatarFileId?: string | null;
  gender?: Gender | null;
  birthYear?: number | null;
  healthProfile?: HealthProfile | null;
};

export type Consent = { id: string; version: string; accepted: boolean; createdAt: string };
export type ConsentList = { items: Consent[] };
export type RecordConsentRequest = { version: string; accepted: boolean };

/** Everything held about the caller; `files[].url` are short-lived read links. */
export type UserExport = {
  format: 'health-assistant-export';
  version: 1;
  exportedAt: string;
  user: Record<string, unknown>;
  consents: Record<string, unknown>[];
  conversations: Record<string, unknown>[];
  messages: Record<string, unknown>[];
  /** The caller's ratings of answers. */
  feedback: Record<string, unknown>[];
  members: Record<string, unknown>[];
  labReports: Record<string, unknown>[];
  files: Record<string, unknown>[];
  usage: Record<string, unknown>[];
  complaints: Record<string, unknown>[];
};

// ---- conversations -----------------------------------------------------------------------------

export type Conversation = {
  id: string;
  /** The family member it is about; null: the account holder. */
  memberId: string | null;
  title: string;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  lastMessageAt: string | null;
};

/** `limit` is clamped to 1..100 by the server; `archived: true` lists archived ones only. */
export type ListConversationsQuery = { limit?: number; cursor?: string; archived?: boolean };
export type CreateConversationRequest = { title?: string; memberId?: string };
export type UpdateConversationRequest = { title?: string; archived?: boolean };

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'streaming' | 'complete' | 'incomplete' | 'error' | 'blocked';

export type TriageAction = { type: 'call'; number: string; label: string };
export type Triage = {
  level: 'emergency';
  category: string;
  message: string;
  actions: TriageAction[];
  /** rules: found in the question; model: judged while the answer was written (then `replace` follows). */
  source?: 'rules' | 'model';
};
export type Usage = { promptTokens: number; completionTokens: number };

/**
 * The implicit AI-generated-content label of GB 45438-2025 (Annex E field names). Null on what is not
 * AI-generated (the user's messages, emergency guidance, content-security notices, failed answers).
 */
export type Aigc = {
  Label: '1';
  ContentProducer: string;
  ProduceID: string;
  ReservedCode1: string;
  ContentPropagator: string;
  PropagateID: string;
  ReservedCode2: string;
};

export type Message = {
  id: string;
  role: MessageRole;
  content: string;
  imageIds: string[];
  status: MessageStatus;
  triage?: Triage;
  /** Assistant messages: stop, length, triage, blocked, stopped, or null while written / after a failure. */
  finishReason?: string | null;
  model?: string;
  usage?: Usage;
  aiGenerated: boolean;
  /** Shown under every AI-generated answer. */
  disclaimer?: string;
  aigc: Aigc | null;
  /** Assistant messages: which version of the answer this is (1-based); see `regenerate()`. */
  version?: number;
  /** Assistant messages: how many versions the answer has. */
  versions?: number;
  /** Assistant messages: the caller's rating (`feedback()`), null when none. */
  feedback?: FeedbackSummary | null;
  createdAt: string;
};

export type FeedbackRating = 'up' | 'down';
export type FeedbackReason = 'inaccurate' | 'unsafe' | 'unhelpful' | 'other';
export type FeedbackSummary = { rating: FeedbackRating; reason: FeedbackReason | null };

/** The first page is the newest `limit` messages; each page is oldest first. */
export type ListMessagesQuery = { limit?: number; before?: string };

// ---- chat --------------------------------------------------------------------------------------

/** Without `conversationId` a conversation is created and titled. */
export type TextChatRequest = { conversationId?: string; memberId?: string; content: string };
/** 1–4 distinct images the caller uploaded and completed. */
export type VisionChatRequest = {
  conversationId?: string;
  memberId?: string;
  content: string;
  imageIds: string[];
};

/** The answer of `stream=false`. */
export type ChatResult = { conversationId: string; userMessage: Message; assistantMessage: Message };

export type ChatMeta = { conversationId: string; userMessageId: string; assistantMessageId: string };
export type ChatDelta = { text: string };
export type ChatDone = {
  assistantMessageId: string;
  finishReason: string;
  usage: Usage;
  disclaimer?: string;
};
export type ChatErrorData = { code: ErrorCode; message: string; assistantMessageId?: string };

/**
 * GET /conversations/:id/messages/:messageId/stream: the answer from `after` characters (UTF-16 code
 * units) on; each event's SSE id is the answer's offset after it. POST …/stop answers the Message.
 */
export type AnswerStreamQuery = { after?: number };

/** One event of the chat stream: `meta` first, `triage`?, `delta`*, then exactly one `done` or `error`. */
export type ChatEvent =
  | { event: 'meta'; data: ChatMeta }
  | { event: 'triage'; data: Triage }
  | { event: 'delta'; data: ChatDelta }
  /** Everything shown of this answer is replaced by `text` (content security, a model-judged emergency). */
  | { event: 'replace'; data: ChatDelta }
  | { event: 'done'; data: ChatDone }
  | { event: 'error'; data: ChatErrorData };

// ---- uploads -----------------------------------------------------------------------------------

export type UploadPurpose = 'chat-image' | 'avatar';

export type CreateUploadRequest = {
  filename: string;
  contentType: string;
  /** Bytes; over `maxBytes` answers 413. */
  size: number;
  purpose: UploadPurpose;
};

/** The form `wx.uploadFile` sends straight to object storage (`name: "file"`). */
export type UploadTicket = {
  fileId: string;
  method: 'POST';
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
  maxBytes: number;
  /** Alternative: PUT the bytes to `url` with exactly these headers. */
  put: { url: string; headers: Record<string, string> };
};

export type CompletedUpload = {
  id: string;
  status: 'ready';
  contentType: string;
  size: number;
  width: number;
  height: number;
};

export type Upload = {
  id: string;
  status: 'pending' | 'ready';
  purpose: UploadPurpose;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  createdAt: string;
  completedAt: string | null;
  /** Short-lived read URL; null until ready. */
  url: string | null;
  urlExpiresAt: string | null;
};

// ---- logs --------------------------------------------------------------------------------------

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** message ≤ 2,000 characters; context an opaque object ≤ 4 KB serialized; `at` the client's time. */
export type ClientLogEntry = {
  level: LogLevel;
  message: string;
  context?: Record<string, unknown>;
  at?: string;
};
/** At most 50 entries. */
export type PostLogsRequest = { entries: ClientLogEntry[] };
export type PostLogsResponse = { accepted: number };

export type SystemLogEntry = {
  id: string;
  at: string;
  level: LogLevel;
  source: 'server' | 'client';
  route: string | null;
  method: string | null;
  status: number | null;
  latencyMs: number | null;
  userId: string | null;
  requestId: string | null;
  errorCode: string | null;
  message: string | null;
  context: Record<string, unknown> | null;
};

export type AuditEntry = {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
};

/** Times are ISO 8601; `limit` is clamped to 1..100 (default 50). */
export type ListLogsQuery = {
  level?: LogLevel;
  since?: string;
  until?: string;
  route?: string;
  userId?: string;
  requestId?: string;
  cursor?: string;
  limit?: number;
};

export type ListAuditQuery = {
  action?: string;
  actorId?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
};

// ---- operations --------------------------------------------------------------------------------

export type HealthCheck = { status: 'ok' | 'down'; latencyMs: number; error?: string };
export type Health = { status: 'ok' | 'degraded'; version: string; checks: Record<string, HealthCheck> };
