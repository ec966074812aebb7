// The routing half of a Build Output API v3 `config.json`: which file or function answers a request.
// It implements what `vercel build` emits for this project (rewrites as `check: true` routes after
// `handle: filesystem`, a `status: 404` catch-all for /api, `handle: error` and `handle: miss`),
// plus `continue`, route headers, methods and redirects. Anything else the Build Output API allows
// (has/missing conditions, middleware, locales, transforms) is refused when the config is loaded,
// so a build that starts emitting it fails loudly instead of being routed wrongly.

export type Phase = 'filesystem' | 'hit' | 'miss' | 'rewrite' | 'error' | 'resource';

export type SourceRoute = {
  src: string;
  dest?: string;
  headers?: Record<string, string>;
  methods?: string[];
  continue?: boolean;
  check?: boolean;
  status?: number;
  caseSensitive?: boolean;
};

export type HandleRoute = { handle: Phase };
export type Route = SourceRoute | HandleRoute;

const PHASES: readonly Phase[] = ['filesystem', 'hit', 'miss', 'rewrite', 'error', 'resource'];
const SOURCE_KEYS = new Set([
  'src',
  'dest',
  'headers',
  'methods',
  'continue',
  'check',
  'status',
  'caseSensitive',
]);

/** Where a request ends up. `pathname` is the destination; the function still sees the original path. */
export type Resolution =
  | {
      kind: 'function';
      pathname: string;
      query: URLSearchParams;
      status?: number;
      headers: Record<string, string>;
    }
  | { kind: 'static'; pathname: string; status?: number; headers: Record<string, string> }
  | { kind: 'status'; status: number; headers: Record<string, string> }
  | { kind: 'external'; url: string; headers: Record<string, string> };

/** What the output's filesystem holds at a path (after `handle: filesystem` has normalised it). */
export type Filesystem = (pathname: string) => 'function' | 'static' | undefined;

type Compiled = { route: SourceRoute; re: RegExp };
type Table = { main: Compiled[]; phases: Map<Phase, Compiled[]> };

/** Validates a config.json `routes` array and compiles its regular expressions once. */
export function compileRoutes(routes: unknown): Table {
  if (!Array.isArray(routes)) throw new Error('config.json: routes must be an array');
  const table: Table = { main: [], phases: new Map() };
  let current: Compiled[] = table.main;
  for (const [i, raw] of routes.entries()) {
    if (typeof raw !== 'object' || raw === null) throw new Error(`config.json routes[${i}]: not an object`);
    const r = raw as Record<string, unknown>;
    if ('handle' in r) {
      const phase = PHASES.find((p) => p === r.handle);
      if (!phase) throw new Error(`config.json routes[${i}]: unknown handle ${String(r.handle)}`);
      current = [];
      table.phases.set(phase, current);
      continue;
    }
    const unsupported = Object.keys(r).filter((k) => !SOURCE_KEYS.has(k));
    if (unsupported.length) {
      throw new Error(
        `config.json routes[${i}]: unsupported ${unsupported.join(', ')} (not emitted for this project)`,
      );
    }
    if (typeof r.src !== 'string') throw new Error(`config.json routes[${i}]: src must be a string`);
    const route = r as SourceRoute;
    current.push({ route, re: new RegExp(route.src, route.caseSensitive ? '' : 'i') });
  }
  return table;
}

/** `$1` and `$name` in a destination or header value, filled from the match (missing groups are empty). */
export function substitute(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\d+|[A-Za-z_][A-Za-z0-9_]*)/g, (_, key: string) => {
    const value = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
    return value ?? '';
  });
}

type Step = {
  pathname: string;
  query: URLSearchParams;
  status?: number;
  matched: boolean;
  external?: string;
};

/**
 * Runs one phase's routes over a path. A matching route ends the phase unless it says `continue`; a
 * `check: true` route whose destination is not in the filesystem tries the `miss` routes, then lets
 * the next route have a go with the rewritten path.
 */
