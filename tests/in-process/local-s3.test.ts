import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../dev/local-s3/index.js';
import { createSigner } from '../../dev/local-s3/sigv4.js';

const REGION = 'ap-guangzhou';
const CREDS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret-key' };
const BUCKET = 'uploads';

let s3: LocalS3;
let dataDir: string;

function client(extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: REGION,
    credentials: CREDS,
    maxAttempts: 1,
    ...extra,
  });
}

async function exists(key: string): Promise<boolean> {
  try {
    await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (e) {
    if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404) return false;
    throw e;
  }
}

async function sdkError(
  p: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException)
      return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
    throw e;
  }
  throw new Error('expected the request to be refused');
}

async function xmlError(res: Response): Promise<{ status: number; code: string; message: string }> {
  const text = await res.text();
  return {
    status: res.status,
    code: /<Code>(.*?)<\/Code>/.exec(text)?.[1] ?? '',
    message: /<Message>(.*?)<\/Message>/.exec(text)?.[1] ?? '',
  };
}

/** Sends the form the way wx.uploadFile does: every field, then the file part named `file`. */
function postForm(
  url: string,
  fields: Record<string, string>,
  data: Uint8Array<ArrayBuffer>,
  type = 'image/jpeg',
) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([data], { type }), 'photo.jpg');
  return fetch(url, { method: 'POST', body: fd });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'local-s3-'));
  s3 = await startLocalS3({ dataDir, region: REGION, credentials: CREDS, buckets: [BUCKET] });
});

