import { createHash, createHmac } from 'node:crypto';

export interface CosPresignedPostOptions {
  /** Full bucket name as COS knows it, e.g. `examplebucket-1250000000`. */
  bucket: string;
  key: string;
  secretId: string;
  secretKey: string;
  /**
   * A temporary key's token (from CAM/STS). COS takes it as the `x-cos-security-token` form field;
   * it is also pinned in the policy, so the signed form cannot be replayed with another token.
   */
  securityToken?: string;
  contentType: string;
  maxBytes: number;
  expiresSeconds: number;
  now?: Date;
  successActionStatus?: 200 | 201 | 204;
  /** Form action, e.g. `https://<bucket>.cos.<region>.myqcloud.com/`. */
  url: string;
}

export interface CosPresignedPost {
  url: string;
  fields: Record<string, string>;
  expiresAt: Date;
}

/**
 * Tencent COS browser-form (POST Object) upload, signed the way COS documents it:
 * KeyTime = `start;end`, SignKey = HMAC-SHA1(SecretKey, KeyTime),
 * Signature = HMAC-SHA1(SignKey, SHA1(policy JSON text)), all lowercase hex.
 * The policy pins the exact key, content type and size so the phone can upload only what was asked for.
 */
export function createCosPresignedPost(opts: CosPresignedPostOptions): CosPresignedPost {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 1)
    throw new Error('maxBytes must be a positive integer');
  if (!Number.isSafeInteger(opts.expiresSeconds) || opts.expiresSeconds < 1) {
    throw new Error('expiresSeconds must be a positive integer');
  }
  const start = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const end = start + opts.expiresSeconds;
  const keyTime = `${start};${end}`;
  const expiresAt = new Date(end * 1000);
  const status = opts.successActionStatus === undefined ? undefined : String(opts.successActionStatus);
  const policyJson = JSON.stringify({
    expiration: expiresAt.toISOString(),
    conditions: [
      { bucket: opts.bucket },
      ['eq', '$key', opts.key],
      ['eq', '$Content-Type', opts.contentType],
      ['content-length-range', 1, opts.maxBytes],
      // COS checks these three against the form's q-* fields.
      { 'q-sign-algorithm': 'sha1' },
      { 'q-ak': opts.secretId },
      { 'q-sign-time': keyTime },
      ...(opts.securityToken ? [{ 'x-cos-security-token': opts.securityToken }] : []),
      ...(status ? [['eq', '$success_action_status', status]] : []),
    ],
  });
  const signKey = createHmac('sha1', opts.secretKey).update(keyTime).digest('hex');
  const stringToSign = createHash('sha1').update(policyJson).digest('hex');
  const signature = createHmac('sha1', signKey).update(stringToSign).digest('hex');
  return {
    url: opts.url,
    fields: {
      key: opts.key,
      'Content-Type': opts.contentType,
      ...(status ? { success_action_status: status } : {}),
      policy: Buffer.from(policyJson, 'utf8').toString('base64'),
      'q-sign-algorithm': 'sha1',
      'q-ak': opts.secretId,
      'q-key-time': keyTime,
      'q-signature': signature,
      ...(opts.securityToken ? { 'x-cos-security-token': opts.securityToken } : {}),
    },
    expiresAt,
  };
}
