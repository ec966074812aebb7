// An incremental parser for server-sent events (the WHATWG event-stream format), free of
// dependencies and of Node APIs so it runs inside the WeChat mini-program as well as in tests.
// Feed it the chunks as they arrive (wx.request's onChunkReceived gives ArrayBuffers); it handles
// events split across chunks, several events in one chunk, CRLF / LF / CR line ends, comment lines,
// and UTF-8 characters split between chunks.

export type SseEvent = {
  /** `message` when the stream named none. */
  event: string;
  data: string;
  /** The last event id seen so far, if any. */
  id?: string;
  retry?: number;
};

export type SseParserOptions = {
  /** Called with the text of each comment line (`: ping` → `ping`). */
  onComment?: (text: string) => void;
};

export type SseParser = {
  /** Parses one more chunk; answers the events it completed. */
  feed(chunk: Uint8Array | ArrayBuffer | string): SseEvent[];
  /** The stream ended: an event without its closing blank line is discarded, as the format says. */
  end(): SseEvent[];
};

export type Utf8Decoder = { decode(bytes: Uint8Array, stream: boolean): string };

// The mini-program's TypeScript setup has neither DOM nor Node typings: this names the one global the
// parser uses, which may be missing at run time (checked with typeof below).
declare const TextDecoder:
  | (new (
      label: string,
    ) => { decode(input: Uint8Array, options: { stream: boolean }): string })
  | undefined;

/**
 * TextDecoder in stream mode keeps a character cut between chunks until its last byte arrives.
 * Older mini-program base libraries lack TextDecoder; the fallback does the same by hand.
 */
export function utf8Decoder(): Utf8Decoder {
  if (typeof TextDecoder !== 'undefined') {
    const d = new TextDecoder('utf-8');
    return { decode: (bytes, stream) => d.decode(bytes, { stream }) };
  }
  return fallbackUtf8Decoder();
}

/** A streaming UTF-8 decoder for runtimes without TextDecoder; invalid bytes become U+FFFD. */
export function fallbackUtf8Decoder(): Utf8Decoder {
  let pending: number[] = [];
  return {
    decode(bytes, stream) {
      const all = pending.length ? [...pending, ...bytes] : Array.from(bytes);
      pending = [];
      let out = '';
      let i = 0;
      while (i < all.length) {
        const b = all[i] ?? 0;
        if (b < 0x80) {
          out += String.fromCharCode(b);
          i += 1;
          continue;
        }
        const need = b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : 0;
        if (need === 0) {
          out += '\uFFFD';
          i += 1;
          continue;
        }
        let k = 1;
        while (k <= need && i + k < all.length && ((all[i + k] ?? 0) & 0xc0) === 0x80) k++;
        if (k <= need) {
          // Cut at the end of the chunk: keep the start of the character for the next one.
          if (stream && i + k === all.length) {
            pending = all.slice(i);
            break;
          }
          out += '\uFFFD';
          i += k;
          continue;
        }
        let cp = b & (0x3f >> need);
        for (let j = 1; j <= need; j++) cp = (cp << 6) | ((all[i + j] ?? 0) & 0x3f);
        const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
        const bad = cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff);
        out += bad ? '\uFFFD' : String.fromCodePoint(cp);
        i += need + 1;
      }
      return out;
    },
  };
}

export function createSseParser(opts: SseParserOptions = {}): SseParser {
  const decoder = utf8Decoder();
  let buffer = '';
  let started = false;
  // A chunk that ended in CR: a LF at the start of the next one belongs to the same line end.
  let afterCR = false;
  let data: string[] = [];
  let eventType = '';
  let lastId: string | undefined;
  let retry: number | undefined;
  let hasData = false;

  const dispatch = (out: SseEvent[]) => {
    if (hasData) {
      out.push({
        event: eventType || 'message',
        data: data.join('\n'),
        ...(lastId !== undefined ? { id: lastId } : {}),
        ...(retry !== undefined ? { retry } : {}),
      });
    }
    data = [];
    hasData = false;
    eventType = '';
  };

  const line = (text: string, out: SseEvent[]) => {
    if (text === '') return dispatch(out);
    if (text.startsWith(':')) {
      opts.onComment?.(text.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        eventType = value;
        break;
      case 'data':
        data.push(value);
        hasData = true;
        break;
      case 'id':
        // An id containing NUL is ignored, as the format says.
        if (!value.includes('\0')) lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
    }
  };

  const consume = (text: string): SseEvent[] => {
    const out: SseEvent[] = [];
    buffer += text;
    if (!started && buffer.length > 0) {
      started = true;
      if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
    }
    let start = 0;
    if (afterCR && buffer.startsWith('\n')) start = 1;
    afterCR = false;
    for (let i = start; i < buffer.length; i++) {
      const ch = buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      line(buffer.slice(start, i), out);
      if (ch === '\r') {
        if (i + 1 === buffer.length) afterCR = true;
        else if (buffer[i + 1] === '\n') i += 1;
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
    return out;
  };

  return {
    feed(chunk) {
      if (typeof chunk === 'string') return consume(chunk);
      const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
      return consume(decoder.decode(bytes, true));
    },
    end() {
      consume(decoder.decode(new Uint8Array(0), false));
      buffer = '';
      data = [];
      hasData = false;
      eventType = '';
      return [];
    },
  };
}
