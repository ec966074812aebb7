// The mini-program's client of the v1 contract (../shared/API.md): typed calls, the chat stream,
// the upload sequence and token refresh. No runtime dependencies and no DOM or Node APIs; the
// platform comes in as a Transport (transports/wx.ts in the mini-program, transports/fetch.ts elsewhere).

import {
  type AnswerCalls,
  type AnswerState,
  type ChatAnswer,
  createAnswers,
  type ResumeOptions,
} from './answers.js';
import { type ComplaintsApi, complaintsApi } from './complaints.js';
import { ApiError, ERROR_STATUS } from './errors.js';
import { type Caller, type MembersClient, membersClient } from './members.js';
import { type RecordsClient, recordsClient } from './records.js';
import { createSteering, type SteeringCalls } from './steering.js';
import {
  type AbortSignalLike,
  abortedError,
  type HttpMethod,
  type Transport,
  type TransportResponse,
  type UploadFile,
} from './transport.js';
import type {
  AuditEntry,
  ChatEvent,
  ChatMeta,
  ChatResult,
  CompletedUpload,
  Consent,
  ConsentList,
  Conversation,
  CreateConversationRequest,
  CreateUploadRequest,
  ErrorCode,
  ErrorDetail,
  Health,
  ListAuditQuery,
  ListConversationsQuery,
  ListLogsQuery,
  ListMessagesQuery,
  LoginResponse,
  Message,
  Page,
  PostLogsRequest,
  PostLogsResponse,
  ProfilePatch,
  RecordConsentRequest,
  SystemLogEntry,
  TextChatRequest,
  TokenPair,
  Triage,
  UpdateConversationRequest,
  Upload,
  UploadPurpose,
  UploadTicket,
  Usage,
  User,
  UserExport,
  VisionChatRequest,
} from './types.js';

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

// ---- tokens ------------------------------------------------------------------------------------

export type Tokens = { accessToken: string; refreshToken: string };

/** Where the session lives between launches (wx storage in the mini-program); may be async. */
export interface TokenStore {
  get(): Tokens | null | Promise<Tokens | null>;
  set(tokens: Tokens): void | Promise<void>;
  clear(): void | Promise<void>;
}

export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (t) => {
      tokens = t;
    },
    clear: () => {
      tokens = null;
    },
  };
}

// ---- options and results -----------------------------------------------------------------------

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

export type CallOptions = { signal?: AbortSignalLike };

export type ChatStreamOptions = CallOptions & {
  stream?: true;
  /**
   * Each event as it arrives: `meta`, `triage`?, `delta`*, then `done` or `error`. On `replace`, show
   * `data.text` instead of everything shown of this answer (later deltas append to it).
   */
  onEvent?: (event: ChatEvent) => void;
  /** Comment lines (`: ping` keeps an idle stream alive). */
  onComment?: (text: string) => void;
  /** A retry with the same key and body replays the stored answer (kept 24 h). */
  idempotencyKey?: string;
  /** Progress of the stream: resuming after a cut, given up, done (see AnswerState). */
  onState?: (state: AnswerState) => void;
  /** Overrides the client's `resume` for this answer. */
  resume?: ResumeOptions | false;
};

export type ChatJsonOptions = CallOptions & { stream: false; idempotencyKey?: string };

/** A chat stream that ended with `done`. */
export type ChatStreamResult = ChatMeta & {
  /** The whole answer: every delta joined (after a `replace`, its text and what followed). */
  text: string;
  triage?: Triage;
  finishReason: string;
  usage: Usage;
  disclaimer?: string;
  requestId: string;
};

export type UploadImageOptions = CallOptions & {
  /** Bytes; required for a file path (wx.chooseMedia gives `tempFiles[i].size`), a Blob knows its own. */
  size?: number;
  /** Default: the Blob's type, else guessed from the file name's extension. */
  contentType?: string;
  filename?: string;
  /** Default `chat-image`. */
  purpose?: UploadPurpose;
};

