// Reads a server-sent event stream with the same parser the mini-program uses (client/sse.ts).
// Every stream the tests read is the chat stream, so an event is one of the contract's ChatEvents
// (client/types.ts): narrow on `event` (`if (e.event === 'delta') e.data.text`), or read an event
// the test expects at a place with dataOf (`dataOf(s.events[0], 'meta').conversationId`).
import type { ChatEvent } from '../../client/index.js';
import { createSseParser } from '../../client/sse.js';

/** `id` is the event's SSE id: for chat, the answer's offset after it. */
export type ReadEvent = ChatEvent & { id?: string };
export type ReadSse = { events: ReadEvent[]; comments: string[]; names: string[] };

export type ChatEventName = ChatEvent['event'];
/** The data of a chat event by its name: ChatData<'meta'> is ChatMeta. */
export type ChatData<E extends ChatEventName> = Extract<ChatEvent, { event: E }>['data'];

/**
 * The data of `e`, which the test expects to be a `name` event; throws (failing the test) when it is
 * another event or missing, so a read at the wrong place says so instead of reading undefined fields.
 */
export function dataOf<E extends ChatEventName>(e: ReadEvent | undefined, name: E): ChatData<E> {
  if (e?.event !== name) throw new Error(`expected a ${name} event, got ${e ? e.event : 'none'}`);
  return e.data as ChatData<E>;
}

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
        // The event is what the test expects, not checked here: the assertions (or dataOf) do that.
        const ev = {
          event: e.event,
          data: JSON.parse(e.data),
          ...(e.id !== undefined ? { id: e.id } : {}),
        } as ReadEvent;
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
