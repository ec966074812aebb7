// `npm run dev` with nothing configured starts local object storage: the mini-program's upload
// sequence works against it out of the box, and the objects live under DATA_DIR/s3.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, pngImage, uploadImage } from '../helpers/images.js';

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

describe('npm run dev: local object storage', () => {
  let child: ChildProcess;
  let base = '';
  let output = '';
  let dataDir = '';

  beforeAll(async () => {
    const port = await freePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-uploads-test-'));
    const env: Record<string, string> = {};
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

  it('says it started local object storage on loopback, under DATA_DIR', () => {
    expect(output).toMatch(
      new RegExp(
        `stand-in object storage: local S3-compatible server at http://127\\.0\\.0\\.1:\\d+ \\(data in ${dataDir}/s3\\)`,
      ),
    );
  });

  it('takes an upload the mini-program’s way and serves it back', async () => {
    const login = await fetch(`${base}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'dev:uploader' }),
    });
    const { accessToken, user } = (await login.json()) as {
      accessToken: string;
      user: { consent: { currentVersion: string } };
    };
    const api = apiClient(base, accessToken);
    expect(
      (await api('POST', '/users/me/consents', { version: user.consent.currentVersion, accepted: true }))
        .status,
    ).toBe(201);

    const png = await pngImage(5, 5);
    const r = await uploadImage(api, png, 'image/png');
    expect(r.upload).toBeLessThan(300);
    expect(r.complete.status).toBe(200);
    const info = await api('GET', `/uploads/${r.fileId}`);
    const read = await fetch(String(info.json.url));
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toBe('image/png');
    expect(fs.readdirSync(path.join(dataDir, 's3', 'local')).length).toBeGreaterThan(0);
    // No secret key or signature reaches the server's output.
    expect(output).not.toMatch(/X-Amz-Signature|S3_SECRET_ACCESS_KEY/);
  });
});
