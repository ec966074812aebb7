// `npm run dev` as a new developer runs it: nothing configured, every function on one port, local
// object storage under DATA_DIR taking uploads the mini-program's way.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Health, LoginResponse, User } from '../../client/index.js';
import { type DevServer, spawnDevServer } from '../helpers/dev-server.js';
import { apiClient, pngImage, uploadImage } from '../helpers/images.js';

describe('npm run dev with nothing configured', () => {
  let dev: DevServer;
  let base = '';
  const output = () => dev.output();

  beforeAll(async () => {
    dev = await spawnDevServer();
    base = dev.base;
  });
  afterAll(() => dev?.stop());

  it('says where it listens and which parts are stand-ins', () => {
    expect(output()).toContain(`listening on ${base}`);
    expect(output()).toMatch(/stand-in .*PGlite/);
    expect(output()).toMatch(/stand-in model/);
  });

  it('answers health, login and me over HTTP', async () => {
    const health = await fetch(`${base}/health`);
    const up: Health = await health.json();
    expect(up).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, limits: { status: 'ok' }, storage: { status: 'ok' } },
    });
    const login = await fetch(`${base}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'dev:newcomer' }),
    });
    expect(login.status).toBe(200);
    const { accessToken, refreshToken }: LoginResponse = await login.json();
    const me = await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    const account: User = await me.json();
    expect(account).toMatchObject({ nickname: 'newcomer', role: 'user' });
    // The server's own log lines never carry the tokens.
    await new Promise((r) => setTimeout(r, 100));
    expect(output()).toContain('"route":"/api/v1/users/me"');
    expect(output()).not.toContain(accessToken);
    expect(output()).not.toContain(refreshToken);
  });

  it('says it started local object storage on loopback, under DATA_DIR', () => {
    expect(output()).toMatch(
      new RegExp(
        `stand-in object storage: local S3-compatible server at http://127\\.0\\.0\\.1:\\d+ \\(data in ${dev.dataDir}/s3\\)`,
      ),
    );
  });

  it('takes an upload the mini-program’s way and serves it back', async () => {
    const login = await fetch(`${base}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'dev:uploader' }),
    });
    const { accessToken, user }: LoginResponse = await login.json();
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
    expect(fs.readdirSync(path.join(dev.dataDir, 's3', 'local')).length).toBeGreaterThan(0);
    // No secret key or signature reaches the server's output.
    expect(output()).not.toMatch(/X-Amz-Signature|S3_SECRET_ACCESS_KEY/);
  });
});
