import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../dev/local-s3/index.js';
import { createCosPresignedPost } from '../../lib/storage/cos-post.js';

const REGION = 'ap-guangzhou';
const CREDS = { accessKeyId: 'AKIDCOSLOCAL', secretAccessKey: 'cos-local-secret' };
const BUCKET = 'health-1250000000';

let s3: LocalS3;
let dataDir: string;

async function exists(key: string): Promise<boolean> {
  const c = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: REGION, credentials: CREDS });
  try {
    await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (e) {
    if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404) return false;
    throw e;
  }
}

function cosForm(key: string, extra: Partial<Parameters<typeof createCosPresignedPost>[0]> = {}) {
  return createCosPresignedPost({
    bucket: BUCKET,
    key,
    secretId: CREDS.accessKeyId,
    secretKey: CREDS.secretAccessKey,
    contentType: 'image/jpeg',
    maxBytes: 1024,
    expiresSeconds: 600,
    url: `${s3.endpoint}/${BUCKET}`,
    ...extra,
  });
}

/** Same order as wx.uploadFile: the form fields, then the file part named `file`. */
async function upload(url: string, fields: Record<string, string>, size: number) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([new Uint8Array(size).fill(1)], { type: 'application/octet-stream' }), 'a.jpg');
  const res = await fetch(url, { method: 'POST', body: fd });
  const text = await res.text();
  return { status: res.status, text, code: /<Code>(.*?)<\/Code>/.exec(text)?.[1] ?? '' };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'local-s3-cos-'));
  s3 = await startLocalS3({ dataDir, region: REGION, credentials: CREDS, buckets: [BUCKET] });
});

