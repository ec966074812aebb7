// Runs the retention job once, outside Vercel cron: `tsx scripts/retention.ts`. Uses the same
// configuration as the functions (DATABASE_URL, S3_*, RETENTION_DAYS_*). Exits 1 if a task failed.
import { runRetention } from '../lib/retention/index.js';
import { getRuntime } from '../lib/runtime.js';

const rt = getRuntime();
try {
  // No function time limit here: a longer budget than the cron run's.
  const results = await runRetention(rt, { budgetMs: 10 * 60_000 });
  for (const r of results) {
    console.log(
      `${r.ok ? 'ok    ' : 'FAILED'} ${r.name}: ${r.removed} removed${r.errorType ? ` (${r.errorType})` : ''}`,
    );
  }
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
} finally {
  await rt.close();
}
