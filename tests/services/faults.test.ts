// Parts failing for real: the database at a closed port or not answering, Redis gone, object
// storage gone. Each answers 503 quickly with the envelope (never a 500 with a stack), leaves no
// half-written rows, and /health names the part that is down.
import net from 'node:net';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope, Health, UploadTicket } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import { dispatcher, loadApps } from '../../dev/server.js';
import { loadConfig } from '../../lib/config/index.js';
import { openDatabase, pingDatabase } from '../../lib/db/index.js';
import { files, messages } from '../../lib/db/schema.js';
import { createRuntime } from '../../lib/runtime.js';
import { createHarness, type Harness, testEnv } from '../helpers/harness.js';
import { pngImage } from '../helpers/images.js';
import { startTestStorage } from '../helpers/storage.js';

/** A TCP server that accepts connections and never answers: a database that hangs. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The apps on a database that cannot be reached (signed tokens come from the config's secret). */
async function appsOnDeadDatabase(url: string) {
  const config = loadConfig(
    testEnv({ DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_MS: '300', LOG_LEVEL: 'silent' }),
  );
  const handle = await openDatabase({ url, driver: 'pg', connectTimeoutMs: 300 });
  const rt = createRuntime(config, { dbHandle: handle });
  return { fetch: dispatcher(await loadApps(() => rt)), close: () => handle.close() };
}

describe('database down', () => {
  it.each([
    [
      'a closed port',
      async () => ({ url: 'postgres://postgres@127.0.0.1:1/nothing', close: async () => {} }),
    ],
    [
      'a server that never answers',
      async () => {
        const hole = await blackHole();
        return { url: `postgres://postgres@127.0.0.1:${hole.port}/nothing`, close: hole.close };
      },
    ],
  ])('%s: login answers 503 quickly and /health is degraded', async (_name, make) => {
    const target = await make();
    const apps = await appsOnDeadDatabase(target.url);
    try {
      const started = Date.now();
      const r = await apps.fetch(
        new Request('http://x/api/v1/users/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'dev:nobody' }),
        }),
      );
      expect(r.status).toBe(503);
      const body: ErrorEnvelope = await r.json();
      expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(body)).not.toMatch(/ECONN|at |postgres:/);
      expect(r.headers.get('retry-after')).toBe('2');
      expect(Date.now() - started).toBeLessThan(3_000);
      const health = await apps.fetch(new Request('http://x/api/v1/health'));
      expect(health.status).toBe(200);
      const h: Health = await health.json();
      expect(h.status).toBe('degraded');
      expect(h.checks.database?.status).toBe('down');
    } finally {
      await apps.close();
      await target.close();
    }
  });
});

describe('a database connection dropped mid-flight', () => {
  let h: Harness;
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm();
    h = await createHarness({
      db: 'postgres-pg',
      env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 't', LLM_MAX_RETRIES: '0' },
    });
  });
  afterAll(async () => {
    await h?.close();
    await mock?.close();
  });

  it('recovers on the next request, and a chat turn is whole or absent', async () => {
    const u = await h.user('dropped');
    const pgName = h.pg?.name ?? '';
    const { adminQuery } = await import('../helpers/db.js');
    await adminQuery(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${pgName}' AND pid <> pg_backend_pid()`,
    );
    // The pool notices the dead connections and opens new ones.
    let r = await h.call('POST', '/text-chat?stream=false', {
      token: u.token,
      body: { content: '头疼怎么办' },
    });
    if (r.status === 503) {
      r = await h.call('POST', '/text-chat?stream=false', {
        token: u.token,
        body: { content: '头疼怎么办' },
      });
    }
    expect(r.status).toBe(200);
    const rows = await h.db.db.select({ n: count() }).from(messages).where(eq(messages.userId, u.userId));
    // Questions and answers come in pairs: nothing half-written.
    expect((rows[0]?.n ?? 0) % 2).toBe(0);
  });
});

describe('object storage down', () => {
  it('presign still works, completing answers 503 and the file stays pending; /health says storage is down', async () => {
    const storage = await startTestStorage();
    const h = await createHarness({ env: storage.env });
    try {
      const u = await h.user('uploader');
      await storage.close();
      const bytes = await pngImage(16, 16);
      const pre = await h.call<UploadTicket>('POST', '/uploads', {
        token: u.token,
        body: { filename: 'a.png', contentType: 'image/png', size: bytes.length, purpose: 'chat-image' },
      });
      expect(pre.status).toBe(201);
      const done = await h.call<ErrorEnvelope>('POST', `/uploads/${pre.json.fileId}/complete`, {
        token: u.token,
      });
      expect(done.status).toBe(503);
      expect(done.json.error.code).toBe('SERVICE_UNAVAILABLE');
      const [row] = await h.db.db.select().from(files).where(eq(files.id, pre.json.fileId));
      expect(row?.status).toBe('pending');
      const health = await h.call<Health>('GET', '/health');
      expect(health.json.status).toBe('degraded');
      expect(health.json.checks.storage.status).toBe('down');
      expect(health.json.checks.database.status).toBe('ok');
    } finally {
      await h.close();
    }
  });
});

describe('Redis down', () => {
  it('/health says limits are down while the rest is up', async () => {
    const h = await createHarness({ env: { REDIS_URL: 'redis://127.0.0.1:1', REDIS_TIMEOUT_MS: '200' } });
    try {
      // The embedded database's first query is slow on a busy machine (and sign-in is itself limited,
      // so it would answer 503 here: that is the fail-closed rule at work).
      await pingDatabase(await h.rt.db());
      const login = await h.call('POST', '/users/login', { body: { code: 'dev:limited' } });
      expect(login.status).toBe(503);
      const health = await h.call<Health>('GET', '/health');
      expect(health.json.checks.limits.status).toBe('down');
      expect(health.json.checks.database.status).toBe('ok');
    } finally {
      await h.close();
    }
  });
});
