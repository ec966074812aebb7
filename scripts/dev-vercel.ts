// `npm run dev:vercel`: Vercel's own dev server (`vercel dev --local`, offline, no login or linked
// project) with the same embedded defaults as `npm run dev`. The stand-ins run in this process and
// `vercel dev` gets their addresses in its environment, which it hands to every function process.
// The embedded PGlite database is owned here and served over the PostgreSQL protocol: each function
// runs in its own process, and several processes cannot open one PGlite directory.
//
//   npm run dev:vercel                 PORT (default 3000), DATA_DIR (default .data)
//   npm run dev:vercel -- <args>       extra arguments for `vercel dev`
import './node-version.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStandIns } from '../dev/stand-ins.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const dataDir = path.resolve(env.DATA_DIR || '.data');
fs.mkdirSync(dataDir, { recursive: true });
env.DATA_DIR = dataDir;
const port = Number(env.PORT || 3000);

const standIns = await startStandIns(env, { dataDir, databaseServer: true });

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

const require = createRequire(import.meta.url);
const vercelPkg = require.resolve('vercel/package.json');
const vercelBin = path.join(
  path.dirname(vercelPkg),
  (require(vercelPkg) as { bin: { vercel: string } }).bin.vercel,
);
// Its local queue, schedule and cache servers default to fixed ports; free ones let two checkouts
// (or a test) run side by side.
const args = [
  vercelBin,
  'dev',
  '--local',
  '--yes',
  '--listen',
  `127.0.0.1:${port}`,
  '--queue-port',
  String(await freePort()),
  '--schedules-port',
  String(await freePort()),
  '--runtime-cache-port',
  String(await freePort()),
  ...process.argv.slice(2),
];

console.log(`starting vercel dev --local on http://127.0.0.1:${port}/api/v1 (data in ${dataDir})`);
for (const s of standIns.started) console.log(`  stand-in ${s}`);

const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
let closing = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (closing) return;
  closing = true;
  child.kill(signal);
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
child.on('exit', async (code, signal) => {
  await standIns.close();
  process.exit(code ?? (signal ? 0 : 1));
});
