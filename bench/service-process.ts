// The benchmark's service in a process of its own (bench/support.ts startServiceProcess): the
// settings come as JSON in BENCH_SERVICE_SETTINGS; it prints `READY <url>` once it listens and
// closes on SIGTERM (open streams are cut, as the benchmark has already read them).
import { loadConfig } from '../lib/config/index.js';
import { startService } from './support.js';

const settings = JSON.parse(process.env.BENCH_SERVICE_SETTINGS ?? '{}') as Record<string, string>;
const service = await startService(loadConfig(settings));
process.stdout.write(`READY ${service.server.url}\n`);
process.once('SIGTERM', () => {
  void service.close().finally(() => process.exit(0));
});