export interface Client extends AnswerCalls, SteeringCalls {
  readonly tokens: TokenStore;
  /** Signs in with a `wx.login` code (or `dev:<name>` on a development server) and keeps the tokens. */
  login(code: string, o?: CallOptions): Promise<LoginResponse>;
  /** Rotates the refresh token now (calls do this by themselves on a 401). */
  refresh(): Promise<Tokens>;
  /** Ends the session on the server and forgets the tokens (they are forgotten even if the call fails). */
  logout(o?: CallOptions): Promise<void>;
  me(o?: CallOptions): Promise<User>;
  updateMe(patch: ProfilePatch, o?: CallOptions): Promise<User>;
  consents: {
    list(o?: CallOptions): Promise<ConsentList>;
    record(body: RecordConsentRequest, o?: CallOptions): Promise<Consent>;
  };
  exportMe(o?: CallOptions): Promise<UserExport>;
  /** Deletes the account and everything in it, then forgets the tokens. */
  deleteMe(o?: CallOptions): Promise<void>;
  conversations: {
    list(query?: ListConversationsQuery, o?: CallOptions): Promise<Page<Conversation>>;
    create(body?: CreateConversationRequest, o?: CallOptions): Promise<Conversation>;
    get(id: string, o?: CallOptions): Promise<Conversation>;
    update(id: string, body: UpdateConversationRequest, o?: CallOptions): Promise<Conversation>;
    delete(id: string, o?: CallOptions): Promise<void>;
    messages(id: string, query?: ListMessagesQuery, o?: CallOptions): Promise<Page<Message>>;
  };
  /**
   * With `{ stream: false }` one JSON answer; otherwise the event stream, resolved at `done`, resumed
   * by itself when cut; its `stop()` stops the answer.
   */
  textChat(body: TextChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  textChat(body: TextChatRequest, o?: ChatStreamOptions): ChatAnswer;
  visionChat(body: VisionChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  visionChat(body: VisionChatRequest, o?: ChatStreamOptions): ChatAnswer;
  uploads: {
    create(body: CreateUploadRequest, o?: CallOptions): Promise<UploadTicket>;
    complete(id: string, o?: CallOptions): Promise<CompletedUpload>;
    get(id: string, o?: CallOptions): Promise<Upload>;
    delete(id: string, o?: CallOptions): Promise<void>;
  };
  /** The whole upload: ticket → the form straight to object storage → complete. */
  uploadImage(file: UploadFile, o?: UploadImageOptions): Promise<CompletedUpload>;
  logs: {
    post(body: PostLogsRequest, o?: CallOptions): Promise<PostLogsResponse>;
    /** Admins only. */
    list(query?: ListLogsQuery, o?: CallOptions): Promise<Page<SystemLogEntry>>;
    /** Admins only. */
    audit(query?: ListAuditQuery, o?: CallOptions): Promise<Page<AuditEntry>>;
  };
  health(o?: CallOptions): Promise<Health>;
  /** The complaint channel (see complaints.ts). */
  complaints: ComplaintsApi;
  /** Family members (client/members.ts). */
  members: MembersClient;
  /** Lab reports and indicator trends (client/records.ts). */
  records: RecordsClient;
}

// ---- helpers -----------------------------------------------------------------------------------

type Query = Record<string, string | number | boolean | undefined>;

type Spec = {
  method: HttpMethod;
  path: string;
  query?: Query;
  body?: unknown;
  auth: boolean;
  signal?: AbortSignalLike;
  headers?: Record<string, string>;
};

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value !== undefined) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

const seg = (id: string) => encodeURIComponent(id);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isDetails(v: unknown): v is ErrorDetail[] {
  return Array.isArray(v) && v.every((d) => isRecord(d) && typeof d.path === 'string');
}

function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERROR_STATUS, v);
}

