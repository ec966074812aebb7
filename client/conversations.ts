// Conversations (/conversations): list, create, rename, archive and delete them, and page through
// their messages. An assistant message with `status: 'streaming'` is still being written: follow it
// with `client.followAnswer` (answers.ts).
import { type Caller, type CallOptions, seg, signalOf } from './http.js';
import type {
  Conversation,
  CreateConversationRequest,
  ListConversationsQuery,
  ListMessagesQuery,
  Message,
  Page,
  UpdateConversationRequest,
} from './types.js';

export interface ConversationsClient {
  list(query?: ListConversationsQuery, o?: CallOptions): Promise<Page<Conversation>>;
  create(body?: CreateConversationRequest, o?: CallOptions): Promise<Conversation>;
  get(id: string, o?: CallOptions): Promise<Conversation>;
  update(id: string, body: UpdateConversationRequest, o?: CallOptions): Promise<Conversation>;
  delete(id: string, o?: CallOptions): Promise<void>;
  messages(id: string, query?: ListMessagesQuery, o?: CallOptions): Promise<Page<Message>>;
}

export function conversationsClient(call: Caller): ConversationsClient {
  return {
    list: (query, o) =>
      call.json({ method: 'GET', path: '/conversations', query: { ...query }, ...signalOf(o) }),
    create: (body, o) =>
      call.json({ method: 'POST', path: '/conversations', body: body ?? {}, ...signalOf(o) }),
    get: (id, o) => call.json({ method: 'GET', path: `/conversations/${seg(id)}`, ...signalOf(o) }),
    update: (id, body, o) =>
      call.json({ method: 'PATCH', path: `/conversations/${seg(id)}`, body, ...signalOf(o) }),
    delete: (id, o) => call.empty({ method: 'DELETE', path: `/conversations/${seg(id)}`, ...signalOf(o) }),
    messages: (id, query, o) =>
      call.json({
        method: 'GET',
        path: `/conversations/${seg(id)}/messages`,
        query: { ...query },
        ...signalOf(o),
      }),
  };
}
