// The deployed functions and how Vercel routes to them (vercel.json holds the same rewrites):
// /api/v1/<name> and everything below it reach api/v1/<name>.ts.

export const FUNCTION_NAMES = [
  'health',
  'users',
  'conversations',
  'text-chat',
  'vision-chat',
  'uploads',
  'records',
  'logs',
  'docs',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Paths outside /api/v1/<name>/… that a function also serves (rewritten in vercel.json too). */
export const EXTRA_ROUTES: Record<string, FunctionName> = {
  '/api/v1/openapi.json': 'docs',
};

export function functionFor(pathname: string): FunctionName | undefined {
  const extra = EXTRA_ROUTES[pathname];
  if (extra) return extra;
  const m = /^\/api\/v1\/([a-z-]+)(?:\/|$)/.exec(pathname);
  const name = m?.[1];
  return FUNCTION_NAMES.find((f) => f === name);
}
