// The service at a bound it sets itself: the global chat limit (policy `global`, 3,000 a minute in
// production, the brake that keeps the model provider's RPM/TPM and WeChat's msgSecCheck quota from
// binding first) set low, and more users asking at once than it admits. Every answer must be a
// stream that ends with `done` or a 429 RATE_LIMITED with Retry-After: no 5xx, nothing half-stored.
import {
  chatStream,
  HIGH_LIMITS,
  lastEvent,
  log,
  machineFacts,
  pool,
  QUICK,
  startStack,
  table,
} from './support.js';

const GLOBAL_LIMIT = 20;
const USERS = QUICK ? 40 : 60;

export type CapacityResult = {
  users: number;
  globalLimit: number;
  admitted: number;
  done: number;
  limited: number;
  retryAfter: number[];
  other: Record<string, number>;
  storedQuestions: number;
};

export async function capacity(): Promise<CapacityResult> {
  const s = await startStack({
    mock: { firstTokenDelayMs: 50, chunkDelayMs: 5 },
    env: {
      RATE_LIMITS: JSON.stringify({ ...HIGH_LIMITS, global: { limit: GLOBAL_LIMIT } }),
      // A shared 2-core machine under load must not turn slow Redis or pool waits into 503s here:
      // this run is about the limit, not the machine.
      REDIS_TIMEOUT_MS: '5000',
      DATABASE_CONNECT_TIMEOUT_MS: '15000',
    },
  });
  try {
    const users = await pool(
      8,
      Array.from({ length: USERS }, (_, i) => () => s.user(`cap-${i}`)),
    );
    const runs = await Promise.all(
      users.map((u, i) => chatStream(s.base, u.token, { content: `容量问题 #${i}：头疼怎么办？` })),
    );
    await s.service.rt.settled();
    const other: Record<string, number> = {};
    for (const r of runs) {
      if (r.status === 200 || r.status === 429) continue;
      const k = `${r.status} ${r.failure ?? ''}`.trim();
      other[k] = (other[k] ?? 0) + 1;
    }
    const limited = runs.filter((r) => r.status === 429 && r.text.includes('RATE_LIMITED'));
    const { rows } = await s.db.inspect.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE role = 'user'`,
    );
    return {
      users: USERS,
      globalLimit: GLOBAL_LIMIT,
      admitted: runs.filter((r) => r.status === 200).length,
      done: runs.filter((r) => r.status === 200 && lastEvent(r) === 'done').length,
      limited: limited.length,
      retryAfter: limited.map((r) => Number(r.headers['retry-after'] ?? Number.NaN)),
      other,
      storedQuestions: rows[0]?.n ?? 0,
    };
  } finally {
    await s.close();
  }
}

export function capacityOk(r: CapacityResult): boolean {
  return (
    Object.keys(r.other).length === 0 &&
    r.admitted === r.done &&
    r.admitted + r.limited === r.users &&
    r.admitted <= r.globalLimit &&
    r.retryAfter.every((x) => x > 0) &&
    r.storedQuestions === r.admitted
  );
}

export function capacityLines(r: CapacityResult): string[] {
  const ra = r.retryAfter.filter(Number.isFinite);
  return [
    table(
      [
        'users asking at once',
        'global limit',
        'streamed to `done`',
        '429 RATE_LIMITED',
        'Retry-After (s)',
        'anything else',
        'questions stored',
      ],
      [
        [
          r.users,
          `${r.globalLimit} / min`,
          `${r.done} of ${r.admitted} admitted`,
          r.limited,
          ra.length ? `${Math.min(...ra)}–${Math.max(...ra)}` : '—',
          Object.entries(r.other)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ') || 'none',
          r.storedQuestions,
        ],
      ],
    ),
    '',
    `${capacityOk(r) ? 'PASS' : 'FAIL'}: at the bound every answer is a complete stream or a 429 ` +
      'with Retry-After; refused questions are not stored.',
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  log(`machine: ${JSON.stringify(machineFacts())}`);
  const r = await capacity();
  for (const l of capacityLines(r)) log(l);
  process.exit(capacityOk(r) ? 0 : 1);
}
