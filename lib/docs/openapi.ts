// The OpenAPI 3.1 document of the whole v1 API, merged from each function's own routes: the same
// zod schemas that validate requests describe them here.
import type { App } from '../http/app.js';
import { SSE_EVENTS_DESCRIPTION } from './sse.js';

type Doc = ReturnType<App['getOpenAPI31Document']>;

export function mergeDocuments(apps: App[], version: string): Doc {
  const info = {
    title: 'Health assistant API',
    version,
    description:
      'The v1 HTTP contract of the WeChat mini-program health assistant. Errors use one envelope ' +
      '`{ error: { code, message, requestId, details? } }`. Chat answers stream as server-sent events.\n\n' +
      SSE_EVENTS_DESCRIPTION,
  };
  const merged: Doc = {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths: {},
    components: {
      schemas: {},
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
  for (const app of apps) {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info });
    Object.assign(merged.paths ?? {}, doc.paths);
    Object.assign(merged.components?.schemas ?? {}, doc.components?.schemas);
  }
  return merged;
}
