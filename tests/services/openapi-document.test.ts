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

/** Every route mounted in every function, as `method path` with `{param}` templates. */
async function mountedRoutes(): Promise<Set<string>> {
  const mounted = new Set<string>();
  for (const name of FUNCTION_NAMES) {
    const app = (await loaders[name]()).build(() => stack.h.rt);
    for (const r of app.routes) {
      // Middleware-only entries (app.use) are ALL; every real route has its own method.
      if (r.method === 'ALL') continue;
      mounted.add(`${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return mounted;
}

/** Each operation with its responses and its path's template. */
const eachOperation = () =>
  operations(doc).map((key) => {
    const op = operation(doc, key);
    return { key, op, path: key.split(' ')[1] ?? '', responses: isObject(op.responses) ? op.responses : {} };
  });

describe('the document covers every route', () => {
  it('documents every route mounted in every function, with its method', async () => {
    const mounted = await mountedRoutes();
    expect(mounted.size).toBeGreaterThan(20);
    const documented = new Set(operations(doc));
    expect([...mounted].filter((r) => !documented.has(r))).toEqual([]);
  });

  it('documents nothing that no function serves', async () => {
    const mounted = await mountedRoutes();
    expect(operations(doc).filter((r) => !mounted.has(r))).toEqual([]);
  });
});

describe('the document is sound', () => {
  it('is OpenAPI 3.1.0 with info', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  });

  it('every $ref resolves', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter(({ ref }) => resolvePointer(doc, ref) === undefined)).toEqual([]);
  });

  it('every schema compiles under strict JSON Schema 2020-12', () => {
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
    for (const { key, op, responses } of eachOperation()) {
      for (const [status, r] of Object.entries(responses)) {
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
    expect(problems).toEqual([]);
  });

  it('every pattern is a plain source, without a RegExp’s slashes and flags', () => {
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
    expect(patterns.length).toBeGreaterThan(0);
    expect(patterns.filter((p) => /\/[dgimsuvy]+$/.test(p))).toEqual([]);
  });
});

describe('every operation follows the contract’s conventions', () => {
  it('has a success (2xx) response', () => {
    const without = eachOperation().filter(
      ({ responses }) => !Object.keys(responses).some((s) => /^2\d\d$/.test(s)),
    );
    expect(without.map(({ key }) => key)).toEqual([]);
  });

  it('describes every response', () => {
    const problems = eachOperation().flatMap(({ key, responses }) =>
      Object.entries(responses)
        .filter(([, r]) => !isObject(r) || typeof r.description !== 'string')
        .map(([s]) => `${key} ${s}: no description`),
    );
    expect(problems).toEqual([]);
  });

  it('declares each parameter of its path as required, and no other path parameter', () => {
    const problems: string[] = [];
    for (const { key, op, path } of eachOperation()) {
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
    }
    expect(problems).toEqual([]);
  });

  it('outside the public routes: needs a bearer token and documents its 401', () => {
    const problems: string[] = [];
    for (const { key, op, responses } of eachOperation()) {
      if (PUBLIC.has(key)) continue;
      const secured = Array.isArray(op.security) && op.security.some((s) => isObject(s) && 'bearerAuth' in s);
      if (!secured) problems.push(`${key}: no bearerAuth security`);
      if (!responses['401']) problems.push(`${key}: 401 not documented`);
    }
    expect(problems).toEqual([]);
    expect(doc.components?.securitySchemes).toMatchObject({ bearerAuth: { type: 'http', scheme: 'bearer' } });
  });
});
