// The dependency-free SSE parser the mini-program and the tests use.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSseParser, fallbackUtf8Decoder, type SseEvent } from '../../client/sse.js';

const enc = new TextEncoder();

function feedAll(chunks: (string | Uint8Array)[], onComment?: (t: string) => void): SseEvent[] {
  const p = createSseParser({ onComment });
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.feed(c));
  out.push(...p.end());
  return out;
}

/** Every way of cutting `bytes` into two chunks. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.slice(0, i), bytes.slice(i)]);
  return out;
}

describe('client SSE parser', () => {
  const stream =
    'event: meta\ndata: {"a":1}\n\n: ping\n\nevent: delta\ndata: {"text":"胸口疼😀"}\n\ndata: x\ndata: y\n\n';
  const expected: SseEvent[] = [
    { event: 'meta', data: '{"a":1}' },
    { event: 'delta', data: '{"text":"胸口疼😀"}' },
    { event: 'message', data: 'x\ny' },
  ];

  it('parses several events from one chunk, with comments and multi-line data', () => {
    const comments: string[] = [];
    expect(feedAll([stream], (t) => comments.push(t))).toEqual(expected);
    expect(comments).toEqual(['ping']);
  });

  it('gives the same events however the bytes are split, even inside a UTF-8 character', () => {
    const bytes = enc.encode(stream);
    for (const parts of splits(bytes)) expect(feedAll(parts)).toEqual(expected);
    // One byte at a time.
    expect(feedAll(Array.from(bytes, (b) => new Uint8Array([b])))).toEqual(expected);
  });

  it('handles CRLF and lone CR line ends, also when CR and LF land in different chunks', () => {
    const crlf = stream.replaceAll('\n', '\r\n');
    const cr = stream.replaceAll('\n', '\r');
    expect(feedAll([crlf])).toEqual(expected);
    expect(feedAll([cr])).toEqual(expected);
    for (const parts of splits(enc.encode(crlf))) expect(feedAll(parts)).toEqual(expected);
  });

  it('follows the format’s field rules', () => {
    const events = feedAll([
      '\uFEFFdata:no-space\n\n', // BOM ignored, the space after the colon is optional
      'event: only-type\n\n', // no data: nothing dispatched
      'id: 7\nretry: 3000\nunknown: x\ndata\n\n', // a field without a colon has an empty value
      'data: cut short', // no blank line before the end: discarded
    ]);
    expect(events).toEqual([
      { event: 'message', data: 'no-space' },
      { event: 'message', data: '', id: '7', retry: 3000 },
    ]);
  });

  it('an incomplete event is not dispatched until its blank line arrives', () => {
    const p = createSseParser();
    expect(p.feed('event: delta\ndata: {"text":"a"}\n')).toEqual([]);
    expect(p.feed('\n')).toEqual([{ event: 'delta', data: '{"text":"a"}' }]);
  });

  describe('without TextDecoder (older mini-program base libraries)', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });
    it('still reassembles characters split between chunks', () => {
      vi.stubGlobal('TextDecoder', undefined);
      for (const parts of splits(enc.encode(stream))) expect(feedAll(parts)).toEqual(expected);
    });
  });

  it('the fallback decoder (no TextDecoder) keeps split characters and replaces bad bytes', () => {
    const text = '健康 ok 😀 é';
    const bytes = enc.encode(text);
    for (let i = 0; i <= bytes.length; i++) {
      const d = fallbackUtf8Decoder();
      expect(
        d.decode(bytes.slice(0, i), true) +
          d.decode(bytes.slice(i), true) +
          d.decode(new Uint8Array(), false),
      ).toBe(text);
    }
    const bad = fallbackUtf8Decoder();
    expect(bad.decode(new Uint8Array([0x61, 0xff, 0xc0, 0xaf, 0x62]), false)).toBe('a\uFFFD\uFFFD\uFFFDb');
    // A character cut at the very end of the stream is an error, not silently dropped.
    expect(fallbackUtf8Decoder().decode(new Uint8Array([0xe5, 0x81]), false)).toBe('\uFFFD');
  });
});
