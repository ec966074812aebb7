// `npm run build`: the deployable Build Output in .vercel/output, made by the real Vercel CLI
// (`vercel build`), offline and without logging in, then checked.
//
// 1. Type-check what gets deployed: api/ and everything it imports (`vercel build` itself exits 0
//    on type and even syntax errors). `npm run typecheck` covers the whole project.
// 2. `vercel build` needs a linked project: without .vercel/project.json it asks to pull settings
//    from the API. A local stand-in with a `settings` object is written when none exists and
//    removed afterwards (also one a killed build left behind), because `vercel dev --local` works
//    offline only without one. A real link (from `vercel link`) is used as it is and kept.
//    Builds in one checkout take turns (.vercel/build.lock), so one never removes the stand-in
//    another is using.
// 3. Bundle each function (scripts/bundle-functions.ts): its `.func` gets an esbuild bundle of
//    api/v1/<name>.ts with its packages inlined in place of the per-file copy `vercel build` traced,
//    which cuts a cold import several-fold (docs/performance.md, "Cold import"). BUILD_BUNDLE=0
//    keeps vercel build's per-file output.
// 4. Check the output: every function of lib/functions.ts built, nothing unexpected, and every
//    /api/v1/<name>/… path (and each extra route) routed to its function by config.json.
//
// Extra arguments go to `vercel build` (e.g. `npm run build -- --prod`, or `-- --output <dir>` to
// build somewhere other than .vercel/output, as tests/services/vercel-output.test.ts does). Serve
// the result with dev/vercel-output/serve.ts; `npm run dev:vercel` (`vercel dev --local`) runs the
// sources instead.
// vercel.json sets `buildCommand: ""` so the platform (and `vercel build`) never runs
// `npm run build` itself, which would start this script again.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBuildOutput } from '../dev/vercel-output/output.js';
import { EXTRA_ROUTES, FUNCTION_NAMES } from '../lib/functions.js';
import { bundleFunctions } from './bundle-functions.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vercelDir = path.join(root, '.vercel');
const projectFile = path.join(vercelDir, 'project.json');
const args = process.argv.slice(2);
const outputDir = outputArg(args) ?? path.join(vercelDir, 'output');
const require = createRequire(import.meta.url);

const LOCAL_PROJECT = { projectId: 'prj_local', orgId: 'team_local', settings: { framework: null } };
const lockFile = path.join(vercelDir, 'build.lock');

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // The child gets the terminal's signal too; waiting for it lets the clean-up below run.
  process.on(signal, () => {
    interrupted = true;
  });
}

