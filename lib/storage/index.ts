// The Storage interface (types.ts) on @aws-sdk/client-s3: Tencent COS, Sealos/MinIO, any S3.
// The upload-side signers (@aws-sdk/s3-presigned-post, the COS form signer) and the URL presigner
// are imported only when first used, so a function that only reads objects never loads them.
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import type { Config } from '../config/index.js';
import { ObjectTooLargeError, StorageNotConfiguredError } from './errors.js';
import type { ObjectHead, PresignedPost, PresignedPut, Storage } from './types.js';

export type { ObjectHead, PresignedPost, PresignedPut, Storage } from './types.js';

/** Browsers and phones get at most five minutes to use a signed upload form or URL. */
const MAX_UPLOAD_EXPIRY_SECONDS = 300;

type StorageSettings = {
  endpoint: string;
  publicEndpoint: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  postSignature: 'sigv4' | 'cos';
};

function settingsFrom(config: Config): StorageSettings {
  const missing = (['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).filter(
    (k) => !config[k],
  );
  const { S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = config;
  if (!S3_ENDPOINT || !S3_BUCKET || !S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) {
    throw new StorageNotConfiguredError(missing);
  }
  return {
    endpoint: S3_ENDPOINT,
    publicEndpoint: config.S3_PUBLIC_ENDPOINT ?? S3_ENDPOINT,
    region: config.S3_REGION,
    bucket: S3_BUCKET,
    forcePathStyle: config.S3_FORCE_PATH_STYLE ?? false,
    credentials: {
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      ...(config.S3_SESSION_TOKEN ? { sessionToken: config.S3_SESSION_TOKEN } : {}),
    },
    postSignature: config.S3_POST_SIGNATURE,
  };
}

function makeClient(s: StorageSettings, endpoint: string): S3Client {
  const client = new S3Client({
    endpoint,
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    credentials: s.credentials,
    // Checksums only where the API demands them: presigned URLs then carry no checksum parameters,
    // which COS and most S3-compatible stores do not understand.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
  });
  // DeleteObjects must carry Content-MD5 on COS (and older MinIO); the SDK now sends CRC32 instead.
  const contentMd5: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const req = args.request;
      if (
        context.commandName === 'DeleteObjectsCommand' &&
        isHttpRequest(req) &&
        typeof req.body === 'string'
      ) {
        for (const name of Object.keys(req.headers)) {
          const lower = name.toLowerCase();
          if (lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm') {
            delete req.headers[name];
          }
        }
        req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      }
      return next(args);
    };
  client.middlewareStack.addRelativeTo(contentMd5, {
    name: 'contentMd5ForDeleteObjects',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
  });
  return client;
}

function isHttpRequest(v: unknown): v is { headers: Record<string, string>; body: unknown } {
  return typeof v === 'object' && v !== null && 'headers' in v && typeof v.headers === 'object';
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
  );
}

/** The form action for a bucket, addressed the way the client is configured (path or virtual host). */
function bucketUrl(endpoint: string, bucket: string, pathStyle: boolean): string {
  const u = new URL(endpoint);
  if (pathStyle) u.pathname = `${u.pathname.replace(/\/+$/, '')}/${bucket}`;
  else u.hostname = `${bucket}.${u.hostname}`;
  return u.toString();
}

const clampExpiry = (seconds: number) =>
  Math.max(1, Math.min(Math.floor(seconds), MAX_UPLOAD_EXPIRY_SECONDS));

export function createStorage(config: Config): Storage {
  const s = settingsFrom(config);
  const client = makeClient(s, s.endpoint);
  // URLs handed to phones and model providers are signed for the host they will call.
  const publicClient = s.publicEndpoint === s.endpoint ? client : makeClient(s, s.publicEndpoint);
  const Bucket = s.bucket;
  const presigner = async () => (await import('@aws-sdk/s3-request-presigner')).getSignedUrl;

  return {
    async presignPost({ key, contentType, maxBytes, expiresSeconds }): Promise<PresignedPost> {
      const expires = clampExpiry(expiresSeconds);
      if (s.postSignature === 'cos') {
        const { createCosPresignedPost } = await import('./cos-post.js');
        return createCosPresignedPost({
          bucket: Bucket,
          key,
          secretId: s.credentials.accessKeyId,
          secretKey: s.credentials.secretAccessKey,
          ...(s.credentials.sessionToken ? { securityToken: s.credentials.sessionToken } : {}),
          contentType,
          maxBytes,
          expiresSeconds: expires,
          url: bucketUrl(s.publicEndpoint, Bucket, s.forcePathStyle),
        });
      }
      const { createPresignedPost } = await import('@aws-sdk/s3-presigned-post');
      const expiresAt = new Date(Date.now() + expires * 1000);
      // The policy pins the exact key (added by createPresignedPost), the type and the size range.
      const { url, fields } = await createPresignedPost(publicClient, {
        Bucket,
        Key: key,
        Conditions: [
          ['eq', '$Content-Type', contentType],
          ['content-length-range', 1, maxBytes],
        ],
        Fields: { 'Content-Type': contentType },
        Expires: expires,
      });
      return { url, fields, expiresAt };
    },

    async presignPut({ key, contentType, size, expiresSeconds }): Promise<PresignedPut> {
      const expires = clampExpiry(expiresSeconds);
      const getSignedUrl = await presigner();
      const url = await getSignedUrl(
        publicClient,
        new PutObjectCommand({ Bucket, Key: key, ContentType: contentType, ContentLength: size }),
        // Signed, so the store refuses another type or length.
        { expiresIn: expires, signableHeaders: new Set(['content-type', 'content-length']) },
      );
      return {
        url,
        headers: { 'content-type': contentType, 'content-length': String(size) },
        expiresAt: new Date(Date.now() + expires * 1000),
      };
    },

    async presignGet(key, expiresSeconds) {
      const getSignedUrl = await presigner();
      return getSignedUrl(publicClient, new GetObjectCommand({ Bucket, Key: key }), {
        expiresIn: Math.max(1, Math.floor(expiresSeconds)),
      });
    },

    async head(key): Promise<ObjectHead | null> {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { size: r.ContentLength ?? 0, contentType: r.ContentType };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async getBytes(key, maxBytes) {
      let r: GetObjectCommandOutput;
      try {
        r = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
      const body = r.Body;
      if (!body) return new Uint8Array(0);
      if ((r.ContentLength ?? 0) > maxBytes) {
        // Not read: drop the connection rather than download what will be refused.
        await body.transformToWebStream().cancel();
        throw new ObjectTooLargeError(maxBytes);
      }
      const bytes = await body.transformToByteArray();
      if (bytes.length > maxBytes) throw new ObjectTooLargeError(maxBytes);
      return bytes;
    },

    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
        }),
      );
    },

    async delete(key) {
      // S3 answers 204 for a key that does not exist: deleting is idempotent.
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },

    async deletePrefix(prefix) {
      if (!prefix) throw new Error('deletePrefix needs a non-empty prefix');
      let removed = 0;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length) {
          const r = await client.send(
            new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          if (r.Errors?.length) throw new Error(`DeleteObjects failed for ${r.Errors.length} objects`);
          removed += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return removed;
    },

    async ping() {
      await client.send(new HeadBucketCommand({ Bucket }));
    },
  };
}