afterAll(async () => {
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('SDK round trip (header-signed requests)', () => {
  for (const requestChecksumCalculation of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
    it(`put/get/head/list/delete with requestChecksumCalculation=${requestChecksumCalculation}`, async () => {
      const c = client({ requestChecksumCalculation });
      const prefix = `rt-${requestChecksumCalculation}/`;
      const odd = `${prefix}a b+c/ü (1)&=.txt`;
      await c.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: odd, Body: 'hello world', ContentType: 'text/plain' }),
      );
      // A stream body makes the default client switch to aws-chunked with a CRC32 trailer.
      const streamed = Readable.from([Buffer.from('chunk one, '), Buffer.from('chunk two')]);
      await c.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}s.bin`, Body: streamed, ContentLength: 20 }),
      );

      const got = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: odd }));
      expect(await got.Body?.transformToString()).toBe('hello world');
      expect(got.ContentType).toBe('text/plain');
      const gotStream = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}s.bin` }));
      expect(await gotStream.Body?.transformToString()).toBe('chunk one, chunk two');

      const head = await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: odd }));
      expect(head.ContentLength).toBe(11);
      expect(head.ETag).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');

      for (const k of ['x1', 'x2', 'x3']) {
        await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${k}`, Body: k }));
      }
      const page1 = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, MaxKeys: 3 }));
      expect(page1.IsTruncated).toBe(true);
      expect(page1.Contents?.map((o) => o.Key)).toEqual([odd, `${prefix}s.bin`, `${prefix}x1`]);
      const page2 = await c.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: prefix,
          ContinuationToken: page1.NextContinuationToken,
        }),
      );
      expect(page2.IsTruncated).toBe(false);
      expect(page2.Contents?.map((o) => o.Key)).toEqual([`${prefix}x2`, `${prefix}x3`]);
      const folders = await c.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, Delimiter: '/' }),
      );
      expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual([`${prefix}a b+c/`]);

      const del = await c.send(
        new DeleteObjectsCommand({
          Bucket: BUCKET,
          Delete: {
            Objects: [{ Key: `${prefix}x1` }, { Key: `${prefix}x2` }, { Key: `${prefix}<missing>&` }],
          },
        }),
      );
      expect(del.Deleted?.map((d) => d.Key)).toEqual([`${prefix}x1`, `${prefix}x2`, `${prefix}<missing>&`]);
      await c.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: odd }));
      expect(await exists(odd)).toBe(false);
      expect(await exists(`${prefix}x1`)).toBe(false);
      expect(await exists(`${prefix}x3`)).toBe(true);
      const missing = await sdkError(c.send(new GetObjectCommand({ Bucket: BUCKET, Key: odd })));
      expect([missing.name, missing.status]).toEqual(['NoSuchKey', 404]);
    });
  }

  it('creates buckets and reports missing ones', async () => {
    const c = client();
    await c.send(new CreateBucketCommand({ Bucket: 'fresh-bucket' }));
    await c.send(new HeadBucketCommand({ Bucket: 'fresh-bucket' }));
    const again = await sdkError(c.send(new CreateBucketCommand({ Bucket: 'fresh-bucket' })));
    expect([again.name, again.status]).toEqual(['BucketAlreadyOwnedByYou', 409]);
    const none = await sdkError(
      c.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })),
    );
    expect([none.name, none.status]).toEqual(['NoSuchBucket', 404]);
  });

  it('refuses a wrong secret, an unknown access key and a skewed clock', async () => {
    const put = (c: S3Client) => c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'auth/x', Body: 'x' }));
    const badSecret = await sdkError(put(client({ credentials: { ...CREDS, secretAccessKey: 'nope' } })));
    expect([badSecret.name, badSecret.status]).toEqual(['SignatureDoesNotMatch', 403]);
    const badKey = await sdkError(put(client({ credentials: { ...CREDS, accessKeyId: 'AKIDOTHER' } })));
    expect([badKey.name, badKey.status]).toEqual(['InvalidAccessKeyId', 403]);
    const skewed = await sdkError(put(client({ systemClockOffset: -20 * 60 * 1000 })));
    expect([skewed.name, skewed.status]).toEqual(['RequestTimeTooSkewed', 403]);
    expect(await exists('auth/x')).toBe(false);
  });

  it('refuses a body that does not match x-amz-content-sha256 and unsigned x-amz-* headers', async () => {
    const signer = createSigner({ region: REGION, credentials: CREDS });
    const url = new URL(`${s3.endpoint}/${BUCKET}/tamper.txt`);
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'x-amz-content-sha256': createHash('sha256').update('original').digest('hex'),
      },
      body: 'original',
    });
    const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host'));
    const tampered = await xmlError(await fetch(url, { method: 'PUT', headers, body: 'tampered' }));
    expect([tampered.status, tampered.code]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    const extra = await xmlError(
      await fetch(url, { method: 'PUT', headers: { ...headers, 'x-amz-meta-x': '1' }, body: 'original' }),
    );
    expect([extra.status, extra.code]).toEqual([403, 'AccessDenied']);
    expect(await exists('tamper.txt')).toBe(false);
    expect((await fetch(url, { method: 'PUT', headers, body: 'original' })).status).toBe(200);
    expect(await exists('tamper.txt')).toBe(true);
  });

  it('decodes aws-chunked bodies: verifies chunk signatures and trailer checksums', async () => {
    const signer = createSigner({ region: REGION, credentials: CREDS });
    const url = new URL(`${s3.endpoint}/${BUCKET}/chunked.txt`);
    const parts = [Buffer.from('first part, '), Buffer.from('second part')];
    const decoded = Buffer.concat(parts);
    const signingDate = new Date();
    const signHeaders = async (extra: Record<string, string>) => {
      const signed = await signer.sign(
        {
          method: 'PUT',
          protocol: 'http:',
          hostname: url.hostname,
          path: url.pathname,
          query: {},
          headers: {
            host: url.host,
            'content-encoding': 'aws-chunked',
            'x-amz-decoded-content-length': String(decoded.length),
            ...extra,
          },
        },
        { signingDate },
      );
      return Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host'));
    };

    // Signed chunks: each chunk signature chains from the previous one, starting at the header signature.
    const headers = await signHeaders({ 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' });
    let prior = /Signature=([0-9a-f]{64})/.exec(headers.authorization)?.[1] ?? '';
    const frames: Buffer[] = [];
    for (const chunk of [...parts, Buffer.alloc(0)]) {
      prior = await signer.sign(
        { headers: new Uint8Array(0), payload: chunk },
        { signingDate, priorSignature: prior, signingRegion: REGION, signingService: 's3' },
      );
      frames.push(
        Buffer.from(`${chunk.length.toString(16)};chunk-signature=${prior}\r\n`),
        chunk,
        Buffer.from('\r\n'),
      );
    }
    const body = Buffer.concat(frames);
    const forged = Buffer.from(body);
    forged[forged.indexOf('first') + 1] ^= 1;
    const bad = await xmlError(await fetch(url, { method: 'PUT', headers, body: forged }));
    expect([bad.status, bad.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await exists('chunked.txt')).toBe(false);
    expect((await fetch(url, { method: 'PUT', headers, body })).status).toBe(200);
    const got = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked.txt' }));
    expect(await got.Body?.transformToString()).toBe(decoded.toString());

    // Unsigned chunks with a CRC32 trailer: a wrong trailer checksum is a BadDigest.
    const trailerHeaders = await signHeaders({
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    const withTrailer = (crc: string) =>
      Buffer.concat([
        Buffer.from(`${parts[0].length.toString(16)}\r\n`),
        parts[0],
        Buffer.from(`\r\n${parts[1].length.toString(16)}\r\n`),
        parts[1],
        Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`),
      ]);
    const trailerUrl = new URL(`${s3.endpoint}/${BUCKET}/chunked.txt`);
    const wrong = await xmlError(
      await fetch(trailerUrl, { method: 'PUT', headers: trailerHeaders, body: withTrailer('AAAAAA==') }),
    );
    expect([wrong.status, wrong.code]).toEqual([400, 'BadDigest']);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(decoded));
    const ok = await fetch(trailerUrl, {
      method: 'PUT',
      headers: trailerHeaders,
      body: withTrailer(crc.toString('base64')),
    });
    expect(ok.status).toBe(200);
  });

  it('refuses anonymous requests', async () => {
    const res = await xmlError(await fetch(`${s3.endpoint}/${BUCKET}/tamper.txt`));
    expect([res.status, res.code]).toEqual([403, 'AccessDenied']);
  });
});

