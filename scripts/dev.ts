// `npm run dev`: every function on one port, exactly as Vercel routes them, on embedded defaults.
// With nothing configured: PGlite under DATA_DIR, local S3-compatible storage, a simulated model,
// in-memory limits and dev:<name> sign-in. Anything configured in the environment is used instead.
import './node-version.js';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from '../dev/server.js';
import { startStandIns } from '../dev/stand-ins.js';

const env = process.env;
const dataDir = path.resolve(env.DATA_DIR || '.data');
fs.mkdirSync(dataDir, { recursive: true });
env.DATA_DIR = dataDir;
// One process: the embedded PGlite is opened in process (no database server needed).
const standIns = await startStandIns(env, { dataDir });
const started = standIns.started;

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
  await standIns.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
