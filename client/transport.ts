// What the client needs from the platform: JSON requests, a streamed body, and a form upload to
// object storage. transports/wx.ts does it with wx.request / wx.uploadFile, transports/fetch.ts with
// fetch. Nothing here needs DOM or Node typings: the mini-program's TypeScript setup has neither.
import { ApiError } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The part of AbortSignal the client uses. A real AbortSignal fits; the mini-program has no
 * AbortController, so `createAbort()` makes one.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export type TransportRequest = {
  method: HttpMethod;
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** JSON text. */
  body?: string;
  signal?: AbortSignalLike;
};

export type TransportResponse = {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  text: string;
};

export type ResponseHead = {
  /** Unknown when the platform does not say (WeChat DevTools' onHeadersReceived has none). */
  status?: number;
  /** Lower-case names. */
  headers: Record<string, string>;
};

export type StreamSink = {
  /** The headers, as soon as the platform gives them; at most once, and may not come at all. */
  onHeaders(head: ResponseHead): void;
  onChunk(chunk: Uint8Array | ArrayBuffer): void;
};

/** The part of Blob the client uses (declared here so the core compiles without DOM typings). */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A temporary file path (wx.chooseMedia) for the wx transport, a Blob for fetch. */
export type UploadFile = string | BlobLike;

export type UploadRequest = {
  url: string;
  /** The ticket's form fields, sent unchanged before the file. */
  fields: Record<string, string>;
  file: UploadFile;
  filename: string;
  contentType: string;
  signal?: AbortSignalLike;
};

export interface Transport {
  /** One request, its whole body as text. Rejects only without an HTTP answer (ApiError). */
  request(req: TransportRequest): Promise<TransportResponse>;
  /** The body goes to the sink chunk by chunk; resolves with status and headers once it has ended. */
  stream(req: TransportRequest, sink: StreamSink): Promise<ResponseHead & { status: number }>;
  /** A multipart POST of `fields` and then the file under the name "file" (what object storage takes). */
  upload(req: UploadRequest): Promise<TransportResponse>;
}

/** An abort handle that works where AbortController does not exist. */
export function createAbort(): { signal: AbortSignalLike; abort(): void } {
  let aborted = false;
  let listeners: (() => void)[] = [];
  return {
    signal: {
      get aborted() {
        return aborted;
      },
      addEventListener: (_type, listener) => {
        listeners.push(listener);
      },
      removeEventListener: (_type, listener) => {
        listeners = listeners.filter((l) => l !== listener);
      },
    },
    abort: () => {
      if (aborted) return;
      aborted = true;
      const run = listeners;
      listeners = [];
      for (const l of run) l();
    },
  };
}

/** Calls `fn` once when `signal` aborts; answers the function that stops listening. */
export function onAbort(signal: AbortSignalLike | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener('abort', fn);
  return () => signal.removeEventListener('abort', fn);
}

export const abortedError = () =>
  new ApiError({ status: 0, code: 'ABORTED', message: 'request aborted', requestId: '' });

export const networkError = (message: string) =>
  new ApiError({ status: 0, code: 'NETWORK_ERROR', message, requestId: '' });

/** Header names lower-cased, values as strings (platforms differ in both). */
export function lowerHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined && value !== null) out[name.toLowerCase()] = String(value);
  }
  return out;
}
