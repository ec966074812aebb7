// The served OpenAPI document itself: every route mounted in every function is documented (and
// nothing else is), the document is OpenAPI 3.1.0 and every $ref resolves, every operation follows
// the house conventions (a success response, descriptions, declared path parameters, auth as the
// contract says), and every schema compiles under strict JSON Schema 2020-12.
// What the routes answer: openapi-walk.test.ts; the client's types: openapi-client-types.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loaders } from '../../api/_functions.js';
import { FUNCTION_NAMES } from '../../lib/functions.js';
import {
  compileWithComponents,
  createAjv,
  isObject,
  type OpenApiDoc,
  operation,
  operations,
  refsIn,
  resolvePointer,
  servedDocument,
} from '../helpers/openapi.js';
import { type Stack, startStack } from '../helpers/stack.js';

/** Routes that need no access token (API.md, Auth). */
const PUBLIC = new Set([
  'get /api/v1/health',
  'get /api/v1/openapi.json',
  'get /api/v1/docs',
  'post /api/v1/users/login',
  'post /api/v1/users/refresh',
  'post /api/v1/users/logout',
]);

let stack: Stack;
let doc: OpenApiDoc;

beforeAll(async () => {
  stack = await startStack({});
  doc = await servedDocument(stack.server.url);
});
afterAll(() => stack?.close());

describe('the document covers every route and is sound', () => {
  it('documents every route mounted in every function, with its method', async () => {
    const mounted = new Set<string>();
    for (const name of FUNCTION_NAMES) {
      const app = (await loaders[name]()).build(() => stack.h.rt);
      for (const r of app.routes) {
        // Middleware-only entries (app.use) are ALL; every real route has its own method.
        if (r.method === 'ALL') continue;
        mounted.add(`${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
      }
    }
    expect(mounted.size).toBeGreaterThan(20);
    const documented = new Set(operations(doc));
    expect([...mounted].filter((r) => !documented.has(r))).toEqual([]);
    // And nothing documented that no function serves.
    expect([...documented].filter((r) => !mounted.has(r))).toEqual([]);
  });

  it('is OpenAPI 3.1.0 with info, and every $ref resolves', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter(({ ref }) => resolvePointer(doc, ref) === undefined)).toEqual([]);
  });

  it('every operation: a success response, descriptions, declared path parameters, auth as the contract says', () => {
    const problems: string[] = [];
    for (const key of operations(doc)) {
      const op = operation(doc, key);
      const path = key.split(' ')[1] ?? '';
      const responses = isObject(op.responses) ? op.responses : {};
      const statuses = Object.keys(responses);
      if (!statuses.some((s) => /^2\d\d$/.test(s))) problems.push(`${key}: no 2xx response`);
      for (const s of statuses) {
        const r = responses[s];
        if (!isObject(r) || typeof r.description !== 'string') problems.push(`${key} ${s}: no description`);
      }
      const params = (Array.isArray(op.parameters) ? op.parameters : []).filter(isObject);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = params.filter((p) => p.in === 'path');
      for (const name of inPath) {
        if (!declared.some((p) => p.name === name && p.required === true)) {
          problems.push(`${key}: path parameter ${name} not declared as required`);
        }
      }
      for (const p of declared) {
        if (!inPath.includes(String(p.name)))
          problems.push(`${key}: declares path parameter ${String(p.name)}`);
      }
      const secured = Array.isArray(op.security) && op.security.some((s) => isObject(s) && 'bearerAuth' in s);
      if (!PUBLIC.has(key)) {
        if (!secured) problems.push(`${key}: no bearerAuth security`);
        if (!responses['401']) problems.push(`${key}: 401 not documented`);
      }
    }
    expect(problems).toEqual([]);
    expect(doc.components?.securitySchemes).toMatchObject({ bearerAuth: { type: 'http', scheme: 'bearer' } });
  });

  it('every schema compiles under strict JSON Schema 2020-12; patterns are plain sources', () => {
    const ajv = createAjv();
    const problems: string[] = [];
    const tryCompile = (where: string, schema: unknown) => {
      try {
        compileWithComponents(ajv, schema, doc);
      } catch (err) {
        problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      tryCompile(`components.schemas.${name}`, schema);
    }
    for (const key of operations(doc)) {
      const op = operation(doc, key);
      for (const [status, r] of Object.entries(isObject(op.responses) ? op.responses : {})) {
        const content = isObject(r) && isObject(r.content) ? r.content : {};
        for (const [type, media] of Object.entries(content)) {
          if (isObject(media) && media.schema !== undefined)
            tryCompile(`${key} ${status} ${type}`, media.schema);
        }
      }
      const body = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content : {};
      for (const [type, media] of Object.entries(body)) {
        if (isObject(media)) tryCompile(`${key} request ${type}`, media.schema);
      }
    }
    // A RegExp's flags printed into the pattern (`…$/u`) make a pattern that matches nothing.
    const patterns: string[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (isObject(v))
        for (const [k, x] of Object.entries(v)) {
          if (k === 'pattern' && typeof x === 'string') patterns.push(x);
          else collect(x);
        }
    };
    collect(doc);
    expect(patterns.filter((p) => /\/[dgimsuvy]+$/.test(p))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
