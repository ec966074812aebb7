// The docs function: GET /api/v1/openapi.json (OpenAPI 3.1 of every function) and GET /api/v1/docs
// (a readable reference page rendered on the server: no script from a CDN, which may be
// unreachable from mainland China).
import { html, raw } from 'hono/html';
import { mergeDocuments } from '../../lib/docs/openapi.js';
import { renderReference } from '../../lib/docs/page.js';
import { type App, createApp } from '../../lib/http/app.js';
import { DOCS_CSP } from '../../lib/http/security-headers.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';
import { apiLoaders } from '../_apis.js';

export function build(runtime: () => Runtime = getRuntime): App {
  // Served at /api/v1/docs and /api/v1/openapi.json, so this app is based at /api/v1.
  const app = createApp('docs', runtime, '/api/v1');
  let doc: ReturnType<typeof mergeDocuments> | undefined;
  const document = async () => {
    if (!doc) {
      const apps: App[] = [];
      for (const load of Object.values(apiLoaders)) apps.push((await load()).build(runtime));
      doc = mergeDocuments(apps, runtime().config.SERVICE_VERSION);
    }
    return doc;
  };

  app.get('/openapi.json', async (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(await document());
  });

  app.get('/docs', async (c) => {
    const page = renderReference(await document());
    c.header('Content-Security-Policy', DOCS_CSP);
    return c.html(html`<!doctype html>${raw(page)}`);
  });

  return app;
}

export default build();
