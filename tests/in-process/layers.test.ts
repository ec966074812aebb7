// The layering of lib/README.md, held by the source itself: nothing below the HTTP layer imports
// it (types included), and no module of api/ or lib/ reaches itself again through the imports that
// run (static or `import()`; an `import type` is erased at run time).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The HTTP layer of lib/README.md: lib/http and the adapters it names. */
const HTTP_LAYER = ['lib/http/', 'lib/chat/http.ts', 'lib/chat/schemas.ts', 'lib/docs/'];

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')));
}

const IMPORT = /(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

type Edge = { to: string; typeOnly: boolean };

/** The project files a source file imports (relative specifiers only, `.js` mapped to `.ts`). */
function importsOf(file: string): Edge[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4];
    if (!spec?.startsWith('.')) continue;
    const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ to, typeOnly: m[2] !== undefined });
  }
  return out;
}

const files = [...sources('api'), ...sources('lib')];
const edges = new Map(files.map((f) => [f, importsOf(f)]));
/** Every import, types included. */
const graph = new Map([...edges].map(([f, es]) => [f, es.map((e) => e.to)]));
/** The imports that run. */
const runGraph = new Map([...edges].map(([f, es]) => [f, es.filter((e) => !e.typeOnly).map((e) => e.to)]));

describe('layers', () => {
  it('the import scan sees the imports (a known edge is found)', () => {
    expect(graph.get('lib/chat/http.ts')).toContain('lib/chat/flow.ts');
    expect(graph.get('api/v1/text-chat.ts')).toContain('lib/http/app.ts');
    expect(graph.get('lib/http/errors.ts')).toContain('lib/http/openapi.ts');
    expect(runGraph.get('lib/http/errors.ts')).not.toContain('lib/http/openapi.ts');
  });

  it('nothing in lib/ below the HTTP layer imports it', () => {
    const inHttp = (f: string) => HTTP_LAYER.some((p) => (p.endsWith('/') ? f.startsWith(p) : f === p));
    const offenders = files
      .filter((f) => f.startsWith('lib/') && !inHttp(f))
      .flatMap((f) => (graph.get(f) ?? []).filter(inHttp).map((t) => `${f} → ${t}`));
    expect(offenders).toEqual([]);
  });

  it('no import cycle in api/ and lib/', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of runGraph.get(f) ?? []) {
        if (!runGraph.has(t)) continue;
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('every function file is a short list of routes (at most 200 lines; flows live in lib/)', () => {
    const long = sources('api/v1')
      .map((f) => ({ f, lines: fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > 200)
      .map((x) => `${x.f}: ${x.lines} lines`);
    expect(long).toEqual([]);
  });
});
