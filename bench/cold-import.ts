// Cold import of each function next to a bare Hono function, measured the same way: each entry is
// bundled with esbuild (node_modules left external, as Vercel traces them; code splitting on, so a
// lazy `import()` stays lazy as it does in the per-file output Vercel deploys), then imported in a
// fresh Node process N times; the median wall time of `await import()` is reported, plus the
// size of what a cold start loads and of everything the function ships.
//
// Without splitting, esbuild hoists the external imports of lazily imported modules to the top of
// the one output file, so every function would appear to load the S3 SDK and openai at start.
//
// It also checks, from the inlined bundle's metafile, that the chat functions do not load what only
// uploads needs and that uploads does not load the model SDK: "loaded at cold start" follows static
// imports only; a package reachable only through `import()` is shipped but loaded on first use.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { FUNCTION_NAMES } from '../lib/functions.js';
import { commonJsInterop, EXTERNAL, REQUIRE_BANNER } from '../scripts/bundle-functions.js';

const BASELINE = 'hello (bare Hono)';

type Bundle = {
  name: string;
  entryFile: string;
  /** The entry of the build with packages inlined (split, minified). */
  inlinedFile: string;
  startBytes: number;
  allBytes: number;
  fullBytes: number;
  /** npm packages a cold import loads (node: built-ins left out). */
  startPackages: string[];
};

async function bundle(dir: string, name: string, entry: string): Promise<Bundle & { meta: Metafile }> {
  const outdir = path.join(dir, name.replace(/\W+/g, '_'));
  // Split ESM: a lazy `import()` stays lazy, as in what Vercel deploys.
  const splitEsm = {
    entryPoints: { index: entry },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    metafile: true,
  } as const;
  const split = await build({ ...splitEsm, target: 'node20', packages: 'external', outdir });
  const outputs = split.metafile.outputs;
  const rel = (f: string) => path.relative(process.cwd(), path.resolve(f));
  // Lazily imported modules are entry points of their own in the metafile: match the entry's path.
  const entryKey = Object.keys(outputs).find((k) => outputs[k]?.entryPoint === entry);
  if (!entryKey) throw new Error(`${entry}: no entry output`);
  // What `import()` of the entry evaluates before answering: the entry and its static chunks.
  const seen = new Set<string>([entryKey]);
  const todo = [entryKey];
  while (todo.length) {
    const k = todo.pop() ?? '';
    for (const i of outputs[k]?.imports ?? []) {
      if (i.external || i.kind !== 'import-statement') continue;
      const key = Object.keys(outputs).find((o) => rel(o) === rel(i.path));
      if (key && !seen.has(key)) {
        seen.add(key);
        todo.push(key);
      }
    }
  }
  const startPackages = new Set<string>();
  for (const k of seen) {
    for (const i of outputs[k]?.imports ?? []) {
      if (!i.external || i.kind !== 'import-statement' || i.path.startsWith('node:')) continue;
      startPackages.add(/^(@[^/]+\/[^/]+|[^/]+)/.exec(i.path)?.[1] ?? i.path);
    }
  }
  const size = (keys: Iterable<string>) => [...keys].reduce((n, k) => n + (outputs[k]?.bytes ?? 0), 0);
  // Everything inlined (native sharp and PGlite's wasm excepted), for the size a function ships.
  const full = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['sharp', '@electric-sql/pglite', 'pg-native'],
    write: false,
    minify: true,
    logLevel: 'silent',
    metafile: true,
  });
  // Packages inlined too (native sharp and PGlite's wasm excepted), split as above: what
  // `npm run build` deploys. Timed beside the per-file output that a Git-integration build ships.
  const inlinedDir = `${outdir}_inlined`;
  const inlined = await build({
    ...splitEsm,
    target: 'node22',
    // As `npm run build` bundles a function (scripts/bundle-functions.ts).
    external: EXTERNAL,
    plugins: [commonJsInterop],
    outdir: inlinedDir,
    minify: true,
    banner: { js: REQUIRE_BANNER },
  });
  const inlinedEntry = Object.keys(inlined.metafile.outputs).find(
    (k) => inlined.metafile.outputs[k]?.entryPoint === entry,
  );
  if (!inlinedEntry) throw new Error(`${entry}: no inlined entry output`);
  return {
    name,
    entryFile: path.resolve(entryKey),
    inlinedFile: path.resolve(inlinedEntry),
    startBytes: size(seen),
    allBytes: size(Object.keys(outputs)),
    fullBytes: full.outputFiles.reduce((n, f) => n + f.contents.length, 0),
    startPackages: [...startPackages].sort(),
    meta: full.metafile,
  };
}

