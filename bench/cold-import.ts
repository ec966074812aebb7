// Cold import of each function next to a bare Hono function, measured the same way: each entry is
// bundled with esbuild (node_modules left external, as Vercel traces them), then imported in a
// fresh Node process N times; the median wall time of `await import()` is reported, plus the
// bundle size of the function's own code and of everything it pulls in.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { FUNCTION_NAMES } from '../lib/functions.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cold-import-'));

async function bundle(name: string, entry: string) {
  const external = path.join(out, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: external,
    logLevel: 'silent',
  });
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
  const bytes = full.outputFiles.reduce((n, f) => n + f.contents.length, 0);
  return { file: external, ownBytes: fs.statSync(external).size, fullBytes: bytes };
}

function timeImport(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const env = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'silent' };
  const ms = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, cwd: process.cwd() });
  return Number(String(ms).trim());
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

export type ColdImportRow = { name: string; medianMs: number; ratio: number; ownKb: number; fullKb: number };

export async function coldImports(names: readonly string[] = FUNCTION_NAMES): Promise<ColdImportRow[]> {
  // Bundles must resolve node_modules from the project, so they live beside it while measured.
  const entries: [string, string][] = [
    ['hello (bare Hono)', 'bench/fixtures/hello.ts'],
    ...names.map((n): [string, string] => [n, `api/v1/${n}.ts`]),
  ];
  const bundles = [];
  for (const [name, entry] of entries) {
    const b = await bundle(name.replace(/\W+/g, '_'), entry);
    const local = path.join(process.cwd(), `.bench-${path.basename(b.file)}`);
    fs.copyFileSync(b.file, local);
    bundles.push({ name, ...b, local });
  }
  const times = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
  try {
    // Interleaved, so background load affects every function alike.
    for (let i = 0; i < RUNS; i++) for (const b of bundles) times.get(b.name)?.push(timeImport(b.local));
  } finally {
    for (const b of bundles) fs.rmSync(b.local, { force: true });
  }
  const base = median(times.get('hello (bare Hono)') ?? []);
  return bundles.map((b) => {
    const m = median(times.get(b.name) ?? []);
    return {
      name: b.name,
      medianMs: Math.round(m * 10) / 10,
      ratio: Math.round((m / base) * 10) / 10,
      ownKb: Math.round(b.ownBytes / 1024),
      fullKb: Math.round(b.fullBytes / 1024),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await coldImports(process.argv.slice(2).length ? process.argv.slice(2) : FUNCTION_NAMES);
  console.table(rows);
}
