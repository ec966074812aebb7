// Uploads over real HTTP, exactly as the mini-program does them: a ticket from the API, a
// multipart POST straight to (local, signature-checking) object storage, then complete.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope } from '../../client/index.js';
import type { LocalServer } from '../../dev/server.js';
import { objectKey } from '../../lib/storage/types.js';
import { cleanupPendingUploads } from '../../lib/uploads/service.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import {
  type Api,
  apiClient,
  exifHasGps,
  jpegWithGps,
  PDF,
  pngImage,
  postForm,
  SCRIPT,
  type Ticket,
  uploadImage,
} from '../helpers/images.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';

const MAX = 200_000;

function expectError(r: { status: number; json: Record<string, unknown> }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.json).toMatchObject({
    error: { code, message: expect.any(String), requestId: expect.any(String) },
  });
}

describe.each(['sigv4', 'cos'] as const)('uploads (%s POST forms)', (postSignature) => {
  let s3: TestStorage;
  let h: Harness;
  let server: LocalServer;
  let base: string;
  let alice: { api: Api; userId: string; token: string };
  let bob: { api: Api; userId: string; token: string };

  beforeAll(async () => {
    s3 = await startTestStorage({ postSignature });
    h = await createHarness({ db: 'postgres', env: { ...s3.env, UPLOAD_MAX_BYTES: String(MAX) } });
    server = await h.listen();
    base = `${server.url}/api/v1`;
    const a = await h.user('alice');
    const b = await h.user('bob');
    alice = { api: apiClient(base, a.token), userId: a.userId, token: a.token };
    bob = { api: apiClient(base, b.token), userId: b.userId, token: b.token };
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
  });

  const ticket = async (api: Api, bytes: Uint8Array, contentType = 'image/png') => {
    const r = await api('POST', '/uploads', {
      filename: 'x.png',
      contentType,
      size: bytes.length,
      purpose: 'chat-image',
    });
    expect(r.status, r.text).toBe(201);
    return r.json as unknown as Ticket;
  };

  it('presign → multipart POST to storage → complete → read URL', async () => {
    const png = await pngImage(16, 12);
    const pre = await alice.api('POST', '/uploads', {
      filename: 'rash.png',
      contentType: 'image/png',
      size: png.length,
      purpose: 'chat-image',
    });
    expect(pre.status).toBe(201);
    expect(pre.json).toMatchObject({
      fileId: expect.any(String),
      method: 'POST',
      url: expect.stringContaining(s3.endpoint),
      fields: expect.any(Object),
      maxBytes: MAX,
      put: { url: expect.any(String), headers: { 'content-type': 'image/png' } },
    });
    const t = pre.json as unknown as Ticket & { expiresAt: string };
    const ttl = Date.parse(t.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300_000);
    // The form is signed for one exact key under the owner's prefix (a staging copy of it).
    expect(t.fields.key).toBe(`${objectKey(alice.userId, t.fileId)}.upload`);

    const up = await postForm(t.url, t.fields, png, 'image/png');
    expect(up.status, up.text).toBeLessThan(300);

    const done = await alice.api('POST', `/uploads/${t.fileId}/complete`);
    expect(done.status, done.text).toBe(200);
    expect(done.json).toMatchObject({
      id: t.fileId,
      status: 'ready',
      contentType: 'image/png',
      width: 16,
      height: 12,
    });
    // Completing again is harmless and answers the same.
    const again = await alice.api('POST', `/uploads/${t.fileId}/complete`);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(done.json);

    // Only the checked copy remains.
    expect(await s3.keys(`users/${alice.userId}/${t.fileId}`)).toEqual([objectKey(alice.userId, t.fileId)]);

    const info = await alice.api('GET', `/uploads/${t.fileId}`);
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({
      id: t.fileId,
      status: 'ready',
      purpose: 'chat-image',
      width: 16,
      height: 12,
    });
    const read = await fetch(String(info.json.url));
    expect(read.status).toBe(200);
    const meta = await sharp(Buffer.from(await read.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 16, height: 12 });
  });

  it('takes a presigned PUT instead of the form', async () => {
    const png = await pngImage(9, 7);
    const t = await ticket(alice.api, png);
    const put = await fetch(t.put.url, { method: 'PUT', headers: t.put.headers, body: new Uint8Array(png) });
    expect(put.status, await put.text()).toBe(200);
    const done = await alice.api('POST', `/uploads/${t.fileId}/complete`);
    expect(done.status, done.text).toBe(200);
    expect(done.json).toMatchObject({ width: 9, height: 7 });
  });

  it('a presigned PUT of another type or length is refused by storage', async () => {
    const png = await pngImage(9, 7);
    const t = await ticket(alice.api, png);
    const wrongType = await fetch(t.put.url, {
      method: 'PUT',
      headers: { ...t.put.headers, 'content-type': 'text/html' },
      body: new Uint8Array(png),
    });
    expect(wrongType.status).toBe(403);
    const longer = Buffer.concat([png, Buffer.alloc(10)]);
    const wrongLength = await fetch(t.put.url, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(longer),
    });
    expect(wrongLength.status).toBe(403);
    expect(await s3.keys(`users/${alice.userId}/${t.fileId}`)).toEqual([]);
  });

  it('refuses types that are not supported images with 415', async () => {
    for (const contentType of [
      'application/pdf',
      'image/gif',
      'image/svg+xml',
      'text/x-shellscript',
      'image/heic',
    ]) {
      const r = await alice.api('POST', '/uploads', {
        filename: 'a',
        contentType,
        size: 100,
        purpose: 'chat-image',
      });
      // HEIC only where this sharp can decode it (its prebuilt libvips cannot).
      expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('refuses a declared size over UPLOAD_MAX_BYTES with 413', async () => {
    const r = await alice.api('POST', '/uploads', {
      filename: 'a.jpg',
      contentType: 'image/jpeg',
      size: MAX + 1,
      purpose: 'chat-image',
    });
    expectError(r, 413, 'PAYLOAD_TOO_LARGE');
    const ok = await alice.api('POST', '/uploads', {
      filename: 'a.jpg',
      contentType: 'image/jpeg',
      size: MAX,
      purpose: 'chat-image',
    });
    expect(ok.status).toBe(201);
  });

  it('validates the body strictly', async () => {
    const good = { filename: 'a.png', contentType: 'image/png', size: 10, purpose: 'chat-image' };
    for (const body of [
      { ...good, userId: bob.userId },
      { ...good, purpose: 'document' },
      { ...good, size: 0 },
      { ...good, size: 1.5 },
      { contentType: 'image/png', size: 10, purpose: 'chat-image' },
    ]) {
      expectError(await alice.api('POST', '/uploads', body), 400, 'BAD_REQUEST');
    }
  });

  it('completing before anything was uploaded answers 409', async () => {
    const t = await ticket(alice.api, await pngImage());
    expectError(await alice.api('POST', `/uploads/${t.fileId}/complete`), 409, 'CONFLICT');
    const info = await alice.api('GET', `/uploads/${t.fileId}`);
    expect(info.json).toMatchObject({ status: 'pending', url: null });
  });

  it('stored bytes not the declared size: 422 and the object is deleted', async () => {
    const png = await pngImage(20, 20);
    const t = await ticket(alice.api, png);
    const bigger = Buffer.concat([png, Buffer.alloc(64)]);
    const up = await postForm(t.url, t.fields, bigger, 'image/png');
    expect(up.status).toBeLessThan(300);
    expect(await s3.keys(`users/${alice.userId}/${t.fileId}`)).toHaveLength(1);
    expectError(await alice.api('POST', `/uploads/${t.fileId}/complete`), 422, 'UNPROCESSABLE');
    expect(await s3.keys(`users/${alice.userId}/${t.fileId}`)).toEqual([]);
  });

  it.each([
    ['a PDF', PDF],
    ['a shell script', SCRIPT],
  ])('%s claiming image/png is refused with 422 and deleted', async (_, bytes) => {
    const r = await uploadImage(alice.api, bytes, 'image/png');
    expect(r.upload).toBeLessThan(300);
    expectError(r.complete, 422, 'UNPROCESSABLE');
    expect(await s3.keys(`users/${alice.userId}/${r.fileId}`)).toEqual([]);
    expect((await alice.api('GET', `/uploads/${r.fileId}`)).json).toMatchObject({ status: 'pending' });
  });

  it('a PNG signature on garbage is refused at decoding', async () => {
    const fake = Buffer.concat([(await pngImage()).subarray(0, 8), Buffer.alloc(200, 7)]);
    const r = await uploadImage(alice.api, fake, 'image/png');
    expectError(r.complete, 422, 'UNPROCESSABLE');
    expect(await s3.keys(`users/${alice.userId}/${r.fileId}`)).toEqual([]);
  });

  it('storage refuses a body over the form limit', async () => {
    const t = await ticket(alice.api, await pngImage());
    const up = await postForm(t.url, t.fields, Buffer.alloc(MAX + 1, 1), 'image/png');
    expect(up.status).toBe(400);
    expect(up.text).toContain('EntityTooLarge');
    expect(await s3.keys(`users/${alice.userId}/${t.fileId}`)).toEqual([]);
  });

  it('storage refuses a form with another content type or another key', async () => {
    const png = await pngImage();
    const t = await ticket(alice.api, png);
    const typed = await postForm(t.url, { ...t.fields, 'Content-Type': 'text/html' }, png, 'text/html');
    expect(typed.status).toBe(403);
    const elsewhere = objectKey(bob.userId, 'planted');
    const keyed = await postForm(t.url, { ...t.fields, key: elsewhere }, png, 'image/png');
    expect(keyed.status).toBe(403);
    expect(await s3.keys(`users/`)).not.toContain(elsewhere);
  });

  it('storage refuses an expired form', async () => {
    const storage = await h.rt.storage();
    const key = `${objectKey(alice.userId, 'expired')}.upload`;
    const form = await storage.presignPost({
      key,
      contentType: 'image/png',
      maxBytes: MAX,
      expiresSeconds: 1,
    });
    await new Promise((r) => setTimeout(r, 2_100));
    const up = await postForm(form.url, form.fields, await pngImage(), 'image/png');
    expect(up.status).toBe(403);
    expect(await s3.keys(key)).toEqual([]);
  });

  it('a JPEG comes out without EXIF or GPS, turned upright', async () => {
    const jpeg = await jpegWithGps();
    const before = await sharp(jpeg).metadata();
    expect(exifHasGps(before.exif)).toBe(true);
    expect(before.orientation).toBe(6);

    const r = await uploadImage(alice.api, jpeg, 'image/jpeg');
    expect(r.complete.status).toBe(200);
    // Orientation 6 means stored sideways: upright it is 20 wide and 40 high.
    expect(r.complete.json).toMatchObject({ contentType: 'image/jpeg', width: 20, height: 40 });

    const storage = await h.rt.storage();
    const stored = await storage.getBytes(objectKey(alice.userId, r.fileId), MAX * 2);
    expect(stored).not.toBeNull();
    const bytes = Buffer.from(stored ?? new Uint8Array());
    const after = await sharp(bytes).metadata();
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.orientation).toBeUndefined();
    expect(bytes.includes(Buffer.from('GPS-Leaker'))).toBe(false);
    expect(r.complete.json.size).toBe(bytes.length);
  });

  it('a form re-used after completing cannot replace the checked image', async () => {
    const png = await pngImage(10, 10);
    const t = await ticket(alice.api, png);
    await postForm(t.url, t.fields, png, 'image/png');
    expect((await alice.api('POST', `/uploads/${t.fileId}/complete`)).status).toBe(200);
    const storage = await h.rt.storage();
    const key = objectKey(alice.userId, t.fileId);
    const checked = await storage.getBytes(key, MAX * 2);

    // Same form, within its lifetime, now carrying a PDF of the declared size.
    const swapped = Buffer.concat([PDF, Buffer.alloc(Math.max(0, png.length - PDF.length), 32)]).subarray(
      0,
      png.length,
    );
    expect((await postForm(t.url, t.fields, swapped, 'image/png')).status).toBeLessThan(300);
    expect(await storage.getBytes(key, MAX * 2)).toEqual(checked);
    // And the stray staging copy is swept once its window is long closed.
    expect(await s3.keys(key)).toEqual([key, `${key}.upload`]);
    await cleanupPendingUploads(h.rt, new Date(Date.now() + 2 * 3_600_000));
    expect(await s3.keys(key)).toEqual([key]);
  });

  it('another user’s file answers 404 on read, complete and delete', async () => {
    const r = await uploadImage(alice.api, await pngImage(), 'image/png');
    expect(r.complete.status).toBe(200);
    expectError(await bob.api('GET', `/uploads/${r.fileId}`), 404, 'NOT_FOUND');
    expectError(await bob.api('POST', `/uploads/${r.fileId}/complete`), 404, 'NOT_FOUND');
    expectError(await bob.api('DELETE', `/uploads/${r.fileId}`), 404, 'NOT_FOUND');
    expectError(await bob.api('GET', '/uploads/no-such-file'), 404, 'NOT_FOUND');
    // Alice's file is untouched.
    expect((await alice.api('GET', `/uploads/${r.fileId}`)).json).toMatchObject({ status: 'ready' });
    expect(await s3.keys(objectKey(alice.userId, r.fileId))).toHaveLength(1);
  });

  it('DELETE removes the object; the file is gone', async () => {
    const r = await uploadImage(alice.api, await pngImage(), 'image/png');
    const info = await alice.api('GET', `/uploads/${r.fileId}`);
    const del = await alice.api('DELETE', `/uploads/${r.fileId}`);
    expect(del.status).toBe(204);
    expect(await s3.keys(objectKey(alice.userId, r.fileId))).toEqual([]);
    expectError(await alice.api('GET', `/uploads/${r.fileId}`), 404, 'NOT_FOUND');
    expectError(await alice.api('POST', `/uploads/${r.fileId}/complete`), 404, 'NOT_FOUND');
    expect((await fetch(String(info.json.url))).status).toBe(404);
    expect((await alice.api('DELETE', `/uploads/${r.fileId}`)).status).toBe(204);
  });

  it('pending uploads never completed are cleaned up after their window', async () => {
    const png = await pngImage();
    const t = await ticket(alice.api, png);
    await postForm(t.url, t.fields, png, 'image/png');
    const prefix = objectKey(alice.userId, t.fileId);
    expect(await s3.keys(prefix)).toHaveLength(1);
    // Within the window plus grace nothing is touched.
    await cleanupPendingUploads(h.rt, new Date(Date.now() + 30 * 60_000));
    expect(await s3.keys(prefix)).toHaveLength(1);
    const r = await cleanupPendingUploads(h.rt, new Date(Date.now() + 2 * 3_600_000));
    expect(r.pendingRemoved).toBeGreaterThanOrEqual(1);
    expect(await s3.keys(prefix)).toEqual([]);
    expectError(await alice.api('GET', `/uploads/${t.fileId}`), 404, 'NOT_FOUND');
  });

  it('needs a token, and consent to upload', async () => {
    const anon = await fetch(`${base}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'a', contentType: 'image/png', size: 10, purpose: 'chat-image' }),
    });
    expect(anon.status).toBe(401);
    const carol = await h.login(`carol-${postSignature}`);
    const r = await apiClient(base, carol.token)('POST', '/uploads', {
      filename: 'a',
      contentType: 'image/png',
      size: 10,
      purpose: 'chat-image',
    });
    expectError(r, 403, 'CONSENT_REQUIRED');
  });

  it('never logs signed URLs or form signatures', async () => {
    await uploadImage(alice.api, await pngImage(), 'image/png');
    const all = h.logs.join('\n');
    expect(all).not.toMatch(/X-Amz-Signature|q-signature|x-amz-signature/i);
    expect(all).not.toContain(s3.env.S3_SECRET_ACCESS_KEY);
  });
});

describe('upload rate limit', () => {
  let s3: TestStorage;
  let h: Harness;
  beforeAll(async () => {
    s3 = await startTestStorage();
    h = await createHarness({
      db: 'postgres',
      env: { ...s3.env, RATE_LIMITS: JSON.stringify({ 'upload:user': { limit: 3 } }) },
    });
  });
  afterAll(async () => {
    await h?.close();
    await s3?.close();
  });

  it('answers 429 with Retry-After past the upload:user limit, per user', async () => {
    const u = await h.user('busy');
    const body = { filename: 'a.png', contentType: 'image/png', size: 100, purpose: 'chat-image' };
    for (let i = 0; i < 3; i++)
      expect((await h.call('POST', '/uploads', { token: u.token, body })).status).toBe(201);
    const r = await h.call<ErrorEnvelope>('POST', '/uploads', { token: u.token, body });
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe('RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = await h.user('calm');
    expect((await h.call('POST', '/uploads', { token: other.token, body })).status).toBe(201);
  });
});
