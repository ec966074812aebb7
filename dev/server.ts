// One Node server that mounts every function exactly as Vercel routes them: the request for
// /api/v1/<name>/… goes to api/v1/<name>.ts's app, untouched. Used by `npm run dev`, `npm start`
// and the HTTP tests.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { loaders } from '../api/_functions.js';
import { FUNCTION_NAMES, type FunctionName, functionFor } from '../lib/functions.js';
import type { App } from '../lib/http/app.js';
import { AppError, envelope } from '../lib/http/errors.js';
import type { Runtime } from '../lib/runtime.js';

export async function loadApps(runtime: () => Runtime): Promise<Map<FunctionName, App>> {
  const apps = new Map<FunctionName, App>();
  for (const name of FUNCTION_NAMES) apps.set(name, (await loaders[name]()).build(runtime));
  return apps;
}

export function dispatcher(
  apps: Map<FunctionName, App>,
): (req: Request, env?: unknown) => Promise<Response> | Response {
  return (req, env) => {
    const name = functionFor(new URL(req.url).pathname);
    const app = name && apps.get(name);
    // The node-server bindings (the socket) are passed on: per-IP limits read the peer address.
    if (app) return app.fetch(req, env);
    // Vercel would answer its own 404 page here; locally we keep the contract's envelope.
    const requestId = crypto.randomUUID();
    return Response.json(envelope(new AppError('NOT_FOUND', 'route not found'), requestId), {
      status: 404,
      headers: { 'X-Request-Id': requestId, 'X-Content-Type-Options': 'nosniff' },
    });
  };
}

/** After a shutdown stops the answers, how long their followers get to receive the last event. */
const STOP_NOTICE_MS = 300;

export type LocalServer = {
  url: string;
  port: number;
  /** Stops accepting; open requests (chat streams) get `graceMs` to finish, then are cut. */
  close(graceMs?: number): Promise<void>;
};

export async function startServer(
  runtime: () => Runtime,
  opts: { port?: number; host?: string } = {},
): Promise<LocalServer> {
  const fetch = dispatcher(await loadApps(runtime));
  return new Promise((resolve) => {
    const server = serve(
      { fetch, port: opts.port ?? 0, hostname: opts.host ?? '127.0.0.1' },
      (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          port: info.port,
          close: (graceMs = 0) =>
            new Promise<void>((done) => {
              if (!('closeAllConnections' in server)) {
                server.close(() => done());
                return;
              }
              // A keep-alive connection whose stream has ended is let go of at once.
              const idle = setInterval(() => server.closeIdleConnections(), 100);
              // Answers being written get graceMs to finish; then they are stopped (each stores what
              // it has as incomplete and tells its followers), and the connections left are cut.
              let cutting: NodeJS.Timeout | undefined;
              const cut = setTimeout(() => {
                runtime().answers.stopAll('shutdown');
                cutting = setTimeout(() => server.closeAllConnections(), STOP_NOTICE_MS);
              }, graceMs);
              server.close(() => {
                clearInterval(idle);
                clearTimeout(cut);
                clearTimeout(cutting);
                done();
              });
              server.closeIdleConnections();
            }),
        });
      },
    );
  });
}
