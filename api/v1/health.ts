// The health function: is the process serving, and can it reach each part it depends on.
import { createRoute } from '@hono/zod-openapi';
import { pingDatabase } from '../../lib/db/index.js';
import { runChecks } from '../../lib/health/checks.js';
import { HealthSchema } from '../../lib/health/schemas.js';
import { type App, createApp } from '../../lib/http/app.js';
import { jsonResponse } from '../../lib/http/openapi.js';
import { getRuntime, type Runtime } from '../../lib/runtime.js';

const health = createRoute({
  method: 'get',
  path: '/',
  tags: ['operations'],
  summary: 'Service health and each dependency’s status',
  responses: { 200: jsonResponse(HealthSchema, 'The process is serving') },
});

export function build(runtime: () => Runtime = getRuntime): App {
  const app = createApp('health', runtime);
  app.openapi(health, async (c) => {
    const rt = c.get('rt');
    const result = await runChecks({
      database: async () => pingDatabase(await rt.db()),
      limits: async () => {
        const { checkLimit } = await import('../../lib/ratelimit/index.js');
        // A real limiter round trip on a key of its own; only whether Redis answered matters.
        const r = await checkLimit(await rt.limits(), 'logs:user', 'health-probe');
        if (r.unavailable) throw new Error('limits unavailable');
      },
      storage: async () => (await rt.storage()).ping(),
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ ...result, version: rt.config.SERVICE_VERSION }, 200);
  });
  return app;
}

export default build();
