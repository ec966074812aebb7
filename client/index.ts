// The mini-program's client of the v1 contract (../shared/API.md): typed calls, the chat stream,
// the upload sequence and token refresh. No runtime dependencies and no DOM or Node APIs; the
// platform comes in as a Transport (transports/wx.ts in the mini-program, transports/fetch.ts elsewhere).
// This file puts the areas together (one file each, see README.md) and re-exports them.

import { type AnswerCalls, createAnswers, type ResumeOptions } from './answers.js';
import { type ChatCalls, chatSender, createChat } from './chat.js';
import { type ComplaintsApi, complaintsApi } from './complaints.js';
import { type ConversationsClient, conversationsClient } from './conversations.js';
import { type CallOptions, caller, createExchange, errorFrom, seg, signalOf } from './http.js';
import { type LogsClient, logsClient } from './logs.js';
import { type MembersClient, membersClient } from './members.js';
import { type RecordsClient, recordsClient } from './records.js';
import { createSession, memoryTokenStore, type TokenStore } from './session.js';
import { createSteering, type SteeringCalls } from './steering.js';
import type { Transport } from './transport.js';
import type { Health } from './types.js';
import { createUploads, type UploadCalls } from './uploads.js';
import { createUsers, type UsersCalls } from './users.js';

export type {
  AnswerCalls,
  AnswerControl,
  AnswerState,
  AnswerStateName,
  ChatAnswer,
  FollowAnswerOptions,
  ResumeOptions,
} from './answers.js';
export { RESUME_DEFAULTS } from './answers.js';
export type { ChatJsonOptions, ChatStreamOptions, ChatStreamResult } from './chat.js';
export type {
  AdminComplaint,
  Complaint,
  ComplaintAnswer,
  ComplaintCategory,
  ComplaintFiled,
  ComplaintStatus,
  ComplaintsApi,
  ListComplaintsQuery,
  NewComplaint,
} from './complaints.js';
export type { ApiErrorInit, ChatPartial, ClientErrorCode } from './errors.js';
export { ApiError, ChatStreamError, ERROR_STATUS, isApiError } from './errors.js';
export type { CallOptions } from './http.js';
export type {
  CreateMemberRequest,
  Member,
  MemberPatch,
  MembersClient,
  Relation,
} from './members.js';
export type {
  CreateLabReportRequest,
  Indicator,
  IndicatorPoint,
  IndicatorsQuery,
  LabFlag,
  LabItem,
  LabReport,
  ListLabReportsQuery,
  RecordsClient,
} from './records.js';
export type { TokenStore, Tokens } from './session.js';
export { memoryTokenStore } from './session.js';
export type {
  Feedback,
  FeedbackLogEntry,
  FeedbackRequest,
  ListFeedbackQuery,
  MessageVersions,
  SteeringCalls,
  UsageReportQuery,
  UsageReportRow,
} from './steering.js';
export type {
  AbortSignalLike,
  BlobLike,
  HttpMethod,
  ResponseHead,
  StreamSink,
  Transport,
  TransportRequest,
  TransportResponse,
  UploadFile,
  UploadRequest,
} from './transport.js';
export { createAbort } from './transport.js';
// Listed one by one: `export type *` needs TypeScript 5, which not every DevTools build bundles.
export type {
  Aigc,
  AnswerStreamQuery,
  AuditEntry,
  ChatDelta,
  ChatDone,
  ChatErrorData,
  ChatEvent,
  ChatMeta,
  ChatResult,
  ClientLogEntry,
  CompletedUpload,
  Consent,
  ConsentList,
  ConsentState,
  Conversation,
  CreateConversationRequest,
  CreateUploadRequest,
  ErrorCode,
  ErrorDetail,
  ErrorEnvelope,
  Gender,
  Health,
  HealthCheck,
  HealthProfile,
  ListAuditQuery,
  ListConversationsQuery,
  ListLogsQuery,
  ListMessagesQuery,
  LoginRequest,
  LoginResponse,
  LogLevel,
  LogoutRequest,
  Message,
  MessageRole,
  MessageStatus,
  Page,
  PostLogsRequest,
  PostLogsResponse,
  ProfilePatch,
  RecordConsentRequest,
  RefreshRequest,
  Role,
  SystemLogEntry,
  TextChatRequest,
  TokenPair,
  Triage,
  TriageAction,
  UpdateConversationRequest,
  Upload,
  UploadPurpose,
  UploadTicket,
  Usage,
  User,
  UserExport,
  VisionChatRequest,
} from './types.js';
export type { UploadImageOptions } from './uploads.js';

