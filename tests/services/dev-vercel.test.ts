// `npm run dev:vercel` as a new developer runs it: nothing configured, Vercel's own dev server
// (`vercel dev --local`, offline) running every function in its own process, with the embedded
// defaults of `npm run dev`: the simulated model, local object storage, dev:<name> sign-in, and the
// embedded PGlite database owned by the launcher and served over the PostgreSQL protocol. The main
// path of the mini-program, across several function processes sharing that one database.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Health, LoginResponse } from '../../client/index.js';
import { SIMULATED_LABEL } from '../../dev/mock-llm/index.js';
import { type DevServer, spawnDevServer } from '../helpers/dev-server.js';
import { apiClient, pngImage, uploadImage } from '../helpers/images.js';
import { dataOf, readSse, textOf } from '../helpers/sse.js';

describe('npm run dev:vercel with nothing configured', () => {
  let dev: DevServer;
  let base = '';

  beforeAll(async () => {
    dev = await spawnDevServer('dev:vercel', 240_000);
    base = dev.base;
  }, 300_000);
  afterAll(() => dev?.stop());
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(`npm run dev:vercel output:\n${dev?.output()}`);
  });

  it('starts the stand-ins and hands them to vercel dev', async () => {
    const out = dev.output();
    expect(out).toMatch(/stand-in model: simulated stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/stand-in object storage: local S3-compatible server at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(
      /stand-in database: embedded PGlite served at postgres:\/\/postgres@127\.0\.0\.1:\d+/,
    );
    expect(out).toContain('Vercel CLI');
    const health = await fetch(`${base}/health`);
    const up: Health = await health.json();
    expect(up).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, storage: { status: 'ok' }, limits: { status: 'ok' } },
    });
  });

  it('signs in, consents, uploads a photo and gets a streamed vision answer', async () => {
    // The first requests reach two function processes (users, conversations) at once: both open
    // the one embedded database through its server.
    const [login, list] = await Promise.all([
      fetch(`${base}/users/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'dev:vercel-newcomer' }),
      }),
      fetch(`${base}/conversations`),
    ]);
    expect(list.status).toBe(401);
    expect(login.status).toBe(200);
    const { accessToken, user }: LoginResponse = await login.json();
    const api = apiClient(base, accessToken);
    const consent = await api('POST', '/users/me/consents', {
      version: user.consent.currentVersion,
      accepted: true,
    });
    expect(consent.status).toBe(201);

    const up = await uploadImage(api, await pngImage(8, 6), 'image/png');
    expect(up.upload).toBeLessThan(300);
    expect(up.complete.status).toBe(200);

    const res = await fetch(`${base}/vision-chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ content: '这张图片里的皮疹需要注意什么？', imageIds: [up.fileId] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const s = await readSse(res);
    expect(s.names[0]).toBe('meta');
    expect(s.names.at(-1)).toBe('done');
    expect(textOf(s)).toContain(SIMULATED_LABEL);

    // Another function process reads what vision-chat stored.
    const conversationId = dataOf(s.events[0], 'meta').conversationId;
    let messages = await api('GET', `/conversations/${conversationId}/messages`);
    const roles = () => ((messages.json.items ?? []) as { role: string }[]).map((m) => m.role).sort();
    for (let i = 0; i < 20 && roles().length !== 2; i++) {
      // The answer is stored as the stream ends; give the write a moment.
      await new Promise((r) => setTimeout(r, 250));
      messages = await api('GET', `/conversations/${conversationId}/messages`);
    }
    expect(messages.status).toBe(200);
    expect(roles()).toEqual(['assistant', 'user']);
    // Each function compiles on its first request under vercel dev: slow on a busy machine.
  }, 300_000);
});