function timeImport(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const env = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'silent' };
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    cwd: process.cwd(),
  });
  return Number(String(out).trim());
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

// -------------------------------------------------------------------------------------------
// What each function reaches, from the metafile's import graph

const STATIC_KINDS = new Set(['entry-point', 'import-statement', 'require-call', 'require-resolve']);

const packageOf = (p: string): string | undefined => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
  return m?.[1];
};
const isPackage = (p: string, pkg: string) => p === pkg || p.startsWith(`${pkg}/`) || packageOf(p) === pkg;

/** The import chain from `entry` to `pkg` (→ static, ⇢ `import()`), following static imports only or also `import()`. */
export function chainTo(meta: Metafile, entry: string, pkg: string, withDynamic: boolean): string[] | null {
  const parent = new Map<string, { from: string; dynamic: boolean }>();
  const queue = [entry];
  const seen = new Set(queue);
  const trail = (end: string, last?: { dynamic: boolean }): string[] => {
    const steps: { label: string; dynamic: boolean }[] = [];
    if (last) steps.push({ label: pkg, dynamic: last.dynamic });
    for (let at: string | undefined = end; at !== undefined; at = parent.get(at)?.from) {
      steps.push({ label: packageOf(at) ?? at, dynamic: parent.get(at)?.dynamic ?? false });
    }
    steps.reverse();
    // A package's inner files collapse into its name; the edge into it is kept.
    const out: string[] = [];
    let prev = '';
    for (const s of steps) {
      if (s.label === prev) continue;
      out.push(out.length === 0 ? s.label : `${s.dynamic ? '⇢' : '→'} ${s.label}`);
      prev = s.label;
    }
    return out;
  };
  while (queue.length) {
    const file = queue.shift() ?? '';
    if (isPackage(file, pkg)) return trail(file);
    for (const i of meta.inputs[file]?.imports ?? []) {
      const dynamic = !STATIC_KINDS.has(i.kind);
      if (dynamic && !withDynamic) continue;
      if (i.external) {
        if (isPackage(i.path, pkg)) return trail(file, { dynamic });
        continue;
      }
      if (seen.has(i.path)) continue;
      seen.add(i.path);
      parent.set(i.path, { from: file, dynamic });
      queue.push(i.path);
    }
  }
  return null;
}

export type LoadCheck = {
  fn: string;
  pkg: string;
  /** True when the package is not loaded by a cold import of the function. */
  pass: boolean;
  /** How the package is reached statically (why it fails). */
  staticChain: string[] | null;
  /** How it is reached through `import()` when only so: shipped, loaded on first use. */
  lazyChain: string[] | null;
};

export const LOAD_RULES: { fns: string[]; pkgs: string[] }[] = [
  { fns: ['text-chat', 'vision-chat', 'records'], pkgs: ['@aws-sdk/s3-presigned-post', 'sharp', 'busboy'] },
  { fns: ['uploads'], pkgs: ['openai'] },
];

function loadChecks(bundles: Map<string, { meta: Metafile; entry: string }>): LoadCheck[] {
  const out: LoadCheck[] = [];
  for (const rule of LOAD_RULES) {
    for (const fn of rule.fns) {
      const b = bundles.get(fn);
      if (!b) continue;
      for (const pkg of rule.pkgs) {
        const staticChain = chainTo(b.meta, b.entry, pkg, false);
        out.push({
          fn,
          pkg,
          pass: staticChain === null,
          staticChain,
          lazyChain: staticChain ? null : chainTo(b.meta, b.entry, pkg, true),
        });
      }
    }
  }
  return out;
}

export const checkLine = (c: LoadCheck) =>
  `${c.pass ? 'PASS' : 'FAIL'} ${c.fn} ${c.pass ? 'does not load' : 'loads'} ${c.pkg} at cold start` +
  (c.staticChain ? ` (${c.staticChain.join(' ')})` : '') +
  (c.lazyChain ? `; shipped behind import(): ${c.lazyChain.join(' ')}` : '');

// -------------------------------------------------------------------------------------------

