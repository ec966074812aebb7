// A transport over fetch (Node 18+, browsers, tests): the body streamed with getReader(), uploads as
// FormData. Not for the mini-program, which has no fetch: use transports/wx.ts there.
import {
  type AbortSignalLike,
  abortedError,
  lowerHeaders,
  networkError,
  onAbort,
  type Transport,
  type TransportRequest,
} from '../transport.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

function headersOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, name) => {
    out[name] = value;
  });
  return lowerHeaders(out);
}

/** A real AbortSignal for fetch, following the caller's (which may be a mini-program-style one). */
function linked(signal: AbortSignalLike | undefined): { signal: AbortSignal; unlink: () => void } {
  const ctl = new AbortController();
  if (signal?.aborted) ctl.abort();
  const unlink = onAbort(signal, () => ctl.abort());
  return { signal: ctl.signal, unlink };
}

function failed(err: unknown, signal: AbortSignalLike | undefined) {
  if (signal?.aborted) return abortedError();
  return networkError(err instanceof Error ? err.message : String(err));
}

const init = (req: TransportRequest, signal: AbortSignal): RequestInit => ({
  method: req.method,
  headers: req.headers,
  ...(req.body !== undefined ? { body: req.body } : {}),
  signal,
});

export function fetchTransport(fetchImpl: FetchLike = (url, i) => fetch(url, i)): Transport {
  return {
    request: async (req) => {
      if (req.signal?.aborted) throw abortedError();
      const { signal, unlink } = linked(req.signal);
      try {
        const res = await fetchImpl(req.url, init(req, signal));
        const text = await res.text();
        return { status: res.status, headers: headersOf(res.headers), text };
      } catch (err) {
        throw failed(err, req.signal);
      } finally {
        unlink();
      }
    },

    stream: async (req, sink) => {
      if (req.signal?.aborted) throw abortedError();
      const { signal, unlink } = linked(req.signal);
      try {
        const res = await fetchImpl(req.url, init(req, signal));
        const headers = headersOf(res.headers);
        sink.onHeaders({ status: res.status, headers });
        if (res.body) {
          const reader = res.body.getReader();
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              sink.onChunk(value);
            }
          } finally {
            reader.releaseLock();
          }
        }
        return { status: res.status, headers };
      } catch (err) {
        throw failed(err, req.signal);
      } finally {
        unlink();
      }
    },

    upload: async (req) => {
      if (typeof req.file === 'string') {
        throw new TypeError('fetchTransport uploads a Blob; file paths need the wx transport');
      }
      if (req.signal?.aborted) throw abortedError();
      const form = new FormData();
      for (const name of Object.keys(req.fields)) form.append(name, req.fields[name] ?? '');
      const blob =
        req.file instanceof Blob
          ? req.file
          : new Blob([await req.file.arrayBuffer()], { type: req.contentType });
      form.append('file', blob, req.filename);
      const { signal, unlink } = linked(req.signal);
      try {
        const res = await fetchImpl(req.url, { method: 'POST', body: form, signal });
        return { status: res.status, headers: headersOf(res.headers), text: await res.text() };
      } catch (err) {
        throw failed(err, req.signal);
      } finally {
        unlink();
      }
    },
  };
}
