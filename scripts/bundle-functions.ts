// The bundling step of `npm run build` (scripts/vercel-build.ts), run on the Build Output that
// `vercel build` left: each function's `.func` gets an esbuild bundle of its entry in place of the
// per-file copy of api/, lib/ and node_modules that the Node builder traced. A cold start then reads
// a few minified files instead of hundreds of modules (docs/performance.md, "Cold import").
//
// For each functions/api/v1/<name>.func:
// - api/v1/<name>.ts is bundled with its packages inlined (code splitting on, so a lazy `import()`
//   stays lazy; ESM; minified; linked source maps without sources). The entry is written over the
//   `.vc-config.json` handler (api/v1/<name>.js), its chunks beside it.
// - The traced api/ and lib/ are removed, and every node_modules package except those the bundle
//   still imports at run time (its external imports in the metafile: native sharp, the optional
//   packages behind a try/catch require) and what those depend on (sharp's @img binaries).
// - A CommonJS package behind `import()` gets its named exports as under Node (commonJsInterop).
// - `.vc-config.json`, the function's package.json (`"type": "module"`: the handler loads as ESM)
//   and drizzle/ stay as they are. drizzle/ is read only by the PGlite migrations (lib/db/index.ts
//   MIGRATIONS_DIR), which a deployment never runs (PGlite is not shipped); the chunks sit in
//   api/v1/ like the sources did, so that path still resolves to it.
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

/** CommonJS packages inlined into ESM call require(): the bundle's first line gives them one. */
export const REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** Packages never inlined: native code (sharp), a wasm payload (PGlite), an optional native driver. */
export const EXTERNAL = ['sharp', '@electric-sql/pglite', 'pg-native'];

export type BundledFunction = {
  /** e.g. api/v1/health */
  fn: string;
  beforeBytes: number;
  afterBytes: number;
  /** The files the bundle wrote (entry first), relative to the .func directory. */
  files: string[];
  /** node_modules packages kept for what the bundle imports at run time. */
  keptPackages: string[];
};

/** Whether Node loads `file` as CommonJS. */
function isCommonJs(file: string): boolean {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (!fs.existsSync(pkg)) continue;
    if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module') return false;
    break;
  }
  return !/^\s*(import|export)\b/m.test(fs.readFileSync(file, 'utf8'));
}

/**
 * `import()` of a CommonJS package, as Node answers it: the exports as named exports, and
 * module.exports as the default. Split by esbuild, such a chunk would export only `default`, and
 * `const { Redis } = await import('ioredis')` would read undefined. Each one is replaced with a
 * small ES module re-exporting the package's export names, read here by loading it once.
 */
