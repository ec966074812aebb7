// Local S3-compatible storage for tests: the verifying server from dev/local-s3 on a free loopback
// port, fresh keys and a temporary folder. Pass `env` to createHarness({ env }).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../dev/local-s3/index.js';

export type TestStorage = {
  env: Record<string, string>;
  endpoint: string;
  bucket: string;
  dataDir: string;
  /** Every key in the bucket under `prefix`, read with the SDK (what is really stored). */
  keys(prefix?: string): Promise<string[]>;
  close(): Promise<void>;
};

export async function startTestStorage(
  opts: { region?: string; postSignature?: 'sigv4' | 'cos' } = {},
): Promise<TestStorage> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-s3-'));
  const region = opts.region ?? 'ap-guangzhou';
  const bucket = 'local';
  const credentials = {
    accessKeyId: `test-${randomBytes(6).toString('hex')}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const s3 = await startLocalS3({ dataDir, region, credentials, buckets: [bucket] });
  const client = new S3Client({ endpoint: s3.endpoint, region, credentials, forcePathStyle: true });
  return {
    env: {
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: region,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      S3_POST_SIGNATURE: opts.postSignature ?? 'sigv4',
    },
    endpoint: s3.endpoint,
    bucket,
    dataDir,
    keys: async (prefix = '') => {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    close: async () => {
      client.destroy();
      await s3.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
