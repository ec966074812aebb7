// Starts `npm run dev` (or `npm run dev:vercel`) as a new developer would: a free port, a fresh DATA_DIR and no service
// settings in the environment; waits for /health and hands back the base URL and the output.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });

export type DevServer = { base: string; dataDir: string; output(): string; stop(): Promise<void> };

export async function spawnDevServer(
  script: 'dev' | 'dev:vercel' = 'dev',
  startupMs = 90_000,
): Promise<DevServer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-server-test-'));
  const env: Record<string, string> = {};
  // Only the basics of the environment: "nothing configured" means no service settings.
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k] as string;
  Object.assign(env, { PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development' });
  const child: ChildProcess = spawn('npm', ['run', script], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const stop = async () => {
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      await new Promise((r) => setTimeout(r, 500));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}/api/v1`;
  const deadline = Date.now() + startupMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health`)).ok) return { base, dataDir, output: () => output, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`npm run ${script} did not start:\n${output}`);
}