export type ColdImportRow = {
  name: string;
  medianMs: number;
  /** Median over the bare Hono function's median in the same run. */
  ratio: number;
  /** The same function bundled with its packages inlined, and its ratio to the bare function so bundled. */
  inlinedMs: number;
  inlinedRatio: number;
  /** Bundled code a cold import evaluates (entry + static chunks; packages not counted). */
  startKb: number;
  /** All bundled code of the function, lazy chunks included (packages not counted). */
  ownKb: number;
  /** Everything inlined and minified: what the function ships. */
  fullKb: number;
  /** npm packages loaded by a cold import. */
  packages: string[];
};

/** What the packages a function loads at start cost alone: a fresh-process import each. */
export type PackageCost = { pkg: string; medianMs: number; ratio: number };

export type ColdImportResult = {
  runs: number;
  rows: ColdImportRow[];
  checks: LoadCheck[];
  packages: PackageCost[];
};

/** The modules the functions load at start (as they import them), each timed alone next to hono. */
export const START_PACKAGES = [
  'hono',
  'zod',
  '@hono/zod-openapi',
  'drizzle-orm',
  'drizzle-orm/pg-core',
  'pino',
  'jose/jwt/verify',
  '@vercel/functions',
];

function timePackage(spec: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(spec)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
  return Number(String(out).trim());
}

export function packageCosts(runs: number): PackageCost[] {
  const times = new Map<string, number[]>(START_PACKAGES.map((p) => [p, []]));
  for (let i = 0; i < runs; i++) for (const p of START_PACKAGES) times.get(p)?.push(timePackage(p));
  const base = median(times.get('hono') ?? []);
  return START_PACKAGES.map((pkg) => {
    const m = median(times.get(pkg) ?? []);
    return { pkg, medianMs: Math.round(m * 10) / 10, ratio: Math.round((m / base) * 10) / 10 };
  });
}

export async function coldImports(
  names: readonly string[] = FUNCTION_NAMES,
  runs = Number(process.env.BENCH_RUNS ?? 15),
): Promise<ColdImportResult> {
  // Bundles live in a temporary folder with a link to the project's node_modules, so bare
  // imports resolve exactly as from the project.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cold-import-'));
  fs.symlinkSync(path.join(process.cwd(), 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  try {
    const entries: [string, string][] = [
      [BASELINE, 'bench/fixtures/hello.ts'],
      ...names.map((n): [string, string] => [n, `api/v1/${n}.ts`]),
    ];
    const bundles: (Bundle & { entry: string; meta: Metafile })[] = [];
    for (const [name, entry] of entries) bundles.push({ ...(await bundle(dir, name, entry)), entry });
    const times = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
    const inlinedTimes = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
    // Interleaved, so background load affects every function alike.
    for (let i = 0; i < runs; i++) {
      for (const b of bundles) {
        times.get(b.name)?.push(timeImport(b.entryFile));
        inlinedTimes.get(b.name)?.push(timeImport(b.inlinedFile));
      }
    }
    const base = median(times.get(BASELINE) ?? []);
    const inlinedBase = median(inlinedTimes.get(BASELINE) ?? []);
    const rows = bundles.map((b) => {
      const m = median(times.get(b.name) ?? []);
      const im = median(inlinedTimes.get(b.name) ?? []);
      return {
        name: b.name,
        medianMs: Math.round(m * 10) / 10,
        ratio: Math.round((m / base) * 10) / 10,
        inlinedMs: Math.round(im * 10) / 10,
        inlinedRatio: Math.round((im / inlinedBase) * 10) / 10,
        startKb: Math.round(b.startBytes / 1024),
        ownKb: Math.round(b.allBytes / 1024),
        fullKb: Math.round(b.fullBytes / 1024),
        packages: b.startPackages,
      };
    });
    const checks = loadChecks(new Map(bundles.map((b) => [b.name, { meta: b.meta, entry: b.entry }])));
    return { runs, rows, checks, packages: packageCosts(runs) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const r = await coldImports(args.length ? args : FUNCTION_NAMES);
  console.table(r.rows.map(({ packages: _, ...row }) => row));
  for (const row of r.rows) console.log(`${row.name}: ${row.packages.join(', ') || '(hono only)'}`);
  for (const c of r.checks) console.log(checkLine(c));
  console.table(r.packages);
}
