// Zod pieces shared by the domain's schemas. No HTTP here: a service can take its types from a
// schema (z.infer) without importing lib/http.
import { z } from '@hono/zod-openapi';

/** A page of a list: its items and the cursor of the next page (null on the last). */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** A time as the API writes it: ISO 8601 in UTC. */
export const IsoDate = z.string().openapi({ format: 'date-time', example: '2026-11-25T08:00:00.000Z' });