describe('query-presigned URLs', () => {
  beforeAll(async () => {
    await client().send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'pre/get me.txt', Body: 'presigned body' }),
    );
  });

  it('serves a presigned GET', async () => {
    const url = await getSignedUrl(
      client(),
      new GetObjectCommand({ Bucket: BUCKET, Key: 'pre/get me.txt' }),
      {
        expiresIn: 60,
      },
    );
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('presigned body');
  });

  it('refuses an expired presigned GET', async () => {
    const url = await getSignedUrl(
      client(),
      new GetObjectCommand({ Bucket: BUCKET, Key: 'pre/get me.txt' }),
      {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 3600_000),
      },
    );
    const err = await xmlError(await fetch(url));
    expect(err).toEqual({ status: 403, code: 'AccessDenied', message: 'Request has expired' });
  });

  it('refuses a tampered presigned GET', async () => {
    const url = await getSignedUrl(
      client(),
      new GetObjectCommand({ Bucket: BUCKET, Key: 'pre/get me.txt' }),
      {
        expiresIn: 60,
      },
    );
    const forged = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    expect(forged).not.toBe(url);
    expect((await xmlError(await fetch(forged))).code).toBe('SignatureDoesNotMatch');
    const otherKey = url.replace('get%20me.txt', 'get%20you.txt');
    const err = await xmlError(await fetch(otherKey));
    expect([err.status, err.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('holds a presigned PUT to its signed content-type and content-length', async () => {
    const body = new TextEncoder().encode('PNGDATA');
    const url = await getSignedUrl(
      client({ requestChecksumCalculation: 'WHEN_REQUIRED' }),
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'pre/put.png',
        ContentType: 'image/png',
        ContentLength: body.length,
      }),
      { expiresIn: 60, signableHeaders: new Set(['content-type']) },
    );
    const wrongType = await xmlError(
      await fetch(url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body }),
    );
    expect([wrongType.status, wrongType.code]).toEqual([403, 'SignatureDoesNotMatch']);
    const wrongLength = await xmlError(
      await fetch(url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: 'PNGDATA+more' }),
    );
    expect([wrongLength.status, wrongLength.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await exists('pre/put.png')).toBe(false);
    const ok = await fetch(url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body });
    expect(ok.status).toBe(200);
    const head = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'pre/put.png' }));
    expect([head.ContentType, head.ContentLength]).toEqual(['image/png', body.length]);
  });

  it('refuses content that does not match the CRC32 a default client bakes into a presigned PUT', async () => {
    // Real S3 does the same: the SDK signs the CRC32 of an empty body unless checksums are WHEN_REQUIRED.
    const url = await getSignedUrl(client(), new PutObjectCommand({ Bucket: BUCKET, Key: 'pre/crc.bin' }), {
      expiresIn: 60,
    });
    expect(url).toContain('x-amz-checksum-crc32=');
    const err = await xmlError(await fetch(url, { method: 'PUT', body: 'not empty' }));
    expect([err.status, err.code]).toEqual([400, 'BadDigest']);
    expect(await exists('pre/crc.bin')).toBe(false);
  });
});

