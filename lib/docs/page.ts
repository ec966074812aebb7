// A readable API reference rendered from the OpenAPI document on the server: plain HTML and a
// little CSS, no scripts, so it works from mainland China and in a WeChat web view. Descriptions are
// Markdown (CommonMark + GFM tables) rendered by marked; only the docs function imports this file.
import { Marked } from 'marked';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
// Descriptions come from our own route definitions, but raw HTML in them is shown as text anyway:
// the page stays markup we wrote.
const markdown = new Marked({ gfm: true, async: false }).use({
  renderer: { html: ({ text }) => esc(text) },
});
/** Wide tables scroll inside their own box instead of widening the page. */
const scrollTables = (html: string) =>
  html.replace(/<table>/g, '<div class="scroll"><table>').replace(/<\/table>/g, '</table></div>');
const md = (src: string) => scrollTables(markdown.parse(src, { async: false }));
const mdInline = (src: string) => markdown.parseInline(src, { async: false });

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
      const opDescription = typeof op.description === 'string' ? op.description : '';
      const auth = Array.isArray(op.security) && op.security.length > 0;
      toc.push(
        `<li><a href="#${id}"><code>${method.toUpperCase()} ${esc(path)}</code></a> ${esc(summary)}</li>`,
      );
      const params = Array.isArray(op.parameters) ? op.parameters.filter(isObj) : [];
      const paramRows = params
        .map(
          (p) =>
            `<tr><td><code>${esc(String(p.name))}</code></td><td>${esc(String(p.in))}</td><td><code>${esc(describe(p.schema, schemas))}</code>${typeof p.description === 'string' ? ` ${mdInline(p.description)}` : ''}</td></tr>`,
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
          return `<tr><td>${esc(status)}</td><td>${mdInline(descr)}${type ? ` <small>${esc(type)}</small>` : ''}</td><td><pre>${esc(shape)}</pre></td></tr>`;
        })
        .join('');
      ops.push(`<section id="${id}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${mdInline(summary)}${auth ? ' <span class="auth">Bearer token</span>' : ''}</p>
${opDescription ? `<div class="md">${md(opDescription)}</div>` : ''}
${paramRows ? `<div class="scroll"><table><tr><th>parameter</th><th>in</th><th>type</th></tr>${paramRows}</table></div>` : ''}
${bodySchema ? `<h4>Request body</h4><pre>${esc(describe(bodySchema, schemas))}</pre>` : ''}
<h4>Responses</h4><div class="scroll"><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${responseRows}</table></div>
</section>`);
    }
  }
  const title = esc(String(info.title ?? 'API'));
  const description = md(String(info.description ?? ''));
  return `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title>
<style>
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font:16px/1.6 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:0 auto;padding:1rem 1rem 3rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.3rem;margin-top:2rem}h3{font-size:1.1rem;overflow-wrap:anywhere}h4{margin:1rem 0 .3rem}
a{color:#0969da}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
:not(pre)>code{background:#eff1f3;border-radius:4px;padding:.1em .3em;overflow-wrap:break-word}
pre{background:#f6f8fa;border-radius:6px;padding:.6rem .75rem;overflow-x:auto;margin:0;max-width:100%}
.scroll{overflow-x:auto;max-width:100%;margin:.5rem 0;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
td pre{background:none;padding:0}
section{border-top:1px solid #d0d7de;padding-top:.5rem;margin-top:1.5rem}
.m{color:#fff;border-radius:4px;padding:0 .4rem;font-size:13px;white-space:nowrap}
.get{background:#1a7f37}.post{background:#0969da}.patch{background:#9a6700}.delete{background:#cf222e}.put{background:#8250df}
.auth{font-size:12px;background:#eee;border-radius:4px;padding:0 .4rem;white-space:nowrap}
ul.toc{padding-left:1.2rem}ul.toc li{margin:.2rem 0}
@media (max-width:40rem){body{font-size:15px;padding:.75rem .75rem 2rem}h1{font-size:1.35rem}td,th{padding:.3rem .4rem}}
</style></head><body>
<h1>${title} <small>${esc(String(info.version ?? ''))}</small></h1>
<div class="md">${description}</div>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1)</p>
<h2>Routes</h2><ul class="toc">${toc.join('')}</ul>
${ops.join('\n')}
</body></html>`;
}
