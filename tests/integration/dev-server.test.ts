// `npm run dev` as a new developer runs it: nothing configured, every function on one port.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });

describe('npm run dev with nothing configured', () => {
  let child: ChildProcess;
  let base = '';
  let output = '';
  let dataDir = '';

  beforeAll(async () => {
    const port = await freePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-server-test-'));
    const env: Record<string, string> = {};
    // Only the basics of the environment: "nothing configured" means no service settings.
    for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k] as string;
    Object.assign(env, { PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development' });
    child = spawn('npm', ['run', 'dev'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    base = `http://127.0.0.1:${port}/api/v1`;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${base}/health`)).ok) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`dev server did not start:\n${output}`);
  });

  afterAll(async () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      await new Promise((r) => setTimeout(r, 500));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says where it listens and which parts are stand-ins', () => {
    expect(output).toContain(`listening on ${base}`);
    expect(output).toMatch(/stand-in .*PGlite/);
    expect(output).toMatch(/stand-in model/);
  });

  it('answers health, login and me over HTTP', async () => {
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, limits: { status: 'ok' }, storage: { status: 'ok' } },
    });
    const login = await fetch(`${base}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'dev:newcomer' }),
    });
    expect(login.status).toBe(200);
    const { accessToken, refreshToken } = (await login.json()) as {
      accessToken: string;
      refreshToken: string;
    };
    const me = await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ nickname: 'newcomer', role: 'user' });
    // The server's own log lines never carry the tokens.
    await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('"route":"/api/v1/users/me"');
    expect(output).not.toContain(accessToken);
    expect(output).not.toContain(refreshToken);
  });
});
