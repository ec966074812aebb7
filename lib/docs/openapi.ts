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
  // The docs function's own two routes are plain Hono routes, not zod-openapi ones.
  Object.assign(merged.paths ?? {}, DOCS_PATHS);
  repairPatterns(merged);
  documentBodyErrors(merged);
  return merged;
}

const BODY_METHODS = ['post', 'put', 'patch', 'delete'] as const;

/**
 * Every function refuses a body over 1 MB (413) and a POST/PUT/PATCH body that is not JSON (415)
 * before any route runs (lib/http/app.ts), so every operation that can carry a body documents both.
 */
function documentBodyErrors(doc: Doc): void {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of BODY_METHODS) {
      const op = item?.[method];
      if (!op) continue;
      op.responses ??= {};
      op.responses['413'] ??= error('Payload too large');
      if (method !== 'delete') op.responses['415'] ??= error('Unsupported media type');
    }
  }
}

const DOCS_PATHS = {
  '/api/v1/openapi.json': {
    get: {
      tags: ['operations'],
      summary: 'This document (OpenAPI 3.1)',
      responses: {
        200: {
          description: 'The OpenAPI document',
          content: { 'application/json': { schema: { type: 'object' as const } } },
        },
      },
    },
  },
  '/api/v1/docs': {
    get: {
      tags: ['operations'],
      summary: 'A readable reference page rendered from this document',
      responses: {
        200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' as const } } } },
      },
    },
  },
};

/**
 * zod-to-openapi writes a RegExp with flags as `source/flags` (`^[^\p{Cc}]*$/u`), a pattern that
 * matches nothing. Validators compile patterns with Unicode semantics anyway (Ajv does), so the flags go.
 */
function repairPatterns(node: unknown): void {
  if (Array.isArray(node)) {
    for (const v of node) repairPatterns(v);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'pattern' && typeof v === 'string') obj[k] = v.replace(/\/[dgimsuvy]+$/, '');
    else repairPatterns(v);
  }
}
