// The health answer's shape: one zod schema validates, documents (OpenAPI) and types it.
import { z } from '@hono/zod-openapi';

export const CheckSchema = z.object({
  status: z.enum(['ok', 'down']),
  latencyMs: z.number(),
  error: z.string().optional(),
});
export type CheckResult = z.infer<typeof CheckSchema>;

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    checks: z.record(z.string(), CheckSchema),
  })
  .openapi('Health');
