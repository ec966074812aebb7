// Headers every answer carries, set once here rather than route by route so none is forgotten.

/**
 * The docs page: server-rendered HTML with an inline stylesheet and no script, so nothing else
 * may load or run, and it may not be framed. Links to openapi.json stay plain navigation.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * - `X-Content-Type-Options: nosniff` on every answer (errors included): a browser never runs a
 *   JSON body it guessed to be HTML or script.
 * - Streams: `no-cache, no-transform`, so no proxy buffers or recompresses the SSE events.
 * - Any answer to an authenticated request: `no-store`, so no proxy, CDN or WebView cache keeps
 *   health data. A request is authenticated when it carried credentials, whether or not they held.
 */
export function applySecurityHeaders(h: Headers, authenticated: boolean): void {
  h.set('X-Content-Type-Options', 'nosniff');
  if ((h.get('content-type') ?? '').startsWith('text/event-stream')) {
    h.set('Cache-Control', 'no-cache, no-transform');
  } else if (authenticated) {
    h.set('Cache-Control', 'no-store');
  }
}