afterAll(async () => {
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('COS POST Object form against local-s3', () => {
  it('accepts the signed form and stores the form content type', async () => {
    const { url, fields } = cosForm('meals/u1/ok.jpg');
    const res = await upload(url, fields, 300);
    expect(res.status).toBe(204);
    const c = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: REGION,
      credentials: CREDS,
    });
    const head = await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meals/u1/ok.jpg' }));
    expect([head.ContentType, head.ContentLength]).toEqual(['image/jpeg', 300]);
  });

  it('honours success_action_status 201', async () => {
    const { url, fields } = cosForm('meals/u1/created.jpg', { successActionStatus: 201 });
    const res = await upload(url, fields, 10);
    expect(res.status).toBe(201);
    expect(res.text).toContain('<Key>meals/u1/created.jpg</Key>');
  });

  it('refuses a forged signature', async () => {
    const { url, fields } = cosForm('meals/u1/forged.jpg');
    const sig = fields['q-signature'];
    const res = await upload(
      url,
      { ...fields, 'q-signature': `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}` },
      10,
    );
    expect([res.status, res.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await exists('meals/u1/forged.jpg')).toBe(false);
  });

  it('refuses a form whose key time and policy have expired', async () => {
    const { url, fields } = cosForm('meals/u1/expired.jpg', {
      now: new Date(Date.now() - 3600_000),
      expiresSeconds: 60,
    });
    const res = await upload(url, fields, 10);
    expect([res.status, res.code]).toEqual([403, 'AccessDenied']);
    expect(await exists('meals/u1/expired.jpg')).toBe(false);
  });

  it('refuses a file over maxBytes', async () => {
    const { url, fields } = cosForm('meals/u1/big.jpg');
    const res = await upload(url, fields, 1025);
    expect([res.status, res.code]).toEqual([400, 'EntityTooLarge']);
    expect(await exists('meals/u1/big.jpg')).toBe(false);
  });

  it('refuses an empty file (content-length-range starts at 1)', async () => {
    const { url, fields } = cosForm('meals/u1/empty.jpg');
    const res = await upload(url, fields, 0);
    expect([res.status, res.code]).toEqual([400, 'EntityTooSmall']);
    expect(await exists('meals/u1/empty.jpg')).toBe(false);
  });

  it('refuses a different key, a different content type and an unknown SecretId', async () => {
    const { url, fields } = cosForm('meals/u1/pinned.jpg');
    const otherKey = await upload(url, { ...fields, key: 'meals/u2/pinned.jpg' }, 10);
    expect([otherKey.status, otherKey.code]).toEqual([403, 'AccessDenied']);
    expect(otherKey.text).toContain('Condition key key');
    const otherType = await upload(url, { ...fields, 'Content-Type': 'text/html' }, 10);
    expect([otherType.status, otherType.code]).toEqual([403, 'AccessDenied']);
    const other = cosForm('meals/u1/pinned.jpg', { secretId: 'AKIDSOMEONEELSE' });
    const otherAk = await upload(other.url, other.fields, 10);
    expect([otherAk.status, otherAk.code]).toEqual([403, 'InvalidAccessKeyId']);
    expect(await exists('meals/u1/pinned.jpg')).toBe(false);
    expect(await exists('meals/u2/pinned.jpg')).toBe(false);
  });

  /** Hand-signed COS form, to vary key time, policy expiry and conditions independently. */
  function handSigned(key: string, opts: { keyTime?: [number, number]; expiresAt?: number; pin?: boolean }) {
    const now = Math.floor(Date.now() / 1000);
    const [start, end] = opts.keyTime ?? [now, now + 600];
    const keyTime = `${start};${end}`;
    const pins = opts.pin === false ? [] : [{ 'q-ak': CREDS.accessKeyId }, { 'q-sign-time': keyTime }];
    const policy = JSON.stringify({
      expiration: new Date((opts.expiresAt ?? now + 600) * 1000).toISOString(),
      conditions: [{ bucket: BUCKET }, { key }, { 'q-sign-algorithm': 'sha1' }, ...pins],
    });
    const signKey = createHmac('sha1', CREDS.secretAccessKey).update(keyTime).digest('hex');
    const signature = createHmac('sha1', signKey)
      .update(createHash('sha1').update(policy).digest('hex'))
      .digest('hex');
    return {
      key,
      policy: Buffer.from(policy).toString('base64'),
      'q-sign-algorithm': 'sha1',
      'q-ak': CREDS.accessKeyId,
      'q-key-time': keyTime,
      'q-signature': signature,
    };
  }

  it('checks the key-time window and the policy expiration separately', async () => {
    const now = Math.floor(Date.now() / 1000);
    const url = `${s3.endpoint}/${BUCKET}`;
    const live = await upload(url, handSigned('meals/u1/hand.jpg', {}), 10);
    expect(live.status).toBe(204);
    const oldKeyTime = await upload(
      url,
      handSigned('meals/u1/kt.jpg', { keyTime: [now - 700, now - 100] }),
      10,
    );
    expect([oldKeyTime.status, oldKeyTime.code]).toEqual([403, 'AccessDenied']);
    expect(oldKeyTime.text).toContain('Request has expired');
    const oldPolicy = await upload(url, handSigned('meals/u1/pe.jpg', { expiresAt: now - 5 }), 10);
    expect([oldPolicy.status, oldPolicy.code]).toEqual([403, 'AccessDenied']);
    expect(oldPolicy.text).toContain('You post object request has been expired');
    expect(await exists('meals/u1/kt.jpg')).toBe(false);
    expect(await exists('meals/u1/pe.jpg')).toBe(false);
  });

  it('refuses a correctly signed policy that does not pin q-ak / q-sign-time', async () => {
    const res = await upload(
      `${s3.endpoint}/${BUCKET}`,
      handSigned('meals/u1/loose.jpg', { pin: false }),
      10,
    );
    expect([res.status, res.code]).toEqual([403, 'AccessDenied']);
    expect(res.text).toContain('missing condition q-ak');
    expect(await exists('meals/u1/loose.jpg')).toBe(false);
  });
});

describe('COS forms with a temporary key (x-cos-security-token)', () => {
  const TOKEN = 'tmp-security-token-0123456789';
  let temp: LocalS3;
  let tempDir: string;
  beforeAll(async () => {
    tempDir = await mkdtemp(path.join(tmpdir(), 'local-s3-cos-tmp-'));
    temp = await startLocalS3({
      dataDir: tempDir,
      region: REGION,
      credentials: CREDS,
      cosSecurityToken: TOKEN,
      buckets: [BUCKET],
    });
  });
  afterAll(async () => {
    await temp.close();
    await rm(tempDir, { recursive: true, force: true });
  });
  const tempForm = (key: string, securityToken?: string) =>
    createCosPresignedPost({
      bucket: BUCKET,
      key,
      secretId: CREDS.accessKeyId,
      secretKey: CREDS.secretAccessKey,
      contentType: 'image/jpeg',
      maxBytes: 1024,
      expiresSeconds: 600,
      url: `${temp.endpoint}/${BUCKET}`,
      ...(securityToken ? { securityToken } : {}),
    });

  it('accepts the form carrying the token', async () => {
    const { url, fields } = tempForm('meals/tmp/ok.jpg', TOKEN);
    expect((await upload(url, fields, 20)).status).toBe(204);
  });

  it('refuses the form without the token, or with another token', async () => {
    const none = tempForm('meals/tmp/none.jpg');
    expect(await upload(none.url, none.fields, 20)).toMatchObject({
      status: 403,
      code: 'InvalidAccessKeyId',
    });
    const other = tempForm('meals/tmp/other.jpg', 'another-token');
    expect(await upload(other.url, other.fields, 20)).toMatchObject({
      status: 403,
      code: 'InvalidAccessKeyId',
    });
  });

  it('refuses a token added to a form the policy does not pin it in', async () => {
    const { url, fields } = tempForm('meals/tmp/unpinned.jpg');
    const res = await upload(url, { ...fields, 'x-cos-security-token': TOKEN }, 20);
    expect(res.status).toBe(403);
  });

  it('a permanent key takes no token', async () => {
    const { url, fields } = cosForm('meals/u1/permanent.jpg', { securityToken: TOKEN });
    expect(await upload(url, fields, 20)).toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
  });
});
