// `npm start`: the same function apps as one production Node server, for Sealos or any container
// host where Vercel is slow or unreachable. Real configuration only: with NODE_ENV=production the
// config refuses every stand-in. SIGTERM stops accepting, lets open chat streams finish for
// SHUTDOWN_GRACE_MS, then ends the rest (stored as incomplete).
import { startServer } from '../dev/server.js';
import { getConfig } from '../lib/config/index.js';
import { getRuntime } from '../lib/runtime.js';

process.env.NODE_ENV ||= 'production';
let config: ReturnType<typeof getConfig>;
try {
  config = getConfig();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
const rt = getRuntime();
const host = config.HOST;
const grace = config.SHUTDOWN_GRACE_MS;
const server = await startServer(getRuntime, { port: config.PORT, host });
rt.log.info({ port: server.port, host }, 'listening');

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  rt.log.info({ signal, graceMs: grace }, 'shutting down');
  await server.close(grace);
  await rt.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
