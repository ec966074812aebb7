// lib/storage on @aws-sdk/client-s3, against the local signature-checking S3 server.
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskStore } from '../../dev/local-s3/store.js';
import { loadConfig } from '../../lib/config/index.js';
import { createRuntime } from '../../lib/runtime.js';
import { ObjectTooLargeError, StorageNotConfiguredError } from '../../lib/storage/errors.js';
import { createStorage } from '../../lib/storage/index.js';
import type { Storage } from '../../lib/storage/types.js';
import { testEnv } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const policyOf = (fields: Record<string, string>) =>
  JSON.parse(Buffer.from(fields.Policy ?? fields.policy ?? '', 'base64').toString('utf8')) as {
    expiration: string;
    conditions: unknown[];
  };

/** Forwards to the local server untouched (Host kept, so signatures hold) and records what passed. */
async function recordingProxy(target: string) {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('createStorage on the local S3 server', () => {
  let s3: TestStorage;
  let storage: Storage;
  beforeAll(async () => {
    s3 = await startTestStorage();
    storage = createStorage(loadConfig(testEnv(s3.env)));
  });
  afterAll(() => s3.close());

  it('puts, heads, reads and deletes an object', async () => {
    await storage.put('users/u1/a', bytes('hello'), 'image/png');
    expect(await storage.head('users/u1/a')).toEqual({ size: 5, contentType: 'image/png' });
    expect(Buffer.from((await storage.getBytes('users/u1/a', 5)) ?? [])).toEqual(Buffer.from('hello'));
    await expect(storage.getBytes('users/u1/a', 4)).rejects.toBeInstanceOf(ObjectTooLargeError);
    await storage.delete('users/u1/a');
    expect(await storage.head('users/u1/a')).toBeNull();
    expect(await storage.getBytes('users/u1/a', 5)).toBeNull();
    // Deleting what is not there is fine.
    await storage.delete('users/u1/a');
  });

  it('pings the bucket, and fails for a bucket that does not exist', async () => {
    await storage.ping();
    const other = createStorage(loadConfig(testEnv({ ...s3.env, S3_BUCKET: 'missing-bucket' })));
    await expect(other.ping()).rejects.toThrow();
  });

  it('deletePrefix removes every object under the prefix, across list pages, and nothing else', async () => {
    const keys = Array.from({ length: 1_005 }, (_, i) => `users/many/${String(i).padStart(4, '0')}`);
    // Seeded on the server's disk directly: a thousand signed PUTs would only slow the test down.
    const disk = new DiskStore(s3.dataDir);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((k) => disk.put(s3.bucket, k, Buffer.from('x'), 'image/png')),
      );
    }
    await storage.put('users/many-other/keep', bytes('x'), 'image/png');
    expect(await storage.deletePrefix('users/many/')).toBe(1_005);
    expect(await s3.keys('users/many/')).toEqual([]);
    expect(await s3.keys('users/many-other/')).toEqual(['users/many-other/keep']);
    expect(await storage.deletePrefix('users/nobody/')).toBe(0);
    await expect(storage.deletePrefix('')).rejects.toThrow();
  }, 60_000);

  it('DeleteObjects carries Content-MD5 (COS requires it), not the SDK’s CRC32', async () => {
    const proxy = await recordingProxy(s3.endpoint);
    try {
      const viaProxy = createStorage(loadConfig(testEnv({ ...s3.env, S3_ENDPOINT: proxy.endpoint })));
      await viaProxy.put('users/md5/a', bytes('x'), 'image/png');
      expect(await viaProxy.deletePrefix('users/md5/')).toBe(1);
      const del = proxy.seen.find((r) => r.method === 'POST' && r.url.includes('delete'));
      expect(del?.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(Object.keys(del?.headers ?? {}).filter((h) => h.startsWith('x-amz-checksum-'))).toEqual([]);
      // No checksum parameters on plain writes either (requestChecksumCalculation: WHEN_REQUIRED).
      const put = proxy.seen.find((r) => r.method === 'PUT');
      expect(Object.keys(put?.headers ?? {}).filter((h) => h.startsWith('x-amz-checksum-'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('signs a POST policy that pins key, type and size, for at most five minutes', async () => {
    const form = await storage.presignPost({
      key: 'users/u1/f.upload',
      contentType: 'image/jpeg',
      maxBytes: 1234,
      expiresSeconds: 3_600,
    });
    expect(form.url).toBe(`${s3.endpoint}/local`);
    const policy = policyOf(form.fields);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['eq', '$Content-Type', 'image/jpeg'],
        ['content-length-range', 1, 1234],
        { key: 'users/u1/f.upload' },
      ]),
    );
    expect(policy.conditions.some((c) => Array.isArray(c) && c[0] === 'starts-with')).toBe(false);
    expect(Date.parse(policy.expiration) - Date.now()).toBeLessThanOrEqual(300_000);
    expect(form.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(300_000);
  });

  it('signs read URLs for S3_PUBLIC_ENDPOINT while talking to S3_ENDPOINT', async () => {
    const publicEndpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
    const split = createStorage(loadConfig(testEnv({ ...s3.env, S3_PUBLIC_ENDPOINT: publicEndpoint })));
    await split.put('users/u1/pub', bytes('public'), 'image/png');
    const url = await split.presignGet('users/u1/pub', 60);
    expect(url.startsWith(`${publicEndpoint}/local/users/u1/pub?`)).toBe(true);
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('public');
    // The signature covers the host: the same URL on the other host is refused.
    expect((await fetch(url.replace('localhost', '127.0.0.1'))).status).toBe(403);
    expect(
      (await split.presignPost({ key: 'k', contentType: 'image/png', maxBytes: 1, expiresSeconds: 1 })).url,
    ).toBe(`${publicEndpoint}/local`);
  });
});

describe('createStorage configuration', () => {
  it('builds COS forms for the virtual-hosted bucket URL (no network)', async () => {
    const storage = createStorage(
      loadConfig(
        testEnv({
          S3_ENDPOINT: 'https://cos.ap-guangzhou.myqcloud.com',
          S3_BUCKET: 'examplebucket-1250000000',
          S3_ACCESS_KEY_ID: 'AKIDexample',
          S3_SECRET_ACCESS_KEY: 'secret-example',
          S3_POST_SIGNATURE: 'cos',
        }),
      ),
    );
    const form = await storage.presignPost({
      key: 'users/u/f.upload',
      contentType: 'image/png',
      maxBytes: 99,
      expiresSeconds: 120,
    });
    expect(form.url).toBe('https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/');
    expect(form.fields).toMatchObject({
      key: 'users/u/f.upload',
      'Content-Type': 'image/png',
      'q-sign-algorithm': 'sha1',
      'q-ak': 'AKIDexample',
      'q-key-time': expect.stringMatching(/^\d+;\d+$/),
      'q-signature': expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(policyOf(form.fields).conditions).toEqual(
      expect.arrayContaining([['content-length-range', 1, 99]]),
    );
    expect(JSON.stringify(form.fields)).not.toContain('secret-example');
  });

  it('COS with a temporary key: the form carries x-cos-security-token instead of being refused', async () => {
    const storage = createStorage(
      loadConfig(
        testEnv({
          S3_ENDPOINT: 'https://cos.ap-guangzhou.myqcloud.com',
          S3_BUCKET: 'examplebucket-1250000000',
          S3_ACCESS_KEY_ID: 'AKIDtemporary',
          S3_SECRET_ACCESS_KEY: 'secret-example',
          S3_SESSION_TOKEN: 'sts-token-example',
          S3_POST_SIGNATURE: 'cos',
        }),
      ),
    );
    const form = await storage.presignPost({
      key: 'users/u/f.upload',
      contentType: 'image/png',
      maxBytes: 99,
      expiresSeconds: 120,
    });
    expect(form.fields['x-cos-security-token']).toBe('sts-token-example');
    expect(policyOf(form.fields).conditions).toContainEqual({ 'x-cos-security-token': 'sts-token-example' });
  });

  it('refuses to start without endpoint, bucket or keys', async () => {
    expect(() => createStorage(loadConfig(testEnv()))).toThrow(StorageNotConfiguredError);
    const rt = createRuntime(loadConfig(testEnv({ S3_ENDPOINT: 'http://127.0.0.1:9', S3_BUCKET: 'b' })));
    await expect(rt.storage()).rejects.toThrow(/S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY/);
  });
});
