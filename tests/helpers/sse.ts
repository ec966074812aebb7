// Reads a server-sent event stream with the same parser the mini-program uses (client/sse.ts).
import { createSseParser } from '../../client/sse.js';
import type { Json } from './harness.js';

/** `id` is the event's SSE id: for chat, the answer's offset after it. */
export type ReadEvent = { event: string; data: Json; id?: string };
export type ReadSse = { events: ReadEvent[]; comments: string[]; names: string[] };

/**
 * Reads until the stream ends, or until `stopAfter` answers true for an event (the reader is then
 * cancelled, as a client that goes away would).
 */
export async function readSse(res: Response, stopAfter?: (e: ReadEvent) => boolean): Promise<ReadSse> {
  const comments: string[] = [];
  const parser = createSseParser({ onComment: (t) => comments.push(t) });
  const events: ReadEvent[] = [];
  if (!res.body) throw new Error('no body');
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const e of parser.feed(value)) {
        const ev: ReadEvent = {
          event: e.event,
          data: JSON.parse(e.data),
          ...(e.id !== undefined ? { id: e.id } : {}),
        };
        events.push(ev);
        if (stopAfter?.(ev)) {
          await reader.cancel();
          return { events, comments, names: events.map((x) => x.event) };
        }
      }
    }
    parser.end();
  } finally {
    reader.releaseLock();
  }
  return { events, comments, names: events.map((x) => x.event) };
}

export const textOf = (r: ReadSse) =>
  r.events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.text)
    .join('');