function runPhase(
  routes: Compiled[],
  phase: Phase | 'main',
  start: Step,
  method: string,
  headers: Record<string, string>,
  fs: Filesystem,
  missRoutes: Compiled[],
): Step {
  let { pathname, status } = start;
  const query = new URLSearchParams(start.query);
  for (const { route, re } of routes) {
    if (route.methods && !route.methods.some((m) => m.toUpperCase() === method)) continue;
    const m = re.exec(pathname);
    if (!m) continue;
    for (const [k, v] of Object.entries(route.headers ?? {})) headers[k.toLowerCase()] = substitute(v, m);
    let destPath = pathname;
    const destQuery = new URLSearchParams(query);
    if (route.dest !== undefined) {
      const dest = substitute(route.dest, m);
      if (/^https?:\/\//i.test(dest))
        return { pathname, query, status: route.status, matched: true, external: dest };
      const url = new URL(dest.startsWith('/') ? dest : `/${dest}`, 'http://route.local');
      destPath = url.pathname;
      // The request's own parameters win over the ones a rewrite adds (as `vercel dev` merges them).
      for (const [k, v] of url.searchParams) if (!query.has(k)) destQuery.set(k, v);
    }
    if (route.continue) {
      pathname = destPath;
      for (const [k, v] of destQuery) query.set(k, v);
      if (route.status) status = route.status;
      continue;
    }
    if (route.check && phase !== 'hit' && !fs(destPath)) {
      if (phase !== 'miss' && missRoutes.length) {
        const missed = runPhase(
          missRoutes,
          'miss',
          { pathname: destPath, query: destQuery, status, matched: false },
          method,
          headers,
          fs,
          [],
        );
        if (missed.matched) return missed;
      }
      pathname = destPath;
      continue;
    }
    return { pathname: destPath, query: destQuery, status: route.status ?? status, matched: true };
  }
  return { pathname, query, status, matched: false };
}

function settle(step: Step, headers: Record<string, string>, fs: Filesystem): Resolution | undefined {
  if (step.external) return { kind: 'external', url: step.external, headers };
  if (step.status && step.status >= 300 && step.status < 400)
    return { kind: 'status', status: step.status, headers };
  const found = fs(step.pathname);
  if (found === 'function') {
    return { kind: 'function', pathname: step.pathname, query: step.query, status: step.status, headers };
  }
  if (found === 'static') return { kind: 'static', pathname: step.pathname, status: step.status, headers };
  return undefined;
}

/** Resolves one request against the compiled routes and the output's filesystem. */
export function resolveRoute(
  table: Table,
  method: string,
  pathname: string,
  search: string,
  fs: Filesystem,
): Resolution {
  const headers: Record<string, string> = {};
  const miss = table.phases.get('miss') ?? [];
  let step: Step = { pathname, query: new URLSearchParams(search), matched: false };

  step = runPhase(table.main, 'main', step, method, headers, fs, miss);
  if (step.matched) {
    const done = settle(step, headers, fs);
    if (done || step.status) return done ?? errorPhase(table, method, step, headers, fs);
  }

  if (table.phases.has('filesystem')) {
    const hit = settle(step, headers, fs);
    if (hit) {
      // `hit` routes only add headers (they all `continue`).
      runPhase(table.phases.get('hit') ?? [], 'hit', step, method, headers, fs, []);
      return hit;
    }
  }

  for (const phase of ['filesystem', 'rewrite'] as const) {
    const routes = table.phases.get(phase);
    if (!routes) continue;
    step = runPhase(routes, phase, step, method, headers, fs, miss);
    if (step.matched) {
      const done = settle(step, headers, fs);
      if (done) return done;
      return errorPhase(table, method, { ...step, status: step.status ?? 404 }, headers, fs);
    }
  }
  const last = settle(step, headers, fs);
  return last ?? errorPhase(table, method, { ...step, status: 404 }, headers, fs);
}

/** `handle: error` routes pick a page for an error status (e.g. /404.html); otherwise the bare status. */
function errorPhase(
  table: Table,
  method: string,
  step: Step,
  headers: Record<string, string>,
  fs: Filesystem,
): Resolution {
  const status = step.status ?? 404;
  const routes = (table.phases.get('error') ?? []).filter(
    (c) => c.route.status === undefined || c.route.status === status,
  );
  const page = runPhase(routes, 'error', { ...step, matched: false }, method, headers, fs, []);
  if (page.matched && page.pathname !== step.pathname && fs(page.pathname) === 'static') {
    return { kind: 'static', pathname: page.pathname, status, headers };
  }
  return { kind: 'status', status, headers };
}
