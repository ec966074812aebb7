// The served OpenAPI document as a test oracle: answers recorded during a walk through the client are
// validated (Ajv, JSON Schema 2020-12) against the schema the document gives for their route and status.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { FetchLike } from '../../client/transports/fetch.js';

export type JsonObject = { [k: string]: unknown };
export type OpenApiDoc = JsonObject & {
  openapi: string;
  info: JsonObject;
  paths: Record<string, Record<string, JsonObject>>;
  components?: { schemas?: Record<string, JsonObject> } & JsonObject;
};

/** One answer seen on the wire. `body` is the parsed JSON; undefined when there was none. */
export type Recorded = {
  method: string;
  /** The URL's pathname, e.g. /api/v1/conversations/abc. */
  path: string;
  status: number;
  contentType: string;
  body: unknown;
};

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * fetch that also records each answer from `origin` (object storage's answers are not the API's).
 * JSON bodies are read from a clone, so the caller still gets the whole stream.
 */
export function recordingFetch(origin: string, into: Recorded[], inner: FetchLike = fetch): FetchLike {
  const from = new URL(origin).origin;
  return async (url, init) => {
    const res = await inner(url, init);
    if (new URL(url).origin !== from) return res;
    const contentType = res.headers.get('content-type') ?? '';
    let body: unknown;
    if (/^application\/json/i.test(contentType)) body = await res.clone().json();
    into.push({
      method: (init.method ?? 'GET').toUpperCase(),
      path: new URL(url).pathname,
      status: res.status,
      contentType,
      body,
    });
    return res;
  };
}

export const templateRegex = (template: string) =>
  new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^/}]+\\?\}/g, '[^/]+')}$`);

/** Every `$ref` in `value`, with where it was found. */
export function refsIn(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refsIn(v, `${at}/${i}`));
  if (!isObject(value)) return [];
  const out: { ref: string; at: string }[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at });
    else out.push(...refsIn(v, `${at}/${k}`));
  }
  return out;
}

/** The value a local JSON pointer (`#/a/b`) names in `doc`, or undefined. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
    if (node === undefined) return undefined;
  }
  return node;
}

/** `#/components/schemas/X` → `#/$defs/X`, so one schema carries every component it needs. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === '$ref' && typeof v === 'string' ? v.replace(/^#\/components\/schemas\//, '#/$defs/') : rebase(v);
  }
  return out;
}

export function createAjv(): Ajv2020 {
  // Strict: a keyword JSON Schema does not know is an error, except the ones OpenAPI 3.1 adds.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  // A CommonJS module: under NodeNext its default import is module.exports, whose .default is the plugin.
  formats.default(ajv);
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  return ajv;
}

/** Compiles one of the document's schemas, with every component it may reference. */
export function compileWithComponents(ajv: Ajv2020, schema: unknown, doc: OpenApiDoc): ValidateFunction {
  return ajv.compile({ ...(rebase(schema) as JsonObject), $defs: rebase(doc.components?.schemas ?? {}) });
}

export type ResponseValidator = {
  /** The document's template for a concrete path, e.g. /api/v1/conversations/{id}. */
  templateFor(path: string): string | undefined;
  /** Problems with one answer; empty when it matches the document. */
  check(r: Recorded): string[];
};