/** `--output <dir>` (or `--output=<dir>`) of `vercel build`, resolved like the CLI does. */
function outputArg(argv: string[]): string | undefined {
  for (const [i, a] of argv.entries()) {
    const value =
      a === '--output' ? argv[i + 1] : a.startsWith('--output=') ? a.slice('--output='.length) : undefined;
    if (value) return path.resolve(root, value);
  }
  return undefined;
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function typecheck(): Promise<boolean> {
  const config = path.join(vercelDir, `tsconfig.deploy.${process.pid}.json`);
  fs.mkdirSync(vercelDir, { recursive: true });
  // The project's compiler options, rooted at the deployed entry points only.
  fs.writeFileSync(
    config,
    JSON.stringify({ extends: '../tsconfig.json', include: ['../api/**/*.ts'] }, null, 2),
  );
  try {
    return (await run([require.resolve('typescript/bin/tsc'), '--noEmit', '-p', config])) === 0;
  } finally {
    fs.rmSync(config, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** Waits for other builds of this checkout; the lock of one that died is taken over. */
async function lock(): Promise<() => void> {
  fs.mkdirSync(vercelDir, { recursive: true });
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
    }
    let holder: number;
    let age: number;
    try {
      holder = Number(fs.readFileSync(lockFile, 'utf8'));
      age = Date.now() - fs.statSync(lockFile).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // A dead holder, or a lock left empty by one that died while writing it.
    const stale = Number.isInteger(holder) && holder > 0 ? !alive(holder) : age > 10_000;
    if (stale) {
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (!told) console.log(`build: waiting for the build that holds ${path.relative(root, lockFile)}`);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function isStandIn(file: string): boolean {
  try {
    const p: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return (
      typeof p === 'object' &&
      p !== null &&
      'projectId' in p &&
      p.projectId === LOCAL_PROJECT.projectId &&
      'orgId' in p &&
      p.orgId === LOCAL_PROJECT.orgId
    );
  } catch {
    return false;
  }
}

async function vercelBuild(args: string[]): Promise<number> {
  const pkg: unknown = JSON.parse(fs.readFileSync(require.resolve('vercel/package.json'), 'utf8'));
  const bin =
    typeof pkg === 'object' && pkg !== null && 'bin' in pkg && typeof pkg.bin === 'object' && pkg.bin !== null
      ? (pkg.bin as Record<string, string>).vercel
      : undefined;
  if (!bin) throw new Error('the vercel package has no `vercel` bin');
  const cli = path.join(path.dirname(require.resolve('vercel/package.json')), bin);

  const unlock = await lock();
  const standIn = !fs.existsSync(projectFile) || isStandIn(projectFile);
  if (standIn) {
    fs.writeFileSync(projectFile, `${JSON.stringify(LOCAL_PROJECT)}\n`);
    console.log('build: wrote a stand-in .vercel/project.json');
  }
  try {
    return await run([cli, 'build', '--yes', ...args], {
      ...process.env,
      // Dependencies are installed already; otherwise it runs `npm install` (minutes, offline).
      VERCEL_INSTALL_COMPLETED: process.env.VERCEL_INSTALL_COMPLETED ?? '1',
      VERCEL_TELEMETRY_DISABLED: '1',
      NO_UPDATE_NOTIFIER: '1',
    });
  } finally {
    if (standIn) {
      fs.rmSync(projectFile, { force: true });
      console.log('build: removed the stand-in .vercel/project.json');
    }
    unlock();
  }
}

/** Problems with the output, each one line. */
function checkOutput(): string[] {
  const problems: string[] = [];
  let output: ReturnType<typeof readBuildOutput>;
  try {
    output = readBuildOutput(outputDir);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  const expected = FUNCTION_NAMES.map((name) => `api/v1/${name}`);
  const built = output.functions();
  for (const fn of expected) if (!built.includes(fn)) problems.push(`${fn}: no .func in the output`);
  for (const fn of built) {
    if (!expected.includes(fn)) problems.push(`${fn}: built but not in lib/functions.ts FUNCTION_NAMES`);
  }
  const routed = (url: string, fn: string) => {
    const r = output.route('GET', url);
    if (r.kind !== 'function' || r.pathname !== `/${fn}`) {
      problems.push(
        `${url}: routed to ${r.kind === 'function' ? r.pathname : r.kind}, not /${fn} (vercel.json rewrites)`,
      );
    }
  };
  for (const name of FUNCTION_NAMES) {
    routed(`/api/v1/${name}`, `api/v1/${name}`);
    routed(`/api/v1/${name}/some/sub/path?x=1`, `api/v1/${name}`);
  }
  for (const [url, name] of Object.entries(EXTRA_ROUTES)) routed(url, `api/v1/${name}`);
  return problems;
}

const started = performance.now();
let t = performance.now();
if (!(await typecheck())) {
  console.error('build: type errors in the deployed code (api/ and what it imports); nothing built');
  process.exit(1);
}
console.log(`build: type-check ${seconds(t)}`);
if (interrupted) process.exit(130);

t = performance.now();
const code = await vercelBuild(args);
if (interrupted) process.exit(130);
if (code !== 0) {
  console.error(`build: vercel build exited with ${code}`);
  process.exit(code);
}
console.log(`build: vercel build ${seconds(t)}`);

if (process.env.BUILD_BUNDLE === '0') {
  console.log('build: BUILD_BUNDLE=0, functions left as vercel build traced them (one file per module)');
} else {
  t = performance.now();
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  try {
    for (const b of await bundleFunctions(root, outputDir)) {
      const kept = b.keptPackages.length ? `; kept ${b.keptPackages.join(', ')}` : '';
      console.log(
        `build: bundled ${b.fn}: ${kb(b.beforeBytes)} -> ${kb(b.afterBytes)} (${b.files.length} files${kept})`,
      );
    }
  } catch (err) {
    console.error(`build: bundling failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  console.log(`build: bundle ${seconds(t)}`);
}

const problems = checkOutput();
if (problems.length) {
  console.error(`build: the output is not what lib/functions.ts describes:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `build: ${FUNCTION_NAMES.length} functions routed in ${path.relative(root, outputDir)} (${seconds(started)} in all)`,
);