export const commonJsInterop: Plugin = {
  name: 'commonjs-dynamic-import',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData === 'commonjs-dynamic-import') return undefined;
      const r = await b.resolve(args.path, {
        kind: 'dynamic-import',
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'commonjs-dynamic-import',
      });
      if (r.errors.length || r.external || !isCommonJs(r.path)) return undefined;
      return { path: r.path, namespace: 'commonjs-dynamic-import' };
    });
    b.onLoad({ filter: /.*/, namespace: 'commonjs-dynamic-import' }, (args) => {
      const exports: unknown = createRequire(args.path)(args.path);
      const names = Object.keys(exports ?? {}).filter(
        (n) => n !== 'default' && n !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(n),
      );
      const spec = JSON.stringify(args.path);
      return {
        contents: `const m = require(${spec});\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
        resolveDir: path.dirname(args.path),
        loader: 'js',
      };
    });
  },
};

/** Chunks of a package behind import() that export only `default`: named imports would be undefined. */
export function defaultOnlyChunks(meta: Metafile): string[] {
  return Object.values(meta.outputs)
    .filter(
      (o) => o.entryPoint?.includes('node_modules/') && o.exports.length === 1 && o.exports[0] === 'default',
    )
    .map((o) => o.entryPoint ?? '');
}

/** Bytes of every file under `dir`. */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

/** The package a bare import names: `@scope/name/sub` → `@scope/name`. */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

/** Non-built-in packages the bundle's outputs import at run time. */
export function externalPackages(meta: Metafile): string[] {
  const out = new Set<string>();
  for (const o of Object.values(meta.outputs)) {
    for (const i of o.imports) {
      if (!i.external || isBuiltin(i.path) || i.path.startsWith('.') || path.isAbsolute(i.path)) continue;
      out.add(packageName(i.path));
    }
  }
  return [...out].sort();
}

function readDeps(pkgDir: string): string[] {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    return [
      ...Object.keys(p.dependencies ?? {}),
      ...Object.keys(p.optionalDependencies ?? {}),
      ...Object.keys(p.peerDependencies ?? {}),
    ];
  } catch {
    return [];
  }
}

/**
 * The top-level node_modules packages of `funcDir` that `roots` need: the roots present there and,
 * recursively, the dependencies they (and packages nested inside them) resolve to at the top level.
 */
export function packageClosure(funcDir: string, roots: string[]): string[] {
  const nm = path.join(funcDir, 'node_modules');
  const keep = new Set<string>();
  const visited = new Set<string>();
  // Resolve `dep` from the package at `from` the way Node does: nested node_modules, then upwards.
  const resolve = (from: string, dep: string): string | undefined => {
    for (let dir = from; dir.startsWith(nm); dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', dep);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
    const top = path.join(nm, dep);
    return fs.existsSync(path.join(top, 'package.json')) ? top : undefined;
  };
  const visit = (pkgDir: string) => {
    if (visited.has(pkgDir)) return;
    visited.add(pkgDir);
    const rel = path.relative(nm, pkgDir).split(path.sep);
    keep.add(rel[0]?.startsWith('@') ? `${rel[0]}/${rel[1]}` : (rel[0] ?? ''));
    for (const dep of readDeps(pkgDir)) {
      const d = resolve(pkgDir, dep);
      if (d) visit(d);
    }
    // Packages nested in this one may depend on top-level ones too.
    const nested = path.join(pkgDir, 'node_modules');
    if (fs.existsSync(nested)) {
      for (const e of fs.readdirSync(nested)) {
        if (e.startsWith('.')) continue;
        const names = e.startsWith('@') ? fs.readdirSync(path.join(nested, e)).map((s) => `${e}/${s}`) : [e];
        for (const n of names)
          if (fs.existsSync(path.join(nested, n, 'package.json'))) visit(path.join(nested, n));
      }
    }
  };
  for (const r of roots) {
    const d = resolve(funcDir, r);
    if (d) visit(d);
  }
  return [...keep].sort();
}

/** Removes every top-level package of `funcDir`/node_modules not in `keep` (and empty scopes). */
function prunePackages(funcDir: string, keep: string[]): void {
  const nm = path.join(funcDir, 'node_modules');
  if (!fs.existsSync(nm)) return;
  for (const e of fs.readdirSync(nm)) {
    const p = path.join(nm, e);
    if (e.startsWith('@')) {
      for (const s of fs.readdirSync(p)) {
        if (!keep.includes(`${e}/${s}`)) fs.rmSync(path.join(p, s), { recursive: true, force: true });
      }
      if (fs.readdirSync(p).length === 0) fs.rmSync(p, { recursive: true, force: true });
    } else if (!keep.includes(e)) {
      fs.rmSync(p, { recursive: true, force: true });
    }
  }
  if (fs.readdirSync(nm).length === 0) fs.rmSync(nm, { recursive: true, force: true });
}

/** Bundles one function in place. `root` is the project (where api/ lives). */
export async function bundleFunction(root: string, outputDir: string, fn: string): Promise<BundledFunction> {
  const funcDir = path.join(outputDir, 'functions', `${fn}.func`);
  const vc = JSON.parse(fs.readFileSync(path.join(funcDir, '.vc-config.json'), 'utf8')) as {
    handler?: unknown;
  };
  const handler = `${fn}.js`;
  if (vc.handler !== handler) throw new Error(`${fn}: handler ${String(vc.handler)}, expected ${handler}`);
  const pkg = JSON.parse(fs.readFileSync(path.join(funcDir, 'package.json'), 'utf8')) as { type?: unknown };
  // The bundle is ESM in .js files: only a "type": "module" package.json loads it as such.
  if (pkg.type !== 'module') throw new Error(`${fn}: package.json is not "type": "module"`);
  const entry = path.join(root, `${fn}.ts`);
  if (!fs.existsSync(entry)) throw new Error(`${fn}: no source ${path.relative(root, entry)}`);

  const beforeBytes = dirBytes(funcDir);
  const outdir = path.join(funcDir, path.dirname(fn));
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [path.basename(fn)]: entry },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: EXTERNAL,
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    outdir,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [commonJsInterop],
    banner: { js: REQUIRE_BANNER },
  });
  if (result.errors.length) throw new Error(`${fn}: esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
  const defaultOnly = defaultOnlyChunks(result.metafile);
  if (defaultOnly.length)
    throw new Error(`${fn}: CommonJS behind import() exports only default: ${defaultOnly.join(', ')}`);
  const entryOut = result.outputFiles.find((f) => f.path === path.join(funcDir, handler));
  if (!entryOut) throw new Error(`${fn}: the bundle has no ${handler}`);
  for (const f of result.outputFiles) {
    if (!f.path.startsWith(`${outdir}${path.sep}`)) throw new Error(`${fn}: bundle file outside ${outdir}`);
  }

  const keptPackages = packageClosure(funcDir, externalPackages(result.metafile));
  fs.rmSync(path.join(funcDir, 'api'), { recursive: true, force: true });
  fs.rmSync(path.join(funcDir, 'lib'), { recursive: true, force: true });
  prunePackages(funcDir, keptPackages);
  const files = [entryOut, ...result.outputFiles.filter((f) => f !== entryOut)];
  for (const f of files) {
    fs.mkdirSync(path.dirname(f.path), { recursive: true });
    fs.writeFileSync(f.path, f.contents);
  }
  return {
    fn,
    beforeBytes,
    afterBytes: dirBytes(funcDir),
    files: files.map((f) => path.relative(funcDir, f.path)),
    keptPackages,
  };
}

/** Every `.func` under functions/ of the Build Output, as `api/v1/<name>`. */
export function listFunctions(outputDir: string): string[] {
  const base = path.join(outputDir, 'functions');
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name.endsWith('.func'))
        out.push(path.relative(base, p).slice(0, -'.func'.length).split(path.sep).join('/'));
      else walk(p);
    }
  };
  if (fs.existsSync(base)) walk(base);
  return out.sort();
}

export async function bundleFunctions(root: string, outputDir: string): Promise<BundledFunction[]> {
  const out: BundledFunction[] = [];
  for (const fn of listFunctions(outputDir)) out.push(await bundleFunction(root, outputDir, fn));
  return out;
}
