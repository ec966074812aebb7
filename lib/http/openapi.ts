// Schemas shared by every route file, so each route's OpenAPI entry lists the envelope it answers.
import { z } from '@hono/zod-openapi';
import { CODE_TO_STATUS } from './errors.js';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(CODE_TO_STATUS) as [keyof typeof CODE_TO_STATUS]),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ path: z.string(), code: z.string() })).optional(),
    }),
  })
  .openapi('Error');
export type ErrorEnvelope = z.infer<typeof ErrorSchema>;

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

/** The error answers a route can give, for its OpenAPI entry. */
export function errors(...statuses: number[]) {
  const text: Record<number, string> = {
    400: 'Invalid request',
    401: 'Missing or invalid access token',
    403: 'Forbidden or consent required',
    404: 'Not found (including other users’ resources)',
    409: 'Conflict',
    413: 'Payload too large',
    415: 'Unsupported media type',
    422: 'Unprocessable',
    429: 'Rate limited or quota exceeded',
    500: 'Internal error',
    502: 'Upstream error',
    503: 'Service unavailable',
    504: 'Upstream timeout',
  };
  return Object.fromEntries(statuses.map((s) => [s, errorResponse(text[s] ?? 'Error')]));
}

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearer = [{ bearerAuth: [] }];

export { IsoDate } from '../schemas.js';

/**
 * A list's page size. Clamped, never refused: API.md says `limit` is clamped to 1..100, so 0, 1.5
 * or 1000 all give a page; absent or blank gives the default.
 */
export function LimitQuery(def = 20, max = 100) {
  return z
    .preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), z.number().optional())
    .transform((n) =>
      n === undefined || !Number.isFinite(n) ? def : Math.min(max, Math.max(1, Math.trunc(n))),
    )
    .openapi({
      type: 'integer',
      description: `page size, clamped to 1..${max} (default ${def})`,
      example: def,
    });
}

/**
 * The `{id}` path parameter of a single resource. Ids are UUIDs the server made; anything else
 * (other text, NUL bytes, 80 characters) can name no resource, and the app answers it 404 like an
 * unknown id (see the validation hook in app.ts) instead of telling a prober what an id looks like.
 */
export const idParam = (name: string) =>
  z.uuid().openapi({ param: { name, in: 'path' }, example: '0b0f7c9e-3f1e-4a43-9a55-2c8f3b1d6e21' });

export const IdParam = z.object({ id: idParam('id') });