export function responseValidator(doc: OpenApiDoc): ResponseValidator {
  const ajv = createAjv();
  const compiled = new Map<string, ValidateFunction>();
  const templates = Object.keys(doc.paths).map((t) => ({ t, re: templateRegex(t) }));
  // A concrete segment beats a parameter: /logs/audit is not /logs/{id}.
  const specificity = (t: string) => -(t.match(/\{/g)?.length ?? 0);
  templates.sort((a, b) => specificity(b.t) - specificity(a.t));

  const templateFor = (path: string) => templates.find(({ re }) => re.test(path))?.t;

  return {
    templateFor,
    check(r) {
      const where = `${r.method} ${r.path} → ${r.status}`;
      const template = templateFor(r.path);
      if (!template) return [`${where}: path not in the document`];
      const op = doc.paths[template]?.[r.method.toLowerCase()];
      if (!op) return [`${where}: method not documented for ${template}`];
      const responses = isObject(op.responses) ? op.responses : {};
      const documented = responses[String(r.status)] ?? responses.default;
      if (!isObject(documented)) return [`${where}: status not documented for ${r.method} ${template}`];
      const content = isObject(documented.content) ? documented.content : undefined;
      if (!content) {
        return r.body === undefined ? [] : [`${where}: documented without a body, answered one`];
      }
      const mediaType = r.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
      const media = content[mediaType];
      if (!isObject(media)) return [`${where}: ${mediaType || 'no content type'} not documented`];
      // Streams are described in prose, pages are pages: only JSON answers have a schema to meet.
      if (mediaType !== 'application/json') return [];
      if (!isObject(media.schema)) return [`${where}: no JSON schema documented`];
      const key = `${r.method} ${template} ${r.status}`;
      let validate = compiled.get(key);
      if (!validate) {
        validate = compileWithComponents(ajv, media.schema, doc);
        compiled.set(key, validate);
      }
      if (validate(r.body)) return [];
      return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(body)'} ${e.message ?? ''}`);
    },
  };
}

// ---- reading the served document ---------------------------------------------------------------

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The document the service listening at `origin` serves at /api/v1/openapi.json. */
export async function servedDocument(origin: string): Promise<OpenApiDoc> {
  const res = await fetch(`${origin}/api/v1/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json: ${res.status}`);
  return (await res.json()) as OpenApiDoc;
}

/** Every operation of the document, as `method path`. */
export const operations = (doc: OpenApiDoc): string[] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m} ${path}`),
  );

/** One operation of the document, by its `method path`. */
export const operation = (doc: OpenApiDoc, key: string): JsonObject => {
  const [method = '', path = ''] = key.split(' ');
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`no operation ${key}`);
  return op;
};

/** Where a schema sits in the document: a component, a response's JSON body, a request's JSON body. */
export const component = (name: string) => ({ component: name });
export const response = (path: string, method: string, status: string) => ({
  response: [path, method, status] as const,
});
export const request = (path: string, method: string) => ({ request: [path, method] as const });
export type Where = ReturnType<typeof component> | ReturnType<typeof response> | ReturnType<typeof request>;

/** A `$ref` followed until it names a schema. */
export function deref(doc: OpenApiDoc, node: unknown): unknown {
  let n = node;
  while (isObject(n) && typeof n.$ref === 'string') n = resolvePointer(doc, n.$ref);
  return n;
}

/** The schema at `where`, then down the properties named by `at`. */
export function schemaAt(doc: OpenApiDoc, where: Where, at: string[] = []): JsonObject {
  let node: unknown;
  if ('component' in where) node = doc.components?.schemas?.[where.component];
  else if ('response' in where) {
    const [p, m, s] = where.response;
    node = resolvePointer(
      doc.paths,
      `#/${p.replace(/\//g, '~1')}/${m}/responses/${s}/content/application~1json/schema`,
    );
  } else {
    const [p, m] = where.request;
    node = resolvePointer(
      doc.paths,
      `#/${p.replace(/\//g, '~1')}/${m}/requestBody/content/application~1json/schema`,
    );
  }
  node = deref(doc, node);
  for (const key of at) {
    const props = isObject(node) && isObject(node.properties) ? node.properties : {};
    node = deref(doc, props[key]);
  }
  if (!isObject(node)) throw new Error(`no schema at ${JSON.stringify(where)} ${at.join('.')}`);
  return node;
}

function allowsNull(doc: OpenApiDoc, schema: unknown): boolean {
  const s = deref(doc, schema);
  if (!isObject(s)) return false;
  if (s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'))) return true;
  const alternatives = [s.anyOf, s.oneOf].flatMap((a) => (Array.isArray(a) ? a : []));
  return alternatives.some((a) => allowsNull(doc, a));
}

/** Field presence: required or optional, null allowed or not. */
export type Presence = 'required' | 'nullable' | 'optional' | 'optional-nullable';

/** Every property of an object schema with its presence, as the document says it. */
export function docShape(doc: OpenApiDoc, schema: JsonObject): Record<string, Presence> {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const out: Record<string, Presence> = {};
  for (const [k, v] of Object.entries(props)) {
    const nul = allowsNull(doc, v);
    out[k] = required.includes(k) ? (nul ? 'nullable' : 'required') : nul ? 'optional-nullable' : 'optional';
  }
  return out;
}
