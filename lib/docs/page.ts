// A readable API reference rendered from the OpenAPI document on the server: plain HTML and a
// little CSS, no scripts, so it works from mainland China and in a WeChat web view.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A compact, TypeScript-like view of a JSON schema, following $refs into components. */
function describe(schema: Json | undefined, schemas: Obj, depth = 0): string {
  if (!isObj(schema)) return 'any';
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').pop() ?? ref;
    return depth > 1 ? name : `${name} ${describe(schemas[name], schemas, depth + 1)}`;
  }
  const pad = '  '.repeat(depth + 1);
  if (Array.isArray(schema.enum)) return schema.enum.map((e) => JSON.stringify(e)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return union.map((s) => describe(s, schemas, depth)).join(' | ');
  const type = schema.type;
  if (Array.isArray(type)) return type.join(' | ');
  if (type === 'array') return `${describe(schema.items, schemas, depth)}[]`;
  if (type === 'object' || isObj(schema.properties)) {
    const props = isObj(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required : [];
    const lines = Object.entries(props).map(
      ([k, v]) => `${pad}${k}${required.includes(k) ? '' : '?'}: ${describe(v, schemas, depth + 1)}`,
    );
    if (!lines.length) return '{ … }';
    return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`;
  }
  return typeof type === 'string' ? type : 'any';
}

export function renderReference(doc: unknown): string {
  const d = (doc ?? {}) as Obj;
  const info = isObj(d.info) ? d.info : {};
  const paths = isObj(d.paths) ? d.paths : {};
  const components = isObj(d.components) ? d.components : {};
  const schemas = isObj(components.schemas) ? components.schemas : {};
  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isObj(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isObj(op)) continue;
      const id = `${method}-${path}`.replace(/[^a-z0-9]+/gi, '-');
      const summary = typeof op.summary === 'string' ? op.summary : '';
      const auth = Array.isArray(op.security) && op.security.length > 0;
      toc.push(
        `<li><a href="#${id}"><code>${method.toUpperCase()} ${esc(path)}</code></a> ${esc(summary)}</li>`,
      );
      const params = Array.isArray(op.parameters) ? op.parameters.filter(isObj) : [];
      const paramRows = params
        .map(
          (p) =>
            `<tr><td><code>${esc(String(p.name))}</code></td><td>${esc(String(p.in))}</td><td><code>${esc(describe(p.schema, schemas))}</code></td></tr>`,
        )
        .join('');
      const body =
        isObj(op.requestBody) && isObj(op.requestBody.content) ? op.requestBody.content : undefined;
      const bodySchema =
        body && isObj(body['application/json']) ? body['application/json'].schema : undefined;
      const responses = isObj(op.responses) ? op.responses : {};
      const responseRows = Object.entries(responses)
        .map(([status, r]) => {
          const content = isObj(r) && isObj(r.content) ? r.content : {};
          const [type, media] = Object.entries(content)[0] ?? [];
          const shape = isObj(media) && media.schema ? describe(media.schema, schemas) : '';
          const descr = isObj(r) && typeof r.description === 'string' ? r.description : '';
          return `<tr><td>${esc(status)}</td><td>${esc(descr)}${type ? ` <small>${esc(type)}</small>` : ''}</td><td><pre>${esc(shape)}</pre></td></tr>`;
        })
        .join('');
      ops.push(`<section id="${id}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(summary)}${auth ? ' <span class="auth">Bearer token</span>' : ''}</p>
${paramRows ? `<table><tr><th>parameter</th><th>in</th><th>type</th></tr>${paramRows}</table>` : ''}
${bodySchema ? `<h4>Request body</h4><pre>${esc(describe(bodySchema, schemas))}</pre>` : ''}
<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${responseRows}</table>
</section>`);
    }
  }
  const title = esc(String(info.title ?? 'API'));
  const description = esc(String(info.description ?? ''));
  return `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1f2328}
code,pre{font:13px ui-monospace,Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:.6rem;overflow:auto;margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
section{border-top:1px solid #d0d7de;padding-top:.5rem;margin-top:1.5rem}.m{color:#fff;border-radius:4px;padding:0 .4rem;font-size:13px}
.get{background:#1a7f37}.post{background:#0969da}.patch{background:#9a6700}.delete{background:#cf222e}.put{background:#8250df}
.auth{font-size:12px;background:#eee;border-radius:4px;padding:0 .4rem}.desc{white-space:pre-wrap}
</style></head><body>
<h1>${title} <small>${esc(String(info.version ?? ''))}</small></h1>
<p class="desc">${description}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1)</p>
<h2>Routes</h2><ul>${toc.join('')}</ul>
${ops.join('\n')}
</body></html>`;
}
