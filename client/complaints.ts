// The complaint channel (《生成式人工智能服务管理暂行办法》 Art. 15): the user files and follows
// complaints; administrators list and answer them. Hooked into createClient as `client.complaints`.
import type { AbortSignalLike } from './transport.js';
import type { Page } from './types.js';

export type ComplaintCategory = 'harmful' | 'inaccurate' | 'privacy' | 'other';
export type ComplaintStatus = 'open' | 'resolved' | 'rejected';

/** `messageId`: one of the caller's own messages (another's answers 404); none for the service. */
export type NewComplaint = { messageId?: string; category: ComplaintCategory; description: string };

/** `answerBy`: when the answer is due. Show it to the user beside the complaint. */
export type ComplaintFiled = { id: string; status: ComplaintStatus; createdAt: string; answerBy: string };

/** `messageId` becomes null once the message (or its conversation) is deleted; the complaint stays. */
export type Complaint = {
  id: string;
  messageId: string | null;
  category: ComplaintCategory;
  description: string;
  status: ComplaintStatus;
  resolution: string | null;
  createdAt: string;
  answerBy: string;
  resolvedAt: string | null;
};

export type AdminComplaint = Complaint & { userId: string };
export type ListComplaintsQuery = { status?: ComplaintStatus; cursor?: string; limit?: number };
export type ComplaintAnswer = { status: 'resolved' | 'rejected'; resolution: string };

type CallOptions = { signal?: AbortSignalLike };
/** The client's JSON call (authenticated, with token refresh), handed in by createClient. */
export type JsonCall = <T>(spec: {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  auth: true;
  signal?: AbortSignalLike;
}) => Promise<T>;

export interface ComplaintsApi {
  file(body: NewComplaint, o?: CallOptions): Promise<ComplaintFiled>;
  /** The caller's complaints, newest first. */
  list(o?: CallOptions): Promise<{ items: Complaint[] }>;
  /** Admins only. */
  adminList(query?: ListComplaintsQuery, o?: CallOptions): Promise<Page<AdminComplaint>>;
  /** Admins only; a complaint is answered once (409 after). */
  answer(id: string, body: ComplaintAnswer, o?: CallOptions): Promise<AdminComplaint>;
}

export function complaintsApi(call: JsonCall): ComplaintsApi {
  const sig = (o: CallOptions | undefined) => (o?.signal ? { signal: o.signal } : {});
  return {
    file: (body, o) => call({ method: 'POST', path: '/users/me/complaints', body, auth: true, ...sig(o) }),
    list: (o) => call({ method: 'GET', path: '/users/me/complaints', auth: true, ...sig(o) }),
    adminList: (query, o) =>
      call({ method: 'GET', path: '/logs/complaints', query: { ...query }, auth: true, ...sig(o) }),
    answer: (id, body, o) =>
      call({
        method: 'PATCH',
        path: `/logs/complaints/${encodeURIComponent(id)}`,
        body,
        auth: true,
        ...sig(o),
      }),
  };
}
