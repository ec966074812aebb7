// The deployed shape, offline: `npm run build` runs the real `vercel build`, and the Build Output it
// leaves in .vercel/output is served the way the platform would (dev/vercel-output/serve.ts):
// config.json routes, and every function in its own process through @vercel/node's launcher with
// its own files: the esbuild bundle the build wrote over vercel build's traced copy of lib/ and
// node_modules (scripts/bundle-functions.ts), plus the packages it still imports (sharp).
//
// The build goes to a temporary directory (`npm run build -- --output <dir>`), so concurrent runs and
// the developer's own .vercel/output do not trip over each other. The functions share one real
// PostgreSQL database (a fresh `vt_<random>` one, migrated here): separate processes cannot share
// the embedded PGlite directory.
// VERCEL_OUTPUT_REUSE=1 serves the existing .vercel/output instead of building (quick iteration).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope, Health, LoginResponse, User } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { readBuildOutput } from '../../dev/vercel-output/output.js';
import { type OutputServer, startOutputServer } from '../../dev/vercel-output/serve.js';
import { openDatabase } from '../../lib/db/index.js';
import { EXTRA_ROUTES, FUNCTION_NAMES } from '../../lib/functions.js';
import { apiClient, pngImage, uploadImage } from '../helpers/images.js';
import type { OpenApiDoc } from '../helpers/openapi.js';
import { readSse, textOf } from '../helpers/sse.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REUSE = process.env.VERCEL_OUTPUT_REUSE === '1';
const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BUILD_TIMEOUT_MS = 15 * 60_000;