describe('presigned POST (S3 SigV4 form)', () => {
  const jpeg = new Uint8Array(512).fill(7);
  const presign = (
    key: string,
    opts: { c?: S3Client; expires?: number; status?: string; extraConditions?: unknown[] } = {},
  ) =>
    createPresignedPost(opts.c ?? client(), {
      Bucket: BUCKET,
      Key: key,
      Expires: opts.expires ?? 300,
      Fields: {
        'Content-Type': 'image/jpeg',
        ...(opts.status ? { success_action_status: opts.status } : {}),
      },
      Conditions: [
        ['eq', '$Content-Type', 'image/jpeg'],
        ['content-length-range', 1, 1024],
        ['starts-with', '$key', 'photos/'],
      ],
    });

  it('accepts a form sent like wx.uploadFile and keeps the form content type', async () => {
    const { url, fields } = await presign('photos/ok.jpg');
    const res = await postForm(url, fields, jpeg, 'application/octet-stream');
    expect(res.status).toBe(204);
    const head = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'photos/ok.jpg' }));
    expect([head.ContentType, head.ContentLength]).toEqual(['image/jpeg', 512]);
  });

  it('answers success_action_status 201 with a PostResponse', async () => {
    const { url, fields } = await presign('photos/created.jpg', { status: '201' });
    const res = await postForm(url, fields, jpeg);
    expect(res.status).toBe(201);
    const xml = await res.text();
    expect(xml).toContain('<PostResponse');
    expect(xml).toContain('<Key>photos/created.jpg</Key>');
    expect(await exists('photos/created.jpg')).toBe(true);
  });

  const refusals: [string, () => Promise<Response>, number, string, RegExp?][] = [
    [
      'an expired policy',
      async () => {
        const { url, fields } = await presign('photos/expired.jpg', { expires: -60 });
        return postForm(url, fields, jpeg);
      },
      403,
      'AccessDenied',
      /Policy expired/,
    ],
    [
      'a forged signature',
      async () => {
        const { url, fields } = await presign('photos/forged.jpg');
        const sig = fields['X-Amz-Signature'];
        return postForm(
          url,
          { ...fields, 'X-Amz-Signature': `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}` },
          jpeg,
        );
      },
      403,
      'SignatureDoesNotMatch',
    ],
    [
      'a key outside the policy',
      async () => {
        const { url, fields } = await presign('photos/mine.jpg');
        return postForm(url, { ...fields, key: 'photos/theirs.jpg' }, jpeg);
      },
      403,
      'AccessDenied',
      /Policy Condition failed/,
    ],
    [
      'a wrong content type',
      async () => {
        const { url, fields } = await presign('photos/type.jpg');
        return postForm(url, { ...fields, 'Content-Type': 'text/html' }, jpeg);
      },
      403,
      'AccessDenied',
      /Content-Type|content-type/,
    ],
    [
      'a body over content-length-range',
      async () => {
        const { url, fields } = await presign('photos/big.jpg');
        return postForm(url, fields, new Uint8Array(1025));
      },
      400,
      'EntityTooLarge',
    ],
    [
      'an empty body under content-length-range',
      async () => {
        const { url, fields } = await presign('photos/empty.jpg');
        return postForm(url, fields, new Uint8Array(0));
      },
      400,
      'EntityTooSmall',
    ],
    [
      'an extra form field not in the policy',
      async () => {
        const { url, fields } = await presign('photos/extra.jpg');
        return postForm(url, { ...fields, 'x-amz-meta-owner': 'mallory' }, jpeg);
      },
      403,
      'AccessDenied',
      /Extra input fields: x-amz-meta-owner/,
    ],
    [
      'an unknown access key',
      async () => {
        const other = client({
          credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: CREDS.secretAccessKey },
        });
        const { url, fields } = await presign('photos/otherkey.jpg', { c: other });
        return postForm(url, fields, jpeg);
      },
      403,
      'InvalidAccessKeyId',
    ],
  ];

  for (const [what, send, status, code, message] of refusals) {
    it(`refuses ${what} and stores nothing`, async () => {
      const res = await send();
      const err = await xmlError(res);
      expect([err.status, err.code]).toEqual([status, code]);
      if (message) expect(err.message).toMatch(message);
      const listed = await client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'photos/' }));
      expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(['photos/created.jpg', 'photos/ok.jpg']);
    });
  }

  it('leaves no temp files behind', async () => {
    const names = await readdir(path.join(dataDir, BUCKET));
    expect(names.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});

describe('crash leftovers', () => {
  it('sweeps temp files and orphaned bodies on start, keeping committed objects', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'local-s3-crash-'));
    try {
      const first = await startLocalS3({
        dataDir: dir,
        region: REGION,
        credentials: CREDS,
        buckets: ['crash-b'],
      });
      const c = new S3Client({
        endpoint: first.endpoint,
        forcePathStyle: true,
        region: REGION,
        credentials: CREDS,
      });
      await c.send(new PutObjectCommand({ Bucket: 'crash-b', Key: 'kept', Body: 'kept body' }));
      await first.close();
      await writeFile(path.join(dir, 'crash-b', '.tmp-half-written'), 'partial');
      await writeFile(path.join(dir, 'crash-b', `${'0'.repeat(64)}.orphan.bin`), 'orphan');
      const second = await startLocalS3({
        dataDir: dir,
        region: REGION,
        credentials: CREDS,
        buckets: ['crash-b'],
      });
      const names = await readdir(path.join(dir, 'crash-b'));
      expect(names.some((n) => n.startsWith('.tmp-') || n.includes('orphan'))).toBe(false);
      const c2 = new S3Client({
        endpoint: second.endpoint,
        forcePathStyle: true,
        region: REGION,
        credentials: CREDS,
      });
      const got = await c2.send(new GetObjectCommand({ Bucket: 'crash-b', Key: 'kept' }));
      expect(await got.Body?.transformToString()).toBe('kept body');
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
