// The mini-program client's hand-written types (client/types.ts) against the server: at the type
// level they are the zod schemas' and the chat engine's types (checked by tsc), and field by field,
// enum by enum and query by query they say what the served OpenAPI document says; every documented
// operation has a client call.
// The document itself: openapi-document.test.ts; what the routes answer: openapi-walk.test.ts.
import type { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { ComplaintSchema, NewComplaintSchema } from '../../api/_routes/complaints.js';
import type { MemberSchema } from '../../api/_routes/members.js';
import type { IndicatorSchema, LabReportSchema } from '../../api/v1/records.js';
import type { HealthProfileSchema, UserSchema } from '../../api/v1/users.js';
import type { Complaint, NewComplaint } from '../../client/complaints.js';
import {
  type Aigc,
  type AnswerStreamQuery,
  type AuditEntry,
  type ChatDone,
  type ChatErrorData,
  type ChatMeta,
  type ChatResult,
  type ClientLogEntry,
  type CompletedUpload,
  type Consent,
  type ConsentState,
  type Conversation,
  type CreateUploadRequest,
  ERROR_STATUS,
  type ErrorCode,
  type ErrorEnvelope,
  type Health,
  type HealthProfile,
  type Indicator,
  type LabReport,
  type ListAuditQuery,
  type ListConversationsQuery,
  type ListLogsQuery,
  type ListMessagesQuery,
  type LoginResponse,
  type Member,
  type Message,
  type PostLogsRequest,
  type PostLogsResponse,
  type ProfilePatch,
  type RecordConsentRequest,
  type SystemLogEntry,
  type TextChatRequest,
  type TokenPair,
  type Triage,
  type Upload,
  type UploadTicket,
  type Usage,
  type User,
  type UserExport,
  type VisionChatRequest,
} from '../../client/index.js';
import type { DoneEvent, ErrorEvent } from '../../lib/chat/bus.js';
import type { MetaEvent } from '../../lib/chat/outcome.js';
import type { ChatResultSchema } from '../../lib/chat/schemas.js';
import type {
  ConversationSchema,
  MessageSchema,
  TriageSchema,
  UsageSchema,
} from '../../lib/conversations/schemas.js';
import { CODE_TO_STATUS } from '../../lib/http/errors.js';
import type { ErrorSchema } from '../../lib/http/openapi.js';
import {
  component,
  deref,
  docShape,
  isObject,
  type OpenApiDoc,
  operations,
  type Presence,
  request,
  response,
  schemaAt,
  servedDocument,
  templateRegex,
  type Where,
} from '../helpers/openapi.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let doc: OpenApiDoc;

beforeAll(async () => {
  stack = await startStack({});
  doc = await servedDocument(stack.server.url);
});
afterAll(() => stack?.close());

// Field presence (required or optional, null allowed or not) as the client's types say it.
type PresenceOf<T, K extends keyof T> =
  object extends Pick<T, K>
    ? null extends T[K]
      ? 'optional-nullable'
      : 'optional'
    : null extends T[K]
      ? 'nullable'
      : 'required';
/** Every key of T with its presence: a literal of this type mirrors T exactly (the compiler checks it). */
type Shape<T> = { [K in keyof T]-?: PresenceOf<T, K> };
const shape =
  <T>() =>
  (s: Shape<T>): Record<string, Presence> =>
    s;
/** Every member of a string union, exactly: a literal of this type lists them all and nothing else. */
const members =
  <U extends string>() =>
  (m: { [K in U]: true }): string[] =>
    Object.keys(m);

describe('the client’s types match the server', () => {
  it('type-level: the client’s types are the zod schemas’ and the engine’s types', () => {
    // Checked by tsc (npm run typecheck): a drift is a compile error in this file.
    expectTypeOf<User>().toEqualTypeOf<z.output<typeof UserSchema>>();
    expectTypeOf<HealthProfile>().toEqualTypeOf<z.output<typeof HealthProfileSchema>>();
    expectTypeOf<Conversation>().toEqualTypeOf<z.output<typeof ConversationSchema>>();
    expectTypeOf<Message>().toEqualTypeOf<z.output<typeof MessageSchema>>();
    expectTypeOf<Triage>().toEqualTypeOf<z.output<typeof TriageSchema>>();
    expectTypeOf<Usage>().toEqualTypeOf<z.output<typeof UsageSchema>>();
    expectTypeOf<ChatResult>().toEqualTypeOf<z.output<typeof ChatResultSchema>>();
    expectTypeOf<ErrorEnvelope>().toEqualTypeOf<z.output<typeof ErrorSchema>>();
    expectTypeOf<ChatMeta>().toEqualTypeOf<MetaEvent>();
    expectTypeOf<ChatDone>().toEqualTypeOf<DoneEvent>();
    expectTypeOf<ChatErrorData>().toEqualTypeOf<ErrorEvent>();
    expectTypeOf<ErrorCode>().toEqualTypeOf<keyof typeof CODE_TO_STATUS>();
    expectTypeOf<Complaint>().toEqualTypeOf<z.output<typeof ComplaintSchema>>();
    expectTypeOf<NewComplaint>().toEqualTypeOf<z.input<typeof NewComplaintSchema>>();
    expectTypeOf<Member>().toEqualTypeOf<z.output<typeof MemberSchema>>();
    expectTypeOf<LabReport>().toEqualTypeOf<z.output<typeof LabReportSchema>>();
    expectTypeOf<Indicator>().toEqualTypeOf<z.output<typeof IndicatorSchema>>();
  });

  it('the client’s status for each error code is the server’s', () => {
    expect(ERROR_STATUS).toEqual(CODE_TO_STATUS);
  });

  it('every field of every shape: the same names, required/optional and nullability as the document', () => {
    const cases: [string, Where, string[], Record<string, Presence>][] = [
      [
        'User',
        component('User'),
        [],
        shape<User>()({
          id: 'required',
          nickname: 'nullable',
          avatarFileId: 'nullable',
          gender: 'nullable',
          birthYear: 'nullable',
          healthProfile: 'nullable',
          role: 'required',
          consent: 'required',
          createdAt: 'required',
        }),
      ],
      [
        'ConsentState',
        component('User'),
        ['consent'],
        shape<ConsentState>()({
          required: 'required',
          currentVersion: 'required',
          acceptedVersion: 'nullable',
          text: 'nullable',
          crossBorderTransfer: 'nullable',
        }),
      ],
      [
        'HealthProfile',
        component('HealthProfile'),
        [],
        shape<HealthProfile>()({
          allergies: 'required',
          conditions: 'required',
          medications: 'required',
        }),
      ],
      [
        'LoginResponse',
        component('LoginAnswer'),
        [],
        shape<LoginResponse>()({
          accessToken: 'required',
          refreshToken: 'required',
          expiresIn: 'required',
          user: 'required',
        }),
      ],
      [
        'TokenPair',
        response('/api/v1/users/refresh', 'post', '200'),
        [],
        shape<TokenPair>()({
          accessToken: 'required',
          refreshToken: 'required',
          expiresIn: 'required',
        }),
      ],
      [
        'ProfilePatch',
        request('/api/v1/users/me', 'patch'),
        [],
        shape<ProfilePatch>()({
          nickname: 'optional-nullable',
          avatarFileId: 'optional-nullable',
          gender: 'optional-nullable',
          birthYear: 'optional-nullable',
          healthProfile: 'optional-nullable',
        }),
      ],
      [
        'Consent',
        component('Consent'),
        [],
        shape<Consent>()({
          id: 'required',
          version: 'required',
          accepted: 'required',
          createdAt: 'required',
        }),
      ],
      [
        'RecordConsentRequest',
        request('/api/v1/users/me/consents', 'post'),
        [],
        shape<RecordConsentRequest>()({
          version: 'required',
          accepted: 'required',
        }),
      ],
      [
        'UserExport',
        component('UserExport'),
        [],
        shape<UserExport>()({
          format: 'required',
          version: 'required',
          exportedAt: 'required',
          user: 'required',
          consents: 'required',
          conversations: 'required',
          messages: 'required',
          feedback: 'required',
          members: 'required',
          labReports: 'required',
          files: 'required',
          usage: 'required',
          complaints: 'required',
        }),
      ],
      [
        'Conversation',
        component('Conversation'),
        [],
        shape<Conversation>()({
          id: 'required',
          memberId: 'nullable',
          title: 'required',
          archived: 'required',
          createdAt: 'required',
          updatedAt: 'required',
          lastMessageAt: 'nullable',
        }),
      ],
      [
        'Message',
        component('Message'),
        [],
        shape<Message>()({
          id: 'required',
          role: 'required',
          content: 'required',
          imageIds: 'required',
          status: 'required',
          triage: 'optional',
          finishReason: 'optional-nullable',
          model: 'optional',
          usage: 'optional',
          aiGenerated: 'required',
          disclaimer: 'optional',
          aigc: 'nullable',
          version: 'optional',
          versions: 'optional',
          feedback: 'optional-nullable',
          createdAt: 'required',
        }),
      ],
      [
        'Aigc',
        component('Aigc'),
        [],
        shape<Aigc>()({
          Label: 'required',
          ContentProducer: 'required',
          ProduceID: 'required',
          ReservedCode1: 'required',
          ContentPropagator: 'required',
          PropagateID: 'required',
          ReservedCode2: 'required',
        }),
      ],
      [
        'Triage',
        component('Triage'),
        [],
        shape<Triage>()({
          level: 'required',
          category: 'required',
          message: 'required',
          actions: 'required',
          source: 'optional',
        }),
      ],
      [
        'TextChatRequest',
        component('TextChatRequest'),
        [],
        shape<TextChatRequest>()({
          conversationId: 'optional',
          memberId: 'optional',
          content: 'required',
        }),
      ],
      [
        'VisionChatRequest',
        component('VisionChatRequest'),
        [],
        shape<VisionChatRequest>()({
          conversationId: 'optional',
          memberId: 'optional',
          content: 'required',
          imageIds: 'required',
        }),
      ],
      [
        'ChatResult',
        component('ChatResult'),
        [],
        shape<ChatResult>()({
          conversationId: 'required',
          userMessage: 'required',
          assistantMessage: 'required',
        }),
      ],
      [
        'CreateUploadRequest',
        component('CreateUpload'),
        [],
        shape<CreateUploadRequest>()({
          filename: 'required',
          contentType: 'required',
          size: 'required',
          purpose: 'required',
        }),
      ],
      [
        'UploadTicket',
        component('UploadTicket'),
        [],
        shape<UploadTicket>()({
          fileId: 'required',
          method: 'required',
          url: 'required',
          fields: 'required',
          expiresAt: 'required',
          maxBytes: 'required',
          put: 'required',
        }),
      ],
      [
        'CompletedUpload',
        component('CompletedUpload'),
        [],
        shape<CompletedUpload>()({
          id: 'required',
          status: 'required',
          contentType: 'required',
          size: 'required',
          width: 'required',
          height: 'required',
        }),
      ],
      [
        'Upload',
        component('Upload'),
        [],
        shape<Upload>()({
          id: 'required',
          status: 'required',
          purpose: 'required',
          contentType: 'required',
          size: 'required',
          width: 'nullable',
          height: 'nullable',
          createdAt: 'required',
          completedAt: 'nullable',
          url: 'nullable',
          urlExpiresAt: 'nullable',
        }),
      ],
      [
        'PostLogsRequest',
        request('/api/v1/logs', 'post'),
        [],
        shape<PostLogsRequest>()({ entries: 'required' }),
      ],
      [
        'PostLogsResponse',
        response('/api/v1/logs', 'post', '202'),
        [],
        shape<PostLogsResponse>()({
          accepted: 'required',
        }),
      ],
      [
        'SystemLogEntry',
        component('SystemLogEntry'),
        [],
        shape<SystemLogEntry>()({
          id: 'required',
          at: 'required',
          level: 'required',
          source: 'required',
          route: 'nullable',
          method: 'nullable',
          status: 'nullable',
          latencyMs: 'nullable',
          userId: 'nullable',
          requestId: 'nullable',
          errorCode: 'nullable',
          message: 'nullable',
          context: 'nullable',
        }),
      ],
      [
        'AuditEntry',
        component('AuditEntry'),
        [],
        shape<AuditEntry>()({
          id: 'required',
          at: 'required',
          actorId: 'nullable',
          action: 'required',
          targetType: 'nullable',
          targetId: 'nullable',
          requestId: 'nullable',
        }),
      ],
      [
        'Health',
        component('Health'),
        [],
        shape<Health>()({ status: 'required', version: 'required', checks: 'required' }),
      ],
    ];
    const drift = cases.flatMap(([name, where, at, client]) => {
      const documented = docShape(doc, schemaAt(doc, where, at));
      const keys = new Set([...Object.keys(client), ...Object.keys(documented)]);
      return [...keys]
        .filter((k) => client[k] !== documented[k])
        .map((k) => `${name}.${k}: client ${client[k] ?? 'absent'}, document ${documented[k] ?? 'absent'}`);
    });
    expect(drift).toEqual([]);
  });

  it('the entries of POST /logs: the same fields as the document', () => {
    const entry = schemaAt(doc, request('/api/v1/logs', 'post'), ['entries']);
    const items = deref(doc, entry.items);
    expect(docShape(doc, isObject(items) ? items : {})).toEqual(
      shape<ClientLogEntry>()({
        level: 'required',
        message: 'required',
        context: 'optional',
        at: 'optional',
      }),
    );
  });

  it('the query parameters of the list routes: the same names as the document', () => {
    const queryOf = (path: string) => {
      const params = doc.paths[path]?.get?.parameters;
      return (Array.isArray(params) ? params : [])
        .filter(isObject)
        .filter((p) => p.in === 'query')
        .map((p) => String(p.name))
        .sort();
    };
    const keysOf = (s: Record<string, Presence>) => Object.keys(s).sort();
    expect(queryOf('/api/v1/conversations')).toEqual(
      keysOf(
        shape<ListConversationsQuery>()({ limit: 'optional', cursor: 'optional', archived: 'optional' }),
      ),
    );
    expect(queryOf('/api/v1/conversations/{id}/messages')).toEqual(
      keysOf(shape<ListMessagesQuery>()({ limit: 'optional', before: 'optional' })),
    );
    expect(queryOf('/api/v1/conversations/{id}/messages/{messageId}/stream')).toEqual(
      keysOf(shape<AnswerStreamQuery>()({ after: 'optional' })),
    );
    expect(queryOf('/api/v1/logs')).toEqual(
      keysOf(
        shape<ListLogsQuery>()({
          level: 'optional',
          since: 'optional',
          until: 'optional',
          route: 'optional',
          userId: 'optional',
          requestId: 'optional',
          cursor: 'optional',
          limit: 'optional',
        }),
      ),
    );
    expect(queryOf('/api/v1/logs/audit')).toEqual(
      keysOf(
        shape<ListAuditQuery>()({
          action: 'optional',
          actorId: 'optional',
          since: 'optional',
          until: 'optional',
          cursor: 'optional',
          limit: 'optional',
        }),
      ),
    );
  });

  it('every enumerated value: the same members as the document', () => {
    const enumAt = (where: Where, at: string[]) => {
      const s = schemaAt(doc, where, at);
      return (Array.isArray(s.enum) ? s.enum : [])
        .filter((v) => v !== null)
        .map(String)
        .sort();
    };
    const cases: [string, string[], string[]][] = [
      [
        'User.gender',
        enumAt(component('User'), ['gender']),
        members<NonNullable<User['gender']>>()({ male: true, female: true, other: true, unknown: true }),
      ],
      [
        'User.role',
        enumAt(component('User'), ['role']),
        members<User['role']>()({ user: true, admin: true }),
      ],
      [
        'Message.role',
        enumAt(component('Message'), ['role']),
        members<Message['role']>()({ user: true, assistant: true }),
      ],
      [
        'Message.status',
        enumAt(component('Message'), ['status']),
        members<Message['status']>()({
          streaming: true,
          complete: true,
          incomplete: true,
          error: true,
          blocked: true,
        }),
      ],
      [
        'Upload.status',
        enumAt(component('Upload'), ['status']),
        members<Upload['status']>()({ pending: true, ready: true }),
      ],
      [
        'Upload.purpose',
        enumAt(component('Upload'), ['purpose']),
        members<Upload['purpose']>()({ 'chat-image': true, avatar: true }),
      ],
      [
        'CreateUpload.purpose',
        enumAt(component('CreateUpload'), ['purpose']),
        members<CreateUploadRequest['purpose']>()({ 'chat-image': true, avatar: true }),
      ],
      [
        'SystemLogEntry.level',
        enumAt(component('SystemLogEntry'), ['level']),
        members<SystemLogEntry['level']>()({ debug: true, info: true, warn: true, error: true }),
      ],
      [
        'SystemLogEntry.source',
        enumAt(component('SystemLogEntry'), ['source']),
        members<SystemLogEntry['source']>()({ server: true, client: true }),
      ],
      [
        'Health.status',
        enumAt(component('Health'), ['status']),
        members<Health['status']>()({ ok: true, degraded: true }),
      ],
      ['Error.code', enumAt(component('Error'), ['error', 'code']), Object.keys(ERROR_STATUS)],
    ];
    expect(
      cases
        .filter(([, doc, client]) => doc.join() !== [...client].sort().join())
        .map(([n, d, c]) => `${n}: document ${d}, client ${c}`),
    ).toEqual([]);
  });

  // The client's paths, as templates; a new route in the document without a client call fails here.
  const clientPaths = [
    'get /api/v1/health',
    'post /api/v1/users/login',
    'post /api/v1/users/refresh',
    'post /api/v1/users/logout',
    'get /api/v1/users/me',
    'patch /api/v1/users/me',
    'delete /api/v1/users/me',
    'get /api/v1/users/me/export',
    'get /api/v1/users/me/consents',
    'post /api/v1/users/me/consents',
    'get /api/v1/conversations',
    'post /api/v1/conversations',
    'get /api/v1/conversations/{id}',
    'patch /api/v1/conversations/{id}',
    'delete /api/v1/conversations/{id}',
    'get /api/v1/conversations/{id}/messages',
    'get /api/v1/conversations/{id}/messages/{messageId}/stream',
    'post /api/v1/conversations/{id}/messages/{messageId}/stop',
    'post /api/v1/conversations/{id}/messages/{messageId}/regenerate',
    'get /api/v1/conversations/{id}/messages/{messageId}/versions',
    'put /api/v1/conversations/{id}/messages/{messageId}/feedback',
    'delete /api/v1/conversations/{id}/messages/{messageId}/feedback',
    'post /api/v1/text-chat',
    'post /api/v1/vision-chat',
    'post /api/v1/uploads',
    'post /api/v1/uploads/{id}/complete',
    'get /api/v1/uploads/{id}',
    'delete /api/v1/uploads/{id}',
    'post /api/v1/logs',
    'get /api/v1/logs',
    'get /api/v1/logs/audit',
    'post /api/v1/users/me/complaints',
    'get /api/v1/users/me/complaints',
    'get /api/v1/logs/complaints',
    'patch /api/v1/logs/complaints/{id}',
    'get /api/v1/logs/feedback',
    'get /api/v1/logs/usage',
    'get /api/v1/users/me/members',
    'post /api/v1/users/me/members',
    'patch /api/v1/users/me/members/{id}',
    'delete /api/v1/users/me/members/{id}',
    'post /api/v1/records/lab-reports',
    'get /api/v1/records/lab-reports',
    'get /api/v1/records/lab-reports/{id}',
    'delete /api/v1/records/lab-reports/{id}',
    'get /api/v1/records/indicators',
  ];
  // Served for people and cron, not for the mini-program.
  const notForTheApp = ['get /api/v1/openapi.json', 'get /api/v1/docs', 'get /api/v1/logs/retention'];

  it('every documented operation has a client call', () => {
    expect(operations(doc).filter((op) => !clientPaths.includes(op) && !notForTheApp.includes(op))).toEqual(
      [],
    );
  });

  it('every client call is a documented operation', () => {
    expect(clientPaths.filter((p) => !operations(doc).includes(p))).toEqual([]);
  });

  it('a documented template matches the concrete path the client builds', () => {
    expect(templateRegex('/api/v1/uploads/{id}/complete').test('/api/v1/uploads/abc/complete')).toBe(true);
  });
});