/** Runs a command, resolving with its exit code and combined output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      output += s;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

describe('the Vercel build output, served as deployed', () => {
  const dbName = `vt_${randomBytes(6).toString('hex')}`;
  let dataDir = '';
  let outputDir = path.join(ROOT, '.vercel/output');
  let server: OutputServer | undefined;
  let buildLog = '';
  const logs: string[] = [];
  // The parts a chat and an upload reach, so their lazily imported packages run from the bundles.
  let mock: MockLlm | undefined;
  let storage: TestStorage | undefined;

  const url = (p: string) => {
    if (!server) throw new Error('server not started');
    return `${server.url}${p}`;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vercel-output-'));
    await withAdmin((c) => c.query(`CREATE DATABASE ${dbName}`));
    const handle = await openDatabase({ url: databaseUrl(dbName), driver: 'pg' });
    try {
      await handle.migrate();
    } finally {
      await handle.close();
    }

    if (!REUSE) {
      outputDir = path.join(dataDir, 'output');
      const env = { ...process.env };
      // Vitest's own settings are not the build's.
      delete env.NODE_ENV;
      delete env.VITEST;
      const started = performance.now();
      const { code, output } = await run('npm', ['run', 'build', '--', '--output', outputDir], env);
      const buildSeconds = (performance.now() - started) / 1000;
      buildLog = output;
      if (code !== 0) throw new Error(`npm run build exited with ${code}:\n${output.slice(-4000)}`);
      console.log(`npm run build: ${buildSeconds.toFixed(1)} s`);
    }

    mock = await startMockLlm({ defaults: { reply: '多喝水，注意休息。如果持续不适，请及时就医。' } });
    storage = await startTestStorage();
    server = await startOutputServer({
      outputDir,
      // The project's variables, as the platform would hand them to every function.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: databaseUrl(dbName),
        DATA_DIR: path.join(dataDir, 'data'),
        LOG_LEVEL: 'info',
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 'test',
        REDIS_URL: 'redis://127.0.0.1:6379',
        RATE_LIMIT_PREFIX: `vt:${dbName}:`,
        ...storage.env,
      },
      onLog: (fn, stream, text) => {
        logs.push(`[${fn} ${stream}] ${text}`);
      },
    });
  }, BUILD_TIMEOUT_MS);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && logs.length) console.error(`function logs:\n${logs.join('')}`);
  });

  afterAll(async () => {
    await server?.close();
    await mock?.close();
    await storage?.close();
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it.skipIf(REUSE)('removes the stand-in project link it wrote, and keeps the output', () => {
    // Read from the build's own log: another build in this checkout may hold a link right now.
    const wrote = buildLog.includes('wrote a stand-in .vercel/project.json');
    expect(buildLog.includes('removed the stand-in .vercel/project.json')).toBe(wrote);
    expect(fs.existsSync(path.join(outputDir, 'config.json'))).toBe(true);
  });

  it('builds every function with its settings, plus the cron', () => {
    const output = readBuildOutput(outputDir);
    expect(output.functions()).toEqual(FUNCTION_NAMES.map((n) => `api/v1/${n}`).sort());
    const vc = (name: string): Record<string, unknown> =>
      JSON.parse(
        fs.readFileSync(path.join(outputDir, `functions/api/v1/${name}.func/.vc-config.json`), 'utf8'),
      );
    for (const name of FUNCTION_NAMES) {
      expect(vc(name)).toMatchObject({
        runtime: 'nodejs22.x',
        launcherType: 'Nodejs',
        handler: `api/v1/${name}.js`,
      });
    }
    expect(vc('text-chat').maxDuration).toBe(300);
    expect(vc('vision-chat').maxDuration).toBe(300);
    expect(vc('uploads').maxDuration).toBe(60);
    expect(vc('records').maxDuration).toBe(120);
    expect(output.config.crons).toContainEqual({
      path: '/api/v1/logs/retention',
      schedule: expect.any(String),
    });
  });

  it('ships each function as a bundle, with only the packages it imports at run time', () => {
    const func = (name: string, ...p: string[]) =>
      path.join(outputDir, `functions/api/v1/${name}.func`, ...p);
    for (const name of FUNCTION_NAMES) {
      const handler = fs.readFileSync(func(name, `api/v1/${name}.js`), 'utf8');
      // The bundle's banner, and none of the per-file output's imports of the traced sources.
      expect(handler.startsWith("import { createRequire as __cr } from 'node:module';"), name).toBe(true);
      expect(handler, name).not.toMatch(/from\s*["'](\.\.\/)+lib\//);
      expect(fs.existsSync(func(name, 'lib')), `${name}: lib/`).toBe(false);
      expect(fs.existsSync(func(name, 'node_modules/zod')), `${name}: zod`).toBe(false);
      expect(fs.existsSync(func(name, 'node_modules/hono')), `${name}: hono`).toBe(false);
      // Loaded as ESM, as the function's package.json says.
      const pkg: { type?: string } = JSON.parse(fs.readFileSync(func(name, 'package.json'), 'utf8'));
      expect(pkg.type, name).toBe('module');
    }
    // Native sharp stays external in uploads, with its platform binary.
    expect(fs.existsSync(func('uploads', 'node_modules/sharp/package.json'))).toBe(true);
    expect(fs.readdirSync(func('uploads', 'node_modules/@img'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^sharp-linux-/)]),
    );
    expect(fs.existsSync(func('health', 'node_modules'))).toBe(false);
    if (!REUSE) expect(buildLog).toMatch(/bundled api\/v1\/health: \d+ KB -> \d+ KB/);
  });

  it('routes each function’s sub-paths and the extra routes to it', () => {
    if (!server) throw new Error('server not started');
    for (const name of FUNCTION_NAMES) {
      for (const p of [`/api/v1/${name}`, `/api/v1/${name}/a/b?c=d`]) {
        expect(server.route('GET', p), p).toMatchObject({ kind: 'function', pathname: `/api/v1/${name}` });
      }
    }
    for (const [p, name] of Object.entries(EXTRA_ROUTES)) {
      expect(server.route('GET', p), p).toMatchObject({ kind: 'function', pathname: `/api/v1/${name}` });
    }
  });

  it('GET /api/v1/health answers 200 JSON with the database up', async () => {
    const res = await fetch(url('/api/v1/health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body: Health = await res.json();
    // Parts this test does not run (e.g. object storage) may be down: the service is then degraded.
    expect(body).toMatchObject({
      status: expect.stringMatching(/^(ok|degraded)$/),
      checks: { database: { status: 'ok' } },
    });
  });

  it('signs in with a JSON body, then reads the account through a rewritten path', async () => {
    const login = await fetch(url('/api/v1/users/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'dev:alice' }),
    });
    expect(login.status).toBe(200);
    const pair: LoginResponse = await login.json();
    expect(pair.accessToken).toEqual(expect.any(String));
    expect(pair.user).toMatchObject({ nickname: 'alice' });

    const me = await fetch(url('/api/v1/users/me'), {
      headers: { authorization: `Bearer ${pair.accessToken}` },
    });
    expect(me.status).toBe(200);
    const account: User = await me.json();
    expect(account).toMatchObject({ id: pair.user.id, nickname: 'alice' });
    // Hono matched the original path: the function's own request log names the route it ran. The
    // line comes through the function process's stdout, which may arrive after the answer.
    const logged = /"fn":"users".*"route":"\/api\/v1\/users\/me".*"status":200/;
    for (let i = 0; i < 50 && !logged.test(logs.join('')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(logs.join('')).toMatch(logged);

    const anonymous = await fetch(url('/api/v1/users/me'));
    expect(anonymous.status).toBe(401);
    const refused: ErrorEnvelope = await anonymous.json();
    expect(refused).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('answers a chat, takes an upload and answers about the image, each from its bundle', async () => {
    const login = await fetch(url('/api/v1/users/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'dev:bundled' }),
    });
    expect(login.status).toBe(200);
    const { accessToken: token }: LoginResponse = await login.json();
    const api = apiClient(url('/api/v1'), token);
    const me = await api<{ consent: { currentVersion: string } }>('GET', '/users/me');
    const consent = await api('POST', '/users/me/consents', {
      version: me.json.consent.currentVersion,
      accepted: true,
    });
    expect(consent.status).toBe(201);
    const ask = (p: string, body: Record<string, unknown>) =>
      fetch(url(p), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // text-chat: the model client (openai), the limits and the answer bus (ioredis) load lazily.
    const chat = await readSse(await ask('/api/v1/text-chat', { content: '最近有点咳嗽怎么办' }));
    expect(chat.names[0]).toBe('meta');
    expect(chat.names.at(-1)).toBe('done');
    expect(textOf(chat)).toContain('多喝水');

    // uploads: the S3 presigners and sharp; vision-chat: the stored image read back for the model.
    const up = await uploadImage(api, await pngImage());
    expect(up.upload).toBe(204);
    expect(up.complete.status).toBe(200);
    const vision = await readSse(
      await ask('/api/v1/vision-chat', { content: '这是什么皮疹', imageIds: [up.fileId] }),
    );
    expect(vision.names.at(-1)).toBe('done');
    expect(mock?.requests.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('answers an unknown route under a function with the JSON 404 envelope', async () => {
    const res = await fetch(url('/api/v1/users/no-such-route'));
    expect(res.status).toBe(404);
    const notFound: ErrorEnvelope = await res.json();
    expect(notFound).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('serves /api/v1/openapi.json from the docs function (an extra route)', async () => {
    const res = await fetch(url('/api/v1/openapi.json'));
    expect(res.status).toBe(200);
    const doc: OpenApiDoc = await res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/v1/users/me');
    expect(server?.started()).toContain('api/v1/docs');
  });

  it('answers a path outside every function with the platform’s own 404, not a function', async () => {
    const res = await fetch(url('/api/v1/no-such-function/x'));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).not.toMatch(/json/);
  });

  it('publishes public/ only, never the project’s source files', async () => {
    const index = await fetch(url('/'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    await index.arrayBuffer();
    for (const p of ['/tsconfig.json', '/package.json', '/lib/config/index.ts']) {
      const res = await fetch(url(p));
      expect(res.status, p).toBe(404);
      await res.arrayBuffer();
    }
  });

  it('runs each function as its own process', () => {
    expect(server?.started()).toEqual(expect.arrayContaining(['api/v1/health', 'api/v1/users']));
  });
});

// What a function receives after a rewrite, through the same launcher: a one-file function that
// echoes its Request, in a Build Output shaped like the one `vercel build` emits for vercel.json.
describe('the request a rewritten function sees', () => {
  let dir = '';
  let server: OutputServer | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vercel-output-probe-'));
    const func = path.join(dir, 'functions/api/probe.func');
    fs.mkdirSync(func, { recursive: true });
    fs.writeFileSync(
      path.join(func, 'index.mjs'),
      `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(req) {
    const { pathname } = new URL(req.url);
    if (pathname.endsWith('/slow')) await sleep(5000);
    if (pathname.endsWith('/stream')) {
      const enc = new TextEncoder();
      const body = new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode('data: first\\n\\n'));
          await sleep(1500);
          c.enqueue(enc.encode('data: last\\n\\n'));
          c.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    return Response.json({ url: req.url, method: req.method, body: await req.text(), host: req.headers.get('host') });
  },
};
`,
    );
    fs.writeFileSync(
      path.join(func, '.vc-config.json'),
      JSON.stringify({
        handler: 'index.mjs',
        runtime: 'nodejs22.x',
        launcherType: 'Nodejs',
        shouldAddHelpers: true,
        maxDuration: 3,
      }),
    );
    // The routes `vercel build` emits for `/api/probe/(.*)` and for `/api/named/:path*` rewrites.
    const routes = [
      { handle: 'filesystem' },
      { src: '^/api/probe(?:/(.*))$', dest: '/api/probe', check: true },
      { src: '^/api/named(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?$', dest: '/api/probe?path=$1', check: true },
      { src: '^/api(/.*)?$', status: 404 },
      { handle: 'error' },
      { status: 404, src: '^(?!/api).*$', dest: '/404.html' },
    ];
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 3, routes }));
    server = await startOutputServer({ outputDir: dir, env: { PATH: process.env.PATH }, onLog: () => {} });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const echo = async (p: string, init?: RequestInit) => {
    if (!server) throw new Error('server not started');
    const res = await fetch(`${server.url}${p}`, init);
    expect(res.status).toBe(200);
    return (await res.json()) as { url: string; method: string; body: string; host: string };
  };

  it('keeps the original path and query when the rewrite has no parameters', async () => {
    const seen = await echo('/api/probe/a/b?x=1');
    const u = new URL(seen.url);
    expect(u.pathname).toBe('/api/probe/a/b');
    expect(u.search).toBe('?x=1');
    expect(u.host).toBe(seen.host);
  });

  it('adds a named parameter of the rewrite to the query string', async () => {
    const u = new URL((await echo('/api/named/a/b?x=1')).url);
    expect(u.pathname).toBe('/api/named/a/b');
    expect(u.searchParams.get('x')).toBe('1');
    expect(u.searchParams.get('path')).toBe('a/b');
  });

  it('streams a response as it is written', async () => {
    if (!server) throw new Error('server not started');
    const started = performance.now();
    const res = await fetch(`${server.url}/api/probe/stream`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const first = await reader.read();
    const firstAt = performance.now() - started;
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: last\n\n');
    // The first event arrived well before the function finished writing.
    expect(performance.now() - started - firstAt).toBeGreaterThan(1000);
  });

  it('ends an invocation that outlives maxDuration with a 504', async () => {
    if (!server) throw new Error('server not started');
    const res = await fetch(`${server.url}/api/probe/slow`);
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/FUNCTION_INVOCATION_TIMEOUT/);
  });

  it('passes a POST body through unchanged', async () => {
    const body = JSON.stringify({ text: '头痛三天 🤒', n: 1 });
    const seen = await echo('/api/probe/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(seen).toMatchObject({ method: 'POST', body });
  });
});
