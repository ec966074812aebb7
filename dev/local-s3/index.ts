import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler } from './server.js';
import { createSigner } from './sigv4.js';
import { DiskStore } from './store.js';

export interface LocalS3Options {
  dataDir: string;
  /** Defaults to 127.0.0.1: this is a dev server and must never listen beyond loopback by accident. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Treat the key pair as temporary: COS forms must carry this `x-cos-security-token`. */
  cosSecurityToken?: string;
  buckets: string[];
}

export interface LocalS3 {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A path-style S3 server on disk that checks SigV4 headers, presigned URLs and POST policies
 * (S3 SigV4 forms and Tencent COS q-sign forms) the way the real services do.
 */
export async function startLocalS3(opts: LocalS3Options): Promise<LocalS3> {
  const store = new DiskStore(opts.dataDir);
  for (const bucket of opts.buckets) {
    if (!DiskStore.validBucketName(bucket)) throw new Error(`local-s3: invalid bucket name ${bucket}`);
    await store.createBucket(bucket);
    await store.sweep(bucket);
  }
  const auth = {
    region: opts.region,
    credentials: { ...opts.credentials },
    ...(opts.cosSecurityToken ? { cosSecurityToken: opts.cosSecurityToken } : {}),
  };
  let endpoint = '';
  const server = createServer(
    createHandler({ ...auth, store, signer: createSigner(auth), endpoint: () => endpoint }),
  );
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
