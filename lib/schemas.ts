// Zod pieces shared by the domain's schemas. No HTTP here: a service can take its types from a
// schema (z.infer) without importing lib/http.
import { z } from '@hono/zod-openapi';

/** A time as the API writes it: ISO 8601 in UTC. */
export const IsoDate = z.string().openapi({ format: 'date-time', example: '2026-11-25T08:00:00.000Z' });
