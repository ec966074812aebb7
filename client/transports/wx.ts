// The mini-program's transport: wx.request for JSON, wx.request with enableChunked for the chat
// stream (chunks go to the SSE parser as they arrive), wx.uploadFile for the upload form.
// Typed against miniprogram-api-typings' WechatMiniprogram namespace, which the mini-program's (and
// client/tsconfig.json's) `types` provide; the server's typecheck never sees this file.
import type { TokenStore, Tokens } from '../session.js';
import {
  type AbortSignalLike,
  abortedError,
  lowerHeaders,
  networkError,
  onAbort,
  type Transport,
  type TransportRequest,
} from '../transport.js';

/** The parts of `wx` the transport uses (pass `wx` itself). */
export type WxApi = Pick<WechatMiniprogram.Wx, 'request' | 'uploadFile'>;

/** wx.request knows no PATCH: such calls go as POST with this header naming the real method. */
export const METHOD_OVERRIDE_HEADER = 'x-http-method-override';

type WxMethod = NonNullable<WechatMiniprogram.RequestOption['method']>;

function wxMethod(req: TransportRequest): { method: WxMethod; header: Record<string, string> } {
  if (req.method === 'PATCH') {
    return { method: 'POST', header: { ...req.headers, [METHOD_OVERRIDE_HEADER]: 'PATCH' } };
  }
  return { method: req.method, header: req.headers };
}

function failure(err: { errMsg: string }, signal: AbortSignalLike | undefined) {
  // An abort shows as a fail whose errMsg says so ("request:fail abort").
  if (signal?.aborted || /abort/i.test(err.errMsg)) return abortedError();
  return networkError(err.errMsg);
}

const hasBytes = (data: unknown): data is ArrayBuffer =>
  typeof data === 'object' && data !== null && 'byteLength' in data && Number(data.byteLength) > 0;

export function wxTransport(wx: WxApi): Transport {
  return {
    request: (req) =>
      new Promise((resolve, reject) => {
        if (req.signal?.aborted) return reject(abortedError());
        const { method, header } = wxMethod(req);
        let unlink = () => {};
        const task = wx.request<string>({
          url: req.url,
          method,
          header,
          ...(req.body !== undefined ? { data: req.body } : {}),
          // Raw text: the client parses JSON itself, the same way for every platform.
          dataType: 'text',
          responseType: 'text',
          success: (res) => {
            unlink();
            const text = typeof res.data === 'string' ? res.data : JSON.stringify(res.data);
            resolve({ status: res.statusCode, headers: lowerHeaders(res.header), text });
          },
          fail: (err) => {
            unlink();
            reject(failure(err, req.signal));
          },
        });
        unlink = onAbort(req.signal, () => task.abort());
      }),

    stream: (req, sink) =>
      new Promise((resolve, reject) => {
        if (req.signal?.aborted) return reject(abortedError());
        const { method, header } = wxMethod(req);
        let chunks = 0;
        let headersSeen = false;
        let unlink = () => {};
        const task = wx.request<ArrayBuffer>({
          url: req.url,
          method,
          header,
          ...(req.body !== undefined ? { data: req.body } : {}),
          enableChunked: true,
          responseType: 'arraybuffer',
          success: (res) => {
            unlink();
            const headers = lowerHeaders(res.header);
            if (!headersSeen) {
              headersSeen = true;
              sink.onHeaders({ status: res.statusCode, headers });
            }
            // Base libraries before 2.20.2 ignore enableChunked and hand the whole body over here.
            if (chunks === 0 && hasBytes(res.data)) sink.onChunk(res.data);
            resolve({ status: res.statusCode, headers });
          },
          fail: (err) => {
            unlink();
            reject(failure(err, req.signal));
          },
        });
        task.onHeadersReceived((h) => {
          if (headersSeen) return;
          headersSeen = true;
          // DevTools leave statusCode out; the client then decides from the content type.
          const status = typeof h.statusCode === 'number' && h.statusCode > 0 ? h.statusCode : undefined;
          sink.onHeaders({ ...(status !== undefined ? { status } : {}), headers: lowerHeaders(h.header) });
        });
        task.onChunkReceived((c) => {
          chunks += 1;
          sink.onChunk(c.data);
        });
        unlink = onAbort(req.signal, () => task.abort());
      }),

    upload: (req) =>
      new Promise((resolve, reject) => {
        const filePath = req.file;
        if (typeof filePath !== 'string') {
          return reject(new TypeError('wxTransport uploads a file path (e.g. wx.chooseMedia tempFilePath)'));
        }
        if (req.signal?.aborted) return reject(abortedError());
        let unlink = () => {};
        const task = wx.uploadFile({
          url: req.url,
          filePath,
          name: 'file',
          formData: req.fields,
          success: (res) => {
            unlink();
            resolve({ status: res.statusCode, headers: {}, text: res.data });
          },
          fail: (err) => {
            unlink();
            reject(failure(err, req.signal));
          },
        });
        unlink = onAbort(req.signal, () => task.abort());
      }),
  };
}

/** The parts of `wx` the storage token store uses. */
export type WxStorage = Pick<WechatMiniprogram.Wx, 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'>;

/** Keeps the session in the mini-program's local storage, so it outlives a restart. */
export function wxStorageTokenStore(wx: WxStorage, key = 'health-assistant:tokens'): TokenStore {
  return {
    get: () => {
      const v: unknown = wx.getStorageSync(key);
      if (typeof v !== 'object' || v === null) return null;
      const { accessToken, refreshToken } = v as Partial<Record<keyof Tokens, unknown>>;
      return typeof accessToken === 'string' && typeof refreshToken === 'string'
        ? { accessToken, refreshToken }
        : null;
    },
    set: (tokens) => wx.setStorageSync(key, tokens),
    clear: () => wx.removeStorageSync(key),
  };
}
