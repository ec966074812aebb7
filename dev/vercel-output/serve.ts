// Serves a built `.vercel/output` (Build Output API v3) on loopback, the way the platform would:
// `config.json` routes decide what answers (routes.ts), static files come from `static/`, and every
// `functions/**/<name>.func` runs in its own process through @vercel/node's launcher (functions.ts).
// A rewritten request reaches its function with the ORIGINAL path and the rewrite's query parameters
// merged into the query string, as `vercel dev` and the platform hand it over.
//
//   npm run build && DATABASE_URL=postgres://… npx tsx dev/vercel-output/serve.ts [--port 3000]
//
// Each function is a separate process, so the embedded PGlite (one directory, one opener) cannot be
// shared: give it a real DATABASE_URL.
//
// The three ways to run the API locally:
//   npm run dev          every function in one process (dev/server.ts), embedded stand-ins
//   npm run dev:vercel   `vercel dev --local` (scripts/dev-vercel.ts): the CLI's own router and
//                        @vercel/node running the TypeScript sources, with the stand-ins of
//                        dev/stand-ins.ts (the embedded PGlite served over TCP); offline it needs
//                        NO .vercel/project.json (so `npm run build` removes the stand-in link)
//   this file            the built output of `npm run build`, exactly what would be deployed
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FunctionPool, type LogSink } from './functions.js';
import { DEFAULT_OUTPUT_DIR, readBuildOutput } from './output.js';
import type { Resolution } from './routes.js';

export type OutputServerOptions = {
  /** The Build Output directory; default `.vercel/output` of this project. */
  outputDir?: string;
  /** The functions' environment (the project's variables); default process.env. */
  env?: Record<string, string | undefined>;
  port?: number;
  host?: string;
  /** Where the functions' stdout/stderr go; default this process's stderr, prefixed. */
  onLog?: LogSink;
};

export type OutputServer = {
  url: string;
  port: number;
  /** Where a request would go, without sending it (for checks and tests). */
  route(method: string, url: string): Resolution;
  /** The functions running now (each its own process). */
  started(): string[];
  close(): Promise<void>;
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// Headers that describe one hop and are not forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function defaultLog(fn: string, stream: 'stdout' | 'stderr', text: string): void {
  for (const line of text.split('\n')) {
    if (line) process.stderr.write(`[${fn}${stream === 'stderr' ? '!' : ''}] ${line}\n`);
  }
}

function sendStatus(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  code: string,
): void {
  if (res.headersSent) {
    // Too late for a status: cut the response short instead (never one that already ended).
    if (!res.writableEnded) res.destroy();
    return;
  }
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
  res.end(status >= 300 && status < 400 ? '' : `${status}: ${code}\n`);
}

export async function startOutputServer(opts: OutputServerOptions = {}): Promise<OutputServer> {
  const output = readBuildOutput(path.resolve(opts.outputDir ?? DEFAULT_OUTPUT_DIR));
  const log = opts.onLog ?? defaultLog;
  // System variables the platform sets (values as `vercel dev` has them), under the project's own.
  const env = { VERCEL: '1', VERCEL_ENV: 'development', VERCEL_REGION: 'dev1', ...(opts.env ?? process.env) };
  const pool = new FunctionPool(path.join(output.dir, 'functions'), env, log);
  const route = output.route;

  const proxyToFunction = async (
    req: IncomingMessage,
    res: ServerResponse,
    target: Extract<Resolution, { kind: 'function' }>,
    requestPath: string,
  ): Promise<void> => {
    const fn = await pool.get(target.pathname.replace(/^\//, ''));
    const search = target.query.toString();
    const host = req.headers.host ?? 'localhost';
    const ip = req.socket.remoteAddress ?? '127.0.0.1';
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    }
    // What the platform's proxy adds (x-forwarded-host also becomes the Host the launcher passes on).
    Object.assign(headers, {
      'x-forwarded-host': host,
      'x-forwarded-proto': 'http',
      'x-forwarded-for': ip,
      'x-real-ip': ip,
      'x-vercel-forwarded-for': ip,
      'x-vercel-deployment-url': host,
      'x-vercel-id': `dev1::${randomBytes(8).toString('hex')}`,
    });
    await new Promise<void>((done) => {
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: fn.port,
          method: req.method,
          path: search ? `${requestPath}?${search}` : requestPath,
          headers,
        },
        (up) => {
          const out: http.OutgoingHttpHeaders = { ...target.headers };
          for (const [k, v] of Object.entries(up.headers)) {
            // Node re-frames the body itself; the launcher's framing is not passed on.
            if (!HOP_BY_HOP.has(k) && k !== 'transfer-encoding' && v !== undefined) out[k] = v;
          }
          res.writeHead(target.status ?? up.statusCode ?? 500, out);
          res.flushHeaders();
          up.pipe(res);
          up.on('error', () => res.destroy());
        },
      );
      // The platform ends an invocation at maxDuration.
      const timer = setTimeout(() => {
        sendStatus(res, 504, {}, 'FUNCTION_INVOCATION_TIMEOUT');
        upstream.destroy();
      }, fn.maxDuration * 1000);
      upstream.on('error', () => sendStatus(res, 502, {}, 'NO_RESPONSE_FROM_FUNCTION'));
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished) upstream.destroy();
        done();
      });
      req.pipe(upstream);
    });
  };

  const serveStatic = (
    res: ServerResponse,
    method: string,
    file: string,
    status: number,
    headers: Record<string, string>,
  ) => {
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(status, { 'content-type': type, 'content-length': fs.statSync(file).size, ...headers });
    if (method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  };

  const server = http.createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const requestPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    const target = route(method, req.url ?? '/');
    switch (target.kind) {
      case 'function':
        proxyToFunction(req, res, target, requestPath).catch((err: unknown) => {
          log(
            target.pathname.slice(1),
            'stderr',
            err instanceof Error ? (err.stack ?? err.message) : String(err),
          );
          sendStatus(res, 500, {}, 'FUNCTION_INVOCATION_FAILED');
        });
        return;
      case 'static': {
        const file = output.staticFile(target.pathname);
        if (file) serveStatic(res, method, file, target.status ?? 200, target.headers);
        else sendStatus(res, 404, target.headers, 'NOT_FOUND');
        return;
      }
      case 'status':
        sendStatus(res, target.status, target.headers, target.status === 404 ? 'NOT_FOUND' : 'STATUS');
        return;
      case 'external':
        sendStatus(res, 502, target.headers, `external rewrites are not served locally (${target.url})`);
        return;
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    route,
    started: () => pool.started(),
    close: async () => {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  if (!process.env.DATABASE_URL) {
    console.error(
      'Set DATABASE_URL: every function runs in its own process, and the embedded PGlite cannot be opened by several.',
    );
    process.exit(1);
  }
  const server = await startOutputServer({
    outputDir: argValue('--dir'),
    port: Number(argValue('--port') ?? process.env.PORT ?? 3000),
  });
  console.log(`serving ${argValue('--dir') ?? '.vercel/output'} on ${server.url}/api/v1`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
