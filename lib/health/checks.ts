// Health checks: each part answers within a deadline or counts as down. Checks never throw.
import type { CheckResult } from './schemas.js';

export type { CheckResult };
export type Check = () => Promise<void>;

// Generous enough for a cold start's first connection (TLS, SDK import) on a busy instance.
export async function runCheck(check: Check, timeoutMs = 3_000): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    // The error's class only: driver messages can carry connection strings.
    const error = err instanceof Error && err.message === 'timeout' ? 'timeout' : 'unavailable';
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error };
  } finally {
    clearTimeout(timer);
  }
}

export async function runChecks(checks: Record<string, Check>): Promise<{
  status: 'ok' | 'degraded';
  checks: Record<string, CheckResult>;
}> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([k, f]) => [k, await runCheck(f)] as const),
  );
  const results = Object.fromEntries(entries);
  const status = entries.every(([, r]) => r.status === 'ok') ? 'ok' : 'degraded';
  return { status, checks: results };
}
