// Runs the `.func` directories of a Build Output the way `vercel dev` runs Node functions: each one
// in its own process, started by @vercel/node's own `dist/dev-server.mjs` (the bundled
// serverless-handler: it imports the `.vc-config.json` handler, unwraps `default`, sees Hono's
// `fetch` and serves it through @edge-runtime/node-utils, exactly as for `vercel dev`). The process
// works in the `.func` directory, so the handler loads the function's own traced copy of lib/ and
// node_modules: one module graph per function, like separate lambdas. Started on first request
// (a cold start), restarted after it dies.
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type VcConfig = {
  handler: string;
  runtime: string;
  launcherType?: string;
  maxDuration?: number;
  environment?: Record<string, string>;
  shouldAddHelpers?: boolean;
  supportsResponseStreaming?: boolean;
};

export type LogSink = (fn: string, stream: 'stdout' | 'stderr', text: string) => void;

export type FunctionInstance = { name: string; port: number; maxDuration: number; pid: number | undefined };

type Running = { child: ChildProcess; ready: Promise<FunctionInstance> };

const STARTUP_TIMEOUT_MS = 30_000;
// Preloaded into each function process: it ends when the server that started it goes away, even
// if that one was killed outright (an orphaned launcher would keep its port and database pool).
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent("process.on('disconnect', () => process.exit(0));")}`;

/** @vercel/node's dev server: the code `vercel dev` forks for every Node function. */
export function vercelNodeDevServer(): string {
  const require = createRequire(import.meta.url);
  const file = path.join(path.dirname(require.resolve('@vercel/node')), 'dev-server.mjs');
  if (!fs.existsSync(file))
    throw new Error(`@vercel/node has no ${file}: the launcher moved; update serve.ts`);
  return file;
}

export function readVcConfig(funcDir: string): VcConfig {
  const file = path.join(funcDir, '.vc-config.json');
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof raw !== 'object' || raw === null) throw new Error(`${file}: not an object`);
  const c = raw as Record<string, unknown>;
  if (typeof c.handler !== 'string' || typeof c.runtime !== 'string') {
    throw new Error(`${file}: handler and runtime are required`);
  }
  if (!c.runtime.startsWith('nodejs')) throw new Error(`${file}: runtime ${c.runtime} is not served locally`);
  if (c.launcherType !== undefined && c.launcherType !== 'Nodejs') {
    throw new Error(`${file}: launcherType ${String(c.launcherType)} is not served locally`);
  }
  if ('filePathMap' in c) throw new Error(`${file}: filePathMap outputs are not served locally`);
  return raw as VcConfig;
}

export class FunctionPool {
  private readonly running = new Map<string, Running>();
  private readonly devServer = vercelNodeDevServer();
  private closed = false;

  constructor(
    private readonly functionsDir: string,
    private readonly env: Record<string, string | undefined>,
    private readonly log: LogSink,
  ) {}

  /** The process serving a function (`api/v1/users`), started if it is not running. */
  get(name: string): Promise<FunctionInstance> {
    if (this.closed) return Promise.reject(new Error('function pool is closed'));
    const existing = this.running.get(name);
    if (existing) return existing.ready;
    const started = this.start(name);
    this.running.set(name, started);
    started.ready.catch(() => this.forget(name, started.child));
    return started.ready;
  }

  /** Names of the functions running now (one process each). */
  started(): string[] {
    return [...this.running.keys()];
  }

  private forget(name: string, child: ChildProcess): void {
    if (this.running.get(name)?.child === child) this.running.delete(name);
  }

  private start(name: string): Running {
    const funcDir = path.join(this.functionsDir, `${name}.func`);
    const vc = readVcConfig(funcDir);
    const maxDuration = vc.maxDuration ?? 300;
    // The variables @vercel/node's forkDevServer() sets; the function's own environment comes from
    // `env` (the project's variables) and the `.vc-config.json` environment, as on the platform.
    const nodeOptions = `${this.env.NODE_OPTIONS ?? ''} --no-warnings`.trim();
    const child = fork(this.devServer, [], {
      cwd: funcDir,
      execArgv: ['--import', EXIT_WITH_PARENT],
      env: {
        ...this.env,
        ...vc.environment,
        VERCEL_DEV_ENTRYPOINT: vc.handler,
        VERCEL_DEV_CONFIG: JSON.stringify({
          functions: { [vc.handler]: { maxDuration } },
          helpers: vc.shouldAddHelpers !== false,
        }),
        VERCEL_DEV_BUILD_ENV: '{}',
        VERCEL_DEV_PUBLIC_DIR: '',
        NODE_OPTIONS: nodeOptions,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]?.setEncoding('utf8');
      child[stream]?.on('data', (text: string) => this.log(name, stream, text));
    }
    child.on('exit', () => this.forget(name, child));

    const ready = new Promise<FunctionInstance>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name}: no address from the launcher within ${STARTUP_TIMEOUT_MS} ms`));
      }, STARTUP_TIMEOUT_MS);
      child.once('message', (msg: unknown) => {
        clearTimeout(timer);
        const port = typeof msg === 'object' && msg !== null && 'port' in msg ? msg.port : undefined;
        if (typeof port !== 'number') {
          reject(new Error(`${name}: unexpected launcher message ${JSON.stringify(msg)}`));
          return;
        }
        resolve({ name, port, maxDuration, pid: child.pid });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name}: launcher exited (${signal ?? code}) before it listened`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return { child, ready };
  }

  /** Stops every function process this pool started. */
  async close(): Promise<void> {
    this.closed = true;
    const children = [...this.running.values()].map((r) => r.child);
    this.running.clear();
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
            child.once('exit', () => {
              clearTimeout(force);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}
