// Persists request logs to system_logs for the admin log viewer. Only ids, routes, statuses, codes
// and timings go in: never bodies, queries, headers or anything a user wrote.
//
// Written after the response (rt.background: Vercel's waitUntil keeps a deployed function alive
// until it ends, and shutdown waits for it), with a time cap: a slow or failed database costs at
// most WRITE_TIMEOUT_MS of background work and never the request itself.
import type { SystemLog } from '../db/schema.js';
import { systemLogs } from '../db/schema.js';
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';

export type SystemLogRow = Omit<SystemLog, 'id' | 'at'> & { at?: Date };

const WRITE_TIMEOUT_MS = 1_500;

/** Inserts rows; answers false (and logs why, to stdout only) instead of throwing. */
export async function writeSystemLogs(
  rt: Runtime,
  rows: SystemLogRow[],
  timeoutMs = WRITE_TIMEOUT_MS,
): Promise<boolean> {
  if (rows.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref?.();
  });
  const insert = (async () => {
    const db = await rt.db();
    await db.insert(systemLogs).values(rows);
    return 'ok' as const;
  })();
  try {
    const outcome = await Promise.race([insert, timeout]);
    if (outcome === 'timeout') {
      // The insert may still land later; what matters is that the request does not wait.
      insert.catch(() => {});
      rt.log.warn({ rows: rows.length, timeoutMs }, 'system log write timed out');
      return false;
    }
    return true;
  } catch (err) {
    rt.log.warn({ rows: rows.length, ...errorFields(err) }, 'system log write failed');
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export type RequestLog = {
  fn: string;
  method: string;
  route: string;
  status: number;
  latencyMs: number;
  userId: string | undefined;
  requestId: string;
  errorCode: string | undefined;
  errorType: string | undefined;
};

export function levelForStatus(status: number): SystemLog['level'] {
  if (status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return 'info';
}

/** Health probes and the API docs are polled and carry no user activity: kept out unless they fail. */
export function shouldPersist(r: Pick<RequestLog, 'fn' | 'status'>): boolean {
  if ((r.fn === 'health' || r.fn === 'docs') && r.status < 500) return false;
  return true;
}

export function requestLogRow(r: RequestLog): SystemLogRow {
  return {
    level: levelForStatus(r.status),
    source: 'server',
    route: r.route,
    method: r.method,
    status: r.status,
    latencyMs: r.latencyMs,
    userId: r.userId ?? null,
    requestId: r.requestId,
    errorCode: r.errorCode ?? null,
    message: 'request',
    context: r.errorType ? { fn: r.fn, errorType: r.errorType } : { fn: r.fn },
  };
}