export type ClientOptions = {
  /** Where /api/v1 lives, e.g. `https://api.example.com` (a trailing slash is ignored). */
  baseUrl: string;
  transport: Transport;
  /** Default: in memory (the session ends with the process). */
  tokens?: TokenStore;
  /** The session is over (no tokens, or the refresh token was refused): time to sign in again. */
  onAuthFailure?: () => void;
  /** How a cut chat stream is resumed (see answers.ts); `false`: a cut is an error. */
  resume?: ResumeOptions | false;
};

/**
 * Every call of the contract: the account (users.ts), chat (chat.ts) and its answers (answers.ts,
 * steering.ts), uploads (uploads.ts), and the areas below.
 */
export interface Client extends UsersCalls, ChatCalls, AnswerCalls, SteeringCalls, UploadCalls {
  readonly tokens: TokenStore;
  /** Conversations and their messages (client/conversations.ts). */
  conversations: ConversationsClient;
  /** The app's log entries; the system log and the audit trail for admins (client/logs.ts). */
  logs: LogsClient;
  health(o?: CallOptions): Promise<Health>;
  /** The complaint channel (see complaints.ts). */
  complaints: ComplaintsApi;
  /** Family members (client/members.ts). */
  members: MembersClient;
  /** Lab reports and indicator trends (client/records.ts). */
  records: RecordsClient;
}

export function createClient(opts: ClientOptions): Client {
  const base = `${opts.baseUrl.replace(/\/+$/, '')}/api/v1`;
  const transport = opts.transport;
  const exchange = createExchange(base, transport);
  const anonymous = caller((spec) => exchange(spec, undefined));
  const session = createSession({
    tokens: opts.tokens ?? memoryTokenStore(),
    onAuthFailure: opts.onAuthFailure,
    anonymous,
  });
  // With the access token, refreshed once on a 401.
  const call = caller((spec) => session.authed((token) => exchange(spec, token)));

  const stopAnswer: Client['stopAnswer'] = (conversationId, messageId, o) =>
    call.json({
      method: 'POST',
      path: `/conversations/${seg(conversationId)}/messages/${seg(messageId)}/stop`,
      ...signalOf(o),
    });
  // Chat streams: followed to their end through cuts, stopped on the server (answers.ts).
  const answers = createAnswers({
    base,
    transport,
    authed: session.authed,
    errorFrom,
    stopAnswer,
    ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
  });
  const chat = chatSender({ call, answers });

  return {
    tokens: session.tokens,
    ...createUsers({ session, call, anonymous }),
    conversations: conversationsClient(call),
    ...createChat(chat),
    followAnswer: (conversationId, messageId, o) => answers.follow(conversationId, messageId, o),
    stopAnswer,
    resumeAnswers: () => answers.resumeAll(),
    ...createSteering({
      json: (method, path, body, o, query) =>
        call.json({ method, path, query, ...(body === undefined ? {} : { body }), ...signalOf(o) }),
      empty: (method, path, o) => call.empty({ method, path, ...signalOf(o) }),
      chat,
    }),
    ...createUploads(call, transport),
    logs: logsClient(call),
    health: (o) => anonymous.json({ method: 'GET', path: '/health', ...signalOf(o) }),
    complaints: complaintsApi(call.json),
    members: membersClient(call),
    records: recordsClient(call),
  };
}
