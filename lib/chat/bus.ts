// The answer bus: how an answer being written on one instance reaches readers and stop requests on
// any other. Each answer has a Redis list of its events (appended in small batches by the writer,
// read by index by followers) and a stop key the writer looks at on every batch. Redis and not
// PostgreSQL because followers poll it several times a second: a list read by index is one cheap
// command, and the keys expire by themselves once the answer is old. PostgreSQL stays the record
// (the answer row, partial saves every 2 s); without Redis the bus is absent and followers and stop
// requests fall back to it (lib/chat/live.ts).
import type { Config } from '../config/index.js';
import type { Triage } from '../db/schema.js';
import type { ErrorCode } from '../errors.js';
import { withTimeout } from '../timeout.js';

export type DoneEvent = {
  assistantMessageId: string;
  finishReason: string;
  usage: { promptTokens: number; completionTokens: number };
  disclaimer?: string;
};
export type ErrorEvent = { code: ErrorCode; message: string; assistantMessageId?: string };

/** One event of an answer, as stored on the bus and kept in process for local followers. */
export type AnswerEvent =
  | { t: 'delta'; text: string }
  | { t: 'triage'; triage: Triage }
  /** Everything shown so far is replaced by `text` (model-judged emergency, content security). */
  | { t: 'replace'; text: string }
  | { t: 'done'; done: DoneEvent }
  | { t: 'error'; error: ErrorEvent };

export interface AnswerBus {
  /** Appends events (none: only looks) and tells whether a stop was requested. One round trip. */
  publish(id: string, events: readonly AnswerEvent[]): Promise<{ stop: boolean }>;
  /** Events from index `from` on; null when this answer has no log (not started here, or expired). */
  read(id: string, from: number): Promise<AnswerEvent[] | null>;
  requestStop(id: string): Promise<void>;
  close(): Promise<void>;
}

/** Long enough for any answer (maxDuration 300 s) plus late resumes; refreshed on every batch. */
const LOG_TTL_MS = 15 * 60_000;
const STOP_TTL_MS = 10 * 60_000;
const logKey = (prefix: string, id: string) => `${prefix}answer:${id}`;
const stopKey = (prefix: string, id: string) => `${prefix}answer:${id}:stop`;

function parse(items: unknown[]): AnswerEvent[] {
  return items.map((i) => (typeof i === 'string' ? JSON.parse(i) : i) as AnswerEvent);
}

/** A read of an answer's log: null when it has none (never written here, or expired). */
function fromLog(items: unknown[], from: number): AnswerEvent[] | null {
  if (items.length === 0 && from === 0) return null;
  return parse(items);
}

/** Upstash REST when configured, else REDIS_URL through ioredis, else none. */
export async function createAnswerBus(config: Config): Promise<AnswerBus | null> {
  const prefix = config.RATE_LIMIT_PREFIX;
  const ms = Math.max(config.REDIS_TIMEOUT_MS, 1_000);
  if (config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN) {
    const { Redis } = await import('@upstash/redis');
    const redis = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      retry: false,
      automaticDeserialization: false,
      enableTelemetry: false,
    });
    return {
      publish: async (id, events) => {
        const p = redis.pipeline();
        if (events.length) {
          p.rpush(logKey(prefix, id), ...events.map((e) => JSON.stringify(e)));
          p.pexpire(logKey(prefix, id), LOG_TTL_MS);
        }
        p.get(stopKey(prefix, id));
        const out = await withTimeout(p.exec(), ms, 'answer bus');
        return { stop: out.at(-1) !== null };
      },
      read: async (id, from) => {
        return fromLog(await withTimeout(redis.lrange(logKey(prefix, id), from, -1), ms, 'answer bus'), from);
      },
      requestStop: async (id) => {
        await withTimeout(redis.set(stopKey(prefix, id), '1', { px: STOP_TTL_MS }), ms, 'answer bus');
      },
      close: async () => {},
    };
  }
  if (config.REDIS_URL) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      commandTimeout: ms,
      maxRetriesPerRequest: 1,
      connectTimeout: ms,
    });
    redis.on('error', () => {});
    return {
      publish: async (id, events) => {
        const p = redis.pipeline();
        if (events.length) {
          p.rpush(logKey(prefix, id), ...events.map((e) => JSON.stringify(e)));
          p.pexpire(logKey(prefix, id), LOG_TTL_MS);
        }
        p.get(stopKey(prefix, id));
        const out = (await withTimeout(p.exec(), ms, 'answer bus')) ?? [];
        const last = out.at(-1);
        if (!last || last[0]) throw last?.[0] ?? new Error('answer bus: no reply');
        return { stop: last[1] !== null };
      },
      read: async (id, from) => {
        return fromLog(await withTimeout(redis.lrange(logKey(prefix, id), from, -1), ms, 'answer bus'), from);
      },
      requestStop: async (id) => {
        await withTimeout(redis.set(stopKey(prefix, id), '1', 'PX', STOP_TTL_MS), ms, 'answer bus');
      },
      close: async () => {
        redis.disconnect();
      },
    };
  }
  return null;
}
