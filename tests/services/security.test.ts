// The security suite, generated from the served openapi.json: every operation the document marks
// as secured answers 401 without a token and with a forged one; every operation with a path
// parameter answers 404 for another user's id and for a malformed one. A new route is covered the
// day it is documented; a new kind of {id} needs an owner's resource below, or the suite fails.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, apiClient, pngImage, uploadImage } from '../helpers/images.js';
import { isObject, type JsonObject, type OpenApiDoc } from '../helpers/openapi.js';
import { type Stack, startStack } from '../helpers/stack.js';

type Operation = { method: string; path: string; op: JsonObject };

let s: Stack;
let doc: OpenApiDoc;
let ops: Operation[];
let owner: { token: string; userId: string };
let intruder: { token: string; userId: string };
/** An id of the owner's for each kind of path parameter, by the path's first segments. */
let ids: Record<string, Record<string, string>>;

/** The document's paths carry the /api/v1 prefix. */
const base = () => s.server.url;

function operations(d: OpenApiDoc): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(d.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method) && isObject(op)) {
        out.push({ method: method.toUpperCase(), path, op });
      }
    }
  }
  return out;
}

const secured = (o: Operation) => Array.isArray(o.op.security) && o.op.security.length > 0;
const params = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');

/** A schema reference resolved against the document. */
function resolve(schema: unknown): JsonObject {
  if (!isObject(schema)) return {};
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').at(-1) ?? '';
    return resolve(doc.components?.schemas?.[name]);
  }
  return schema;
}

/** The smallest value a schema accepts, good enough to get past validation to the owner check. */
function sample(raw: unknown): unknown {
  const schema = resolve(raw);
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ('const' in schema) return schema.const;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) return sample(list.find((x) => resolve(x).type !== 'null') ?? list[0]);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      return Object.fromEntries(required.map((k) => [k, sample(props[k])]));
    }
    case 'array':
      return Array.from({ length: Number(schema.minItems ?? 0) }, () => sample(schema.items));
    case 'string':
      return 'a'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    case 'integer':
    case 'number':
      return Number(schema.minimum ?? 1);
    case 'boolean':
      return true;
    default:
      return {};
  }
}

/**
 * Administrators' routes over every user's records: there is no owner to be another than (the
 * intruder is an admin here), and a non-admin's 403 is tested with the route (compliance.test.ts).
 */
const ADMIN_SCOPED = new Set(['PATCH /api/v1/logs/complaints/{id}']);

/** Bodies the schema alone does not make valid (a refinement such as "at least one field"). */
const BODIES: Record<string, unknown> = {
  'PATCH /api/v1/conversations/{id}': { title: 'x' },
  'PATCH /api/v1/users/me/members/{id}': { name: 'x' },
};

function bodyOf(o: Operation): unknown {
  const given = BODIES[`${o.method} ${o.path}`];
  if (given !== undefined) return given;
  const rb = o.op.requestBody;
  if (!isObject(rb) || !isObject(rb.content)) return undefined;
  const json = rb.content['application/json'];
  return isObject(json) ? sample(json.schema) : undefined;
}

function idsFor(path: string): Record<string, string> | undefined {
  const key = Object.keys(ids)
    .filter((k) => path.startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  return key ? ids[key] : undefined;
}

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

async function call(o: Operation, path: string, token?: string) {
  const body = bodyOf(o);
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base() + path, {
    method: o.method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: JsonObject = {};
  try {
    json = JSON.parse(text) as JsonObject;
  } catch {}
  return { status: r.status, json, text };
}

beforeAll(async () => {
  s = await startStack({ env: { ADMIN_OPENIDS: 'dev:owner,dev:intruder' } });
  doc = (await (await fetch(`${base()}/api/v1/openapi.json`)).json()) as OpenApiDoc;
  ops = operations(doc);
  owner = await s.h.user('owner');
  intruder = await s.h.user('intruder');
  const api: Api = apiClient(`${base()}/api/v1`, owner.token);
  s.mock.enqueue({ reply: '多喝水。' });
  const chat = await api('POST', '/text-chat?stream=false', { content: '头疼怎么办' });
  const conversationId = String(chat.json.conversationId);
  const answer = chat.json.assistantMessage as JsonObject;
  const upload = await uploadImage(api, await pngImage());
  const complaint = await api('POST', '/users/me/complaints', { category: 'other', description: '测试' });
  const member = await api('POST', '/users/me/members', { name: '妈妈', relation: 'parent' });
  const photo = await uploadImage(api, await pngImage());
  // The stand-in answers a JSON-mode request with its sample lab report.
  const report = await api('POST', '/records/lab-reports', { imageIds: [photo.fileId] });
  ids = {
    '/api/v1/users/me/members/{id}': { id: String(member.json.id) },
    '/api/v1/records/lab-reports/{id}': { id: String(report.json.id) },
    '/api/v1/conversations/{id}': { id: conversationId, messageId: String(answer.id) },
    '/api/v1/uploads/{id}': { id: upload.fileId },
    '/api/v1/logs/complaints/{id}': { id: String(complaint.json.id) },
  };
});
afterAll(async () => {
  await s?.close();
});

describe('generated from openapi.json', () => {
  it('the document has secured operations and operations with path parameters', () => {
    expect(ops.filter(secured).length).toBeGreaterThan(10);
    expect(ops.filter((o) => params(o.path).length > 0).length).toBeGreaterThan(5);
  });

  it('every secured operation answers 401 without a token and with a forged one', async () => {
    const forged = await new SignJWT({ sid: 'forged' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(owner.userId)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('not-the-server-secret-not-the-server-secret'));
    for (const o of ops.filter(secured)) {
      const path = fill(o.path, idsFor(o.path) ?? {});
      for (const token of [undefined, forged]) {
        const r = await call(o, path, token);
        expect(r.status, `${o.method} ${o.path} ${token ? 'forged' : 'no token'}`).toBe(401);
        expect(r.json.error).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    }
  });

  it('every path parameter has an owner’s resource to try (add one when adding a kind of id)', () => {
    const missing = ops
      .filter((o) => params(o.path).length && !idsFor(o.path))
      .map((o) => `${o.method} ${o.path}`);
    expect(missing).toEqual([]);
  });

  it('every operation with a path parameter answers 404 for another user’s id', async () => {
    for (const o of ops.filter((x) => params(x.path).length && !ADMIN_SCOPED.has(`${x.method} ${x.path}`))) {
      const values = idsFor(o.path);
      if (!values) continue;
      const r = await call(o, fill(o.path, values), intruder.token);
      expect(r.status, `${o.method} ${o.path}`).toBe(404);
      expect(r.json.error).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('every operation with a path parameter answers 404 for a malformed id', async () => {
    for (const o of ops.filter((x) => params(x.path).length)) {
      const values = idsFor(o.path) ?? {};
      for (const bad of ['x'.repeat(80), 'a\u0000b', '../../etc']) {
        const wrong = Object.fromEntries(params(o.path).map((p) => [p, bad]));
        const r = await call(o, fill(o.path, { ...values, ...wrong }), owner.token);
        expect(r.status, `${o.method} ${o.path} with ${JSON.stringify(bad)}`).toBe(404);
      }
    }
  });
});