/** A code for an answer without the envelope (a proxy's page, say), from its status. */
function codeForStatus(status: number): ErrorCode {
  for (const code of Object.keys(ERROR_STATUS)) {
    if (isErrorCode(code) && ERROR_STATUS[code] === status && code !== 'CONSENT_REQUIRED') return code;
  }
  return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
}

/** The ApiError of an HTTP error answer. */
function errorFrom(status: number, headers: Record<string, string>, text: string): ApiError {
  const headerId = headers['x-request-id'] ?? '';
  const retry = Number(headers['retry-after']);
  const retryAfter = headers['retry-after'] !== undefined && Number.isFinite(retry) ? retry : undefined;
  const body = parseJson(text);
  const e = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (e && isErrorCode(e.code) && typeof e.message === 'string') {
    return new ApiError({
      status,
      code: e.code,
      message: e.message,
      requestId: typeof e.requestId === 'string' ? e.requestId : headerId,
      ...(isDetails(e.details) ? { details: e.details } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  return new ApiError({
    status,
    code: codeForStatus(status),
    message: `HTTP ${status}`,
    requestId: headerId,
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

function guessType(filename: string): string {
  const ext = filename.slice(filename.lastIndexOf('.') + 1).toLowerCase();
  return IMAGE_TYPES[ext] ?? 'application/octet-stream';
}

// ---- the client --------------------------------------------------------------------------------

export function createClient(opts: ClientOptions): Client {
  const base = `${opts.baseUrl.replace(/\/+$/, '')}/api/v1`;
  const transport = opts.transport;
  const tokens = opts.tokens ?? memoryTokenStore();
  let refreshing: Promise<Tokens> | undefined;

  const authFailed = () => {
    try {
      opts.onAuthFailure?.();
    } catch {
      // The app's handler must not turn into this call's error.
    }
  };

  /** Rotates the refresh token; a refused one ends the session. */
  const rotate = async (refreshToken: string): Promise<Tokens> => {
    let pair: TokenPair;
    try {
      pair = await json<TokenPair>({
        method: 'POST',
        path: '/users/refresh',
        body: { refreshToken },
        auth: false,
      });
    } catch (err) {
      // 400/401: this refresh token will never work again. Anything else (offline, 5xx, 429) may pass:
      // the session is kept for the next try.
      if (err instanceof ApiError && (err.status === 400 || err.status === 401)) {
        await tokens.clear();
        authFailed();
      }
      throw err;
    }
    const next = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
    await tokens.set(next);
    return next;
  };

  /** One refresh at a time: every call that hits a 401 meanwhile waits for the same one. */
  const refreshOnce = (refreshToken: string): Promise<Tokens> => {
    if (!refreshing) {
      const done = () => {
        refreshing = undefined;
      };
      refreshing = rotate(refreshToken);
      refreshing.then(done, done);
    }
    return refreshing;
  };

  /** Runs `send` with the access token; on a 401, refreshes once and runs it again. */
  const authed = async <T>(send: (token: string | undefined) => Promise<T>): Promise<T> => {
    const used = (await tokens.get())?.accessToken;
    try {
      return await send(used);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      const current = await tokens.get();
      if (!current) {
        // Tokens cleared by a refresh that failed meanwhile have already been reported.
        if (used === undefined) authFailed();
        throw err;
      }
      // Rotated by another call while this one was out: the refresh token it held is spent, and
      // using it again would revoke the whole session.
      const fresh = current.accessToken !== used ? current : await refreshOnce(current.refreshToken);
      return send(fresh.accessToken);
    }
  };

  const exchange = async (spec: Spec, token: string | undefined): Promise<TransportResponse> => {
    if (spec.signal?.aborted) throw abortedError();
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await transport.request({
      method: spec.method,
      url: base + spec.path + queryString(spec.query),
      headers,
      ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    if (res.status >= 400) throw errorFrom(res.status, res.headers, res.text);
    return res;
  };

  const send = (spec: Spec) => (spec.auth ? authed((t) => exchange(spec, t)) : exchange(spec, undefined));

  async function json<T>(spec: Spec): Promise<T> {
    const res = await send(spec);
    const body = parseJson(res.text);
    if (body === undefined) {
      throw new ApiError({
        status: res.status,
        code: 'INVALID_RESPONSE',
        message: 'expected a JSON body',
        requestId: res.headers['x-request-id'] ?? '',
      });
    }
    // The contract's shape; the tests validate the server's answers against it.
    return body as T;
  }

  const empty = async (spec: Spec): Promise<void> => {
    await send(spec);
  };

  const signalOf = (o: CallOptions | undefined) => (o?.signal ? { signal: o.signal } : {});
  const authedCalls: Caller = {
    json: (spec) => json({ ...spec, auth: true }),
    empty: (spec) => empty({ ...spec, auth: true }),
  };

  const stopAnswer: Client['stopAnswer'] = (conversationId, messageId, o) =>
    json({
      method: 'POST',
      path: `/conversations/${seg(conversationId)}/messages/${seg(messageId)}/stop`,
      auth: true,
      ...signalOf(o),
    });
  // Chat streams: followed to their end through cuts, stopped on the server (answers.ts).
  const answers = createAnswers({
    base,
    transport,
    authed,
    errorFrom,
    stopAnswer,
    ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
  });

  function chat(path: string, body: object, o: ChatJsonOptions): Promise<ChatResult>;
  function chat(path: string, body: object, o?: ChatStreamOptions): ChatAnswer;
  function chat(
    path: string,
    body: object,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    if (o?.stream === false) {
      return json<ChatResult>({
        method: 'POST',
        path,
        query: { stream: 'false' },
        body,
        auth: true,
        ...signalOf(o),
        ...(o.idempotencyKey ? { headers: { 'idempotency-key': o.idempotencyKey } } : {}),
      });
    }
    return answers.start(path, body, o ?? {});
  }

  function textChat(body: TextChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  function textChat(body: TextChatRequest, o?: ChatStreamOptions): ChatAnswer;
  function textChat(
    body: TextChatRequest,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    return o?.stream === false ? chat('/text-chat', body, o) : chat('/text-chat', body, o);
  }

  function visionChat(body: VisionChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  function visionChat(body: VisionChatRequest, o?: ChatStreamOptions): ChatAnswer;
  function visionChat(
    body: VisionChatRequest,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    return o?.stream === false ? chat('/vision-chat', body, o) : chat('/vision-chat', body, o);
  }

  const uploads: Client['uploads'] = {
    create: (body, o) => json({ method: 'POST', path: '/uploads', body, auth: true, ...signalOf(o) }),
    complete: (id, o) =>
      json({ method: 'POST', path: `/uploads/${seg(id)}/complete`, auth: true, ...signalOf(o) }),
    get: (id, o) => json({ method: 'GET', path: `/uploads/${seg(id)}`, auth: true, ...signalOf(o) }),
    delete: (id, o) => empty({ method: 'DELETE', path: `/uploads/${seg(id)}`, auth: true, ...signalOf(o) }),
  };

  return {
    tokens,

    login: async (code, o) => {
      const answer = await json<LoginResponse>({
        method: 'POST',
        path: '/users/login',
        body: { code },
        auth: false,
        ...signalOf(o),
      });
      await tokens.set({ accessToken: answer.accessToken, refreshToken: answer.refreshToken });
      return answer;
    },

    refresh: async () => {
      const current = await tokens.get();
      if (!current) {
        authFailed();
        throw new ApiError({ status: 401, code: 'UNAUTHORIZED', message: 'not signed in', requestId: '' });
      }
      return refreshOnce(current.refreshToken);
    },

    logout: async (o) => {
      const current = await tokens.get();
      try {
        if (current) {
          await empty({
            method: 'POST',
            path: '/users/logout',
            body: { refreshToken: current.refreshToken },
            auth: false,
            ...signalOf(o),
          });
        }
      } finally {
        await tokens.clear();
      }
    },

    me: (o) => json({ method: 'GET', path: '/users/me', auth: true, ...signalOf(o) }),
    updateMe: (patch, o) =>
      json({ method: 'PATCH', path: '/users/me', body: patch, auth: true, ...signalOf(o) }),
    consents: {
      list: (o) => json({ method: 'GET', path: '/users/me/consents', auth: true, ...signalOf(o) }),
      record: (body, o) =>
        json({ method: 'POST', path: '/users/me/consents', body, auth: true, ...signalOf(o) }),
    },
    exportMe: (o) => json({ method: 'GET', path: '/users/me/export', auth: true, ...signalOf(o) }),
    deleteMe: async (o) => {
      await empty({ method: 'DELETE', path: '/users/me', auth: true, ...signalOf(o) });
      await tokens.clear();
    },

    conversations: {
      list: (query, o) =>
        json({ method: 'GET', path: '/conversations', query: { ...query }, auth: true, ...signalOf(o) }),
      create: (body, o) =>
        json({ method: 'POST', path: '/conversations', body: body ?? {}, auth: true, ...signalOf(o) }),
      get: (id, o) => json({ method: 'GET', path: `/conversations/${seg(id)}`, auth: true, ...signalOf(o) }),
      update: (id, body, o) =>
        json({ method: 'PATCH', path: `/conversations/${seg(id)}`, body, auth: true, ...signalOf(o) }),
      delete: (id, o) =>
        empty({ method: 'DELETE', path: `/conversations/${seg(id)}`, auth: true, ...signalOf(o) }),
      messages: (id, query, o) =>
        json({
          method: 'GET',
          path: `/conversations/${seg(id)}/messages`,
          query: { ...query },
          auth: true,
          ...signalOf(o),
        }),
    },

    textChat,
    visionChat,
    followAnswer: (conversationId, messageId, o) => answers.follow(conversationId, messageId, o),
    stopAnswer,
    resumeAnswers: () => answers.resumeAll(),
    uploads,
    ...createSteering({
      json: (method, path, body, o, query) =>
        json({ method, path, query, ...(body === undefined ? {} : { body }), auth: true, ...signalOf(o) }),
      empty: (method, path, o) => empty({ method, path, auth: true, ...signalOf(o) }),
      chat,
    }),

    uploadImage: async (file, o = {}) => {
      const isPath = typeof file === 'string';
      const filename = o.filename ?? (isPath ? file.slice(file.lastIndexOf('/') + 1) || 'image' : 'image');
      const contentType = o.contentType || (isPath ? '' : file.type) || guessType(filename);
      const size = o.size ?? (isPath ? undefined : file.size);
      if (size === undefined) throw new TypeError('uploadImage: `size` is required for a file path');
      const purpose = o.purpose ?? 'chat-image';
      const ticket = await uploads.create({ filename, contentType, size, purpose }, o);
      if (o.signal?.aborted) throw abortedError();
      const stored = await transport.upload({
        url: ticket.url,
        fields: ticket.fields,
        file,
        filename,
        contentType,
        ...signalOf(o),
      });
      if (stored.status < 200 || stored.status >= 300) {
        throw new ApiError({
          status: stored.status,
          code: 'UPLOAD_FAILED',
          message: `object storage answered ${stored.status}`,
          requestId: '',
        });
      }
      return uploads.complete(ticket.fileId, o);
    },

    logs: {
      post: (body, o) => json({ method: 'POST', path: '/logs', body, auth: true, ...signalOf(o) }),
      list: (query, o) =>
        json({ method: 'GET', path: '/logs', query: { ...query }, auth: true, ...signalOf(o) }),
      audit: (query, o) =>
        json({ method: 'GET', path: '/logs/audit', query: { ...query }, auth: true, ...signalOf(o) }),
    },

    health: (o) => json({ method: 'GET', path: '/health', auth: false, ...signalOf(o) }),
    complaints: complaintsApi(json),
    members: membersClient(authedCalls),
    records: recordsClient(authedCalls),
  };
}
