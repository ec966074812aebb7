// `npm run dev`: every function on one port, exactly as Vercel routes them, on embedded defaults.
// With nothing configured: PGlite under DATA_DIR, local S3-compatible storage, a simulated model,
// in-memory limits and dev:<name> sign-in. Anything configured in the environment is used instead.
import './node-version.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startLocalS3 } from '../dev/local-s3/index.js';
import { startMockLlm } from '../dev/mock-llm/index.js';
import { startServer } from '../dev/server.js';

const env = process.env;
const dataDir = path.resolve(env.DATA_DIR || '.data');
fs.mkdirSync(dataDir, { recursive: true });
env.DATA_DIR = dataDir;
const started: string[] = [];
const stops: (() => Promise<void>)[] = [];

if (!env.OPENAI_BASE_URL) {
  const llm = await startMockLlm({ simulated: true });
  env.OPENAI_BASE_URL = llm.baseURL;
  env.OPENAI_API_KEY ||= 'local-stand-in';
  started.push(`model: simulated stand-in at ${llm.baseURL}`);
  stops.push(() => llm.close());
}

if (!env.S3_ENDPOINT || !env.S3_BUCKET) {
  // Fresh keys each run: nothing outside this process can sign for the local bucket.
  const credentials = {
    accessKeyId: `local-${randomBytes(8).toString('hex')}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const region = env.S3_REGION || 'ap-guangzhou';
  const s3Dir = path.join(dataDir, 's3');
  const s3 = await startLocalS3({ dataDir: s3Dir, region, credentials, buckets: ['local'] });
  Object.assign(env, {
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'local',
    S3_REGION: region,
    S3_ACCESS_KEY_ID: credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  });
  started.push(`object storage: local S3-compatible server at ${s3.endpoint} (data in ${s3Dir})`);
  stops.push(() => s3.close());
}

// Config is read only now, after the stand-ins' addresses are in the environment.
const { getConfig } = await import('../lib/config/index.js');
const { getRuntime } = await import('../lib/runtime.js');
const config = getConfig();
const rt = getRuntime();
const server = await startServer(getRuntime, { port: config.PORT, host: '127.0.0.1' });

console.log(`health assistant API listening on ${server.url}/api/v1 (data in ${dataDir})`);
for (const s of started) console.log(`  stand-in ${s}`);
for (const s of config.standIns) console.log(`  stand-in ${s}`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await server.close();
  await rt.close();
  for (const stop of stops) await stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
