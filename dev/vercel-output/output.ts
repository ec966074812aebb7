// Reading a Build Output API v3 directory (`.vercel/output`): its config.json and what its
// filesystem holds, for the local server and for the build script's checks.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileRoutes, type Filesystem, type Resolution, resolveRoute } from './routes.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_OUTPUT_DIR = path.join(PROJECT_ROOT, '.vercel/output');

export type BuildOutput = {
  dir: string;
  config: Record<string, unknown>;
  fs: Filesystem;
  /** The file under static/ that answers a path (a directory answers with its index.html). */
  staticFile(pathname: string): string | undefined;
  /** The `.func` directory of a function path such as /api/v1/users. */
  functionDir(pathname: string): string | undefined;
  /** Names (api/v1/users, …) of every function in the output. */
  functions(): string[];
  /** Where a request would go. */
  route(method: string, url: string): Resolution;
};

/** A URL path mapped under `root`, never outside it. */
function inside(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const full = path.join(root, decoded);
  return full === root || full.startsWith(`${root}${path.sep}`) ? full : undefined;
}

export function readBuildOutput(dir: string = DEFAULT_OUTPUT_DIR): BuildOutput {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('version' in parsed) || parsed.version !== 3) {
    throw new Error(`${file}: not a Build Output API v3 config`);
  }
  const config = parsed as Record<string, unknown>;
  const table = compileRoutes(config.routes ?? []);
  const staticRoot = path.join(dir, 'static');
  const functionsRoot = path.join(dir, 'functions');

  const staticFile = (pathname: string): string | undefined => {
    const p = inside(staticRoot, pathname);
    if (!p) return undefined;
    for (const candidate of [p, path.join(p, 'index.html')]) {
      if (fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
    }
    return undefined;
  };
  const functionDir = (pathname: string): string | undefined => {
    if (pathname === '/' || pathname.endsWith('/')) return undefined;
    const p = inside(functionsRoot, `${pathname}.func`);
    return p && fs.existsSync(path.join(p, '.vc-config.json')) ? p : undefined;
  };
  const filesystem: Filesystem = (pathname) =>
    functionDir(pathname) ? 'function' : staticFile(pathname) ? 'static' : undefined;

  const functions = (): string[] => {
    if (!fs.existsSync(functionsRoot)) return [];
    return fs
      .readdirSync(functionsRoot, { recursive: true, encoding: 'utf8' })
      .filter((p) => p.endsWith('.func') && fs.existsSync(path.join(functionsRoot, p, '.vc-config.json')))
      .map((p) => p.slice(0, -'.func'.length).split(path.sep).join('/'))
      .sort();
  };

  return {
    dir,
    config,
    fs: filesystem,
    staticFile,
    functionDir,
    functions,
    route: (method, url) => {
      const u = new URL(url, 'http://localhost');
      return resolveRoute(table, method.toUpperCase(), u.pathname, u.search, filesystem);
    },
  };
}
