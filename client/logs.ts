// Logs (/logs): the mini-program's own log entries, and for administrators the system log and the
// audit trail.
import { type Caller, type CallOptions, signalOf } from './http.js';
import type {
  AuditEntry,
  ListAuditQuery,
  ListLogsQuery,
  Page,
  PostLogsRequest,
  PostLogsResponse,
  SystemLogEntry,
} from './types.js';

export interface LogsClient {
  post(body: PostLogsRequest, o?: CallOptions): Promise<PostLogsResponse>;
  /** Admins only. */
  list(query?: ListLogsQuery, o?: CallOptions): Promise<Page<SystemLogEntry>>;
  /** Admins only. */
  audit(query?: ListAuditQuery, o?: CallOptions): Promise<Page<AuditEntry>>;
}

export function logsClient(call: Caller): LogsClient {
  return {
    post: (body, o) => call.json({ method: 'POST', path: '/logs', body, ...signalOf(o) }),
    list: (query, o) => call.json({ method: 'GET', path: '/logs', query: { ...query }, ...signalOf(o) }),
    audit: (query, o) =>
      call.json({ method: 'GET', path: '/logs/audit', query: { ...query }, ...signalOf(o) }),
  };
}
