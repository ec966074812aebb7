// Load test (issue 6): many concurrent chat streams through the real service (startServer) on the
// real PostgreSQL (a fresh database, Neon driver over the WebSocket proxy), the real Redis and the
// local OpenAI-compatible model, all on loopback. Then it checks what must hold after load:
//   - every stream ended with `done`, every question and answer is in the database exactly once,
//     nothing is left `streaming`;
//   - no stream slot is left held in Redis, and the database connections are back to where they were;
//   - a burst over a small per-minute limit gets only 200s and 429s, never a 5xx;
//   - with the model server stopped mid-way, no acknowledged (`meta`) message is lost, none is left
//     `streaming`, and no answer is a 500 or shows a stack trace.
// Run alone: `npx tsx bench/load.ts` (BENCH_QUICK=1 for a smaller run). Exit status 1 when a check fails.
import { type MockLlm, startMockLlm } from '../dev/mock-llm/index.js';
import {
  benchConfig,
  type ChatRun,
  chatStream,
  deleteKeys,
  freshConnections,
  HIGH_LIMITS,
  heldSlots,
  lastEvent,
  log,
  machineFacts,
  median,
  ms,
  percentile,
  pool,
  processCpuMs,
  processMemory,
  QUICK,
  type RemoteService,
  ratio,
  round,
  type Stack,
  startService,
  startStack,
  table,
  waitFor,
} from './support.js';

const STREAMS = QUICK ? 60 : 200;
const BASELINE_STREAMS = QUICK ? 5 : 10;
const MAX_STREAMS_PER_USER = 2;
const MOCK = { firstTokenDelayMs: 200, chunkDelayMs: 20 };
const BURST = { requests: 30, limit: 5 };
// The service runs in a child process, so its CPU is not shared with the clients, the model stand-in
// and the WebSocket proxy; BENCH_IN_PROCESS=1 runs it in this process as before.
const CHILD = process.env.BENCH_IN_PROCESS !== '1';
// The service's default pool unless a run asks for another (to see whether the pool is the bottleneck).
const POOL_MAX = process.env.BENCH_POOL_MAX;
const FAULT = { streams: QUICK ? 20 : 40, spreadMs: QUICK ? 500 : 1_000, stopAfterMs: 700 };
const FAULT_MOCK = { firstTokenDelayMs: 100, chunkDelayMs: 40 };

export type Check = { name: string; ok: boolean; detail: string };

export type LoadResult = {
  streams: number;
  users: number;
  poolMax: number;
  mock: typeof MOCK;
  baseline: { metaP50: number; ttftP50: number; totalP50: number };
  run: {
    wallMs: number;
    streamsPerSecond: number;
    /** CPU the service's process used during the run (NaN when it ran in the benchmark's process). */
    serviceCpuMs: number;
    meta: { p50: number; p99: number };
    ttft: { p50: number; p99: number };
    total: { p50: number; p99: number };
    statuses: Record<string, number>;
    done: number;
  };
  memory: { rssBeforeMb: number; rssPeakMb: number; maxRssMb: number };
  /** The service ran in a process of its own. */
  child: boolean;
  connections: { baseline: number; peak: number; after: number; settledMs: number };
  slots: { after: number; settledMs: number };
  burst: { statuses: Record<string, number>; codes: Record<string, number> };
  fault: {
    streams: number;
    acknowledged: number;
    statuses: Record<string, number>;
    lastEvents: Record<string, number>;
    stored: Record<string, number>;
  };
  checks: Check[];
};

const count = (xs: (string | number | undefined)[]) => {
  const out: Record<string, number> = {};
  for (const x of xs) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
};
const fmt = (c: Record<string, number>) =>
  Object.entries(c)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
/** The envelope's code of a JSON error answer. */
const errorCode = (r: ChatRun): string => {
  try {
    return str((JSON.parse(r.text) as { error?: { code?: unknown } }).error?.code);
  } catch {
    return r.failure ?? 'unparsable';
  }
};
const mb = (bytes: number) => round(bytes / 1024 / 1024, 0);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

// Stack frames ("at fn (file.ts:1:2)") or source paths must never reach a client.
const STACK = /\bat .+:\d+:\d+|node_modules\/|\.ts:\d+/;
const leaksStack = (r: ChatRun) =>
  STACK.test(r.text) || r.events.some((e) => STACK.test(JSON.stringify(e.data)));

export async function loadTest(): Promise<LoadResult> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    log(`  ${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  };
  const stack: Stack<RemoteService> = await startStack({
    child: CHILD,
    mock: MOCK,
    env: {
      MAX_CONCURRENT_STREAMS: String(MAX_STREAMS_PER_USER),
      ...(POOL_MAX ? { DATABASE_POOL_MAX: POOL_MAX } : {}),
    },
  });
  const { db, redis } = stack;
  const prefix = stack.service.config.RATE_LIMIT_PREFIX;
  const extra: { close(): Promise<void> }[] = [];
  try {
    log(`  signing in ${STREAMS} users`);
    const users = await pool(
      8,
      Array.from({ length: STREAMS }, (_, i) => () => stack.user(`load-${i}`)),
    );

    // The same service, unloaded, in this run: what one stream costs alone.
    const alone: ChatRun[] = [];
    for (let i = 0; i < BASELINE_STREAMS; i++) {
      const u = users[i % users.length];
      if (u)
        alone.push(await chatStream(stack.base, u.token, { content: '单独一个问题：最近睡眠不好怎么办？' }));
    }
    const baseline = {
      metaP50: round(median(alone.map((r) => r.metaMs)), 1),
      ttftP50: round(median(alone.map((r) => r.ttftMs)), 1),
      totalP50: round(median(alone.map((r) => r.totalMs)), 1),
    };

    await new Promise((r) => setTimeout(r, 300));
    const connBaseline = await db.connections();
    const servicePid = stack.service.pid;
    const rssNow = () => (servicePid ? processMemory(servicePid).rss : process.memoryUsage().rss);
    const rssBefore = rssNow();
    let rssPeak = rssBefore;
    let connPeak = connBaseline;
    const rssTimer = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssNow());
    }, 50);
    let sampling = true;
    const connSampler = (async () => {
      while (sampling) {
        connPeak = Math.max(connPeak, await db.connections());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    log(`  ${STREAMS} concurrent streams`);
    // New connections, as from that many phones (and no idle keep-alive socket the server is closing).
    freshConnections();
    const started = performance.now();
    const cpuBefore = servicePid ? processCpuMs(servicePid) : Number.NaN;
    const runs = await Promise.all(
      users.map((u, i) =>
        chatStream(stack.base, u.token, { content: `负载问题 #${i}：最近睡眠不好怎么办？` }),
      ),
    );
    const wallMs = performance.now() - started;
    // What the service's process spent on the streams (its own process only: clients not counted).
    const serviceCpuMs = servicePid ? processCpuMs(servicePid) - cpuBefore : Number.NaN;
    sampling = false;
    await connSampler;
    clearInterval(rssTimer);

    const ok = runs.filter((r) => r.status === 200);
    const done = runs.filter((r) => lastEvent(r) === 'done').length;
    const failures = count(
      runs.filter((r) => r.failure).map((r) => `${r.failure} after ${r.events.length} events`),
    );
    const refused = count(runs.filter((r) => r.status !== 200).map((r) => `${r.status} ${errorCode(r)}`));
    const errorEvents = count(
      runs.filter((r) => lastEvent(r) === 'error').map((r) => str(r.events.at(-1)?.data.code)),
    );
    check(
      'every stream ends with done',
      done === STREAMS,
      `${done}/${STREAMS} done; last events ${fmt(count(runs.map(lastEvent)))}` +
        (Object.keys(refused).length ? `; refused before the stream: ${fmt(refused)}` : '') +
        (Object.keys(errorEvents).length ? `; error events: ${fmt(errorEvents)}` : '') +
        (Object.keys(failures).length ? `; client errors ${fmt(failures)}` : ''),
    );

    // Every acknowledged turn: exactly its two rows, the answer complete and equal to what streamed.
    const metas = runs.map((r) => r.events.find((e) => e.event === 'meta')?.data);
    // Index-aligned with `runs`; a stream without meta has ''.
    const conversationIds = metas.map((m) => str(m?.conversationId));
    const answerIds = metas.map((m) => str(m?.assistantMessageId));
    const { rows } = await db.inspect.query<{ conversation_id: string; n: number; q: number; a: number }>(
      `SELECT conversation_id, count(*)::int AS n,
              count(*) FILTER (WHERE role = 'user')::int AS q,
              count(*) FILTER (WHERE role = 'assistant' AND status = 'complete')::int AS a
         FROM messages WHERE conversation_id = ANY($1) GROUP BY conversation_id`,
      [conversationIds],
    );
    const exact = rows.filter((r) => r.n === 2 && r.q === 1 && r.a === 1).length;
    check(
      'every message stored exactly once',
      exact === STREAMS && new Set(conversationIds).size === STREAMS,
      `${exact}/${STREAMS} conversations hold exactly 1 question + 1 complete answer; ` +
        `${rows.reduce((n, r) => n + r.n, 0)} rows for ${STREAMS} streams`,
    );
    const dupes = await db.inspect.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT content FROM messages WHERE role = 'user' AND content LIKE '负载问题 #%'
         GROUP BY content HAVING count(*) > 1) d`,
    );
    check('no duplicate questions', (dupes.rows[0]?.n ?? 1) === 0, `${dupes.rows[0]?.n ?? '?'} duplicated`);
    const stored = await db.inspect.query<{ id: string; content: string }>(
      'SELECT id, content FROM messages WHERE id = ANY($1)',
      [answerIds],
    );
    const byId = new Map(stored.rows.map((r) => [r.id, r.content]));
    const mismatched = runs.filter((r, i) => {
      if (!answerIds[i]) return false;
      const text = r.events
        .filter((e) => e.event === 'delta')
        .map((e) => str(e.data.text))
        .join('');
      return byId.get(answerIds[i] ?? '') !== text;
    }).length;
    check('stored answers equal the streamed text', mismatched === 0, `${mismatched} differ`);
    const streaming = await db.inspect.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'streaming'`,
    );
    // What the client was told about the answers left streaming.
    const stuck = await db.inspect.query<{ id: string; chars: number }>(
      `SELECT id, length(content)::int AS chars FROM messages WHERE status = 'streaming' AND id = ANY($1)`,
      [answerIds],
    );
    const told = count(
      stuck.rows.map((row) => {
        const last = runs[answerIds.indexOf(row.id)]?.events.at(-1);
        return `${last?.event ?? 'none'} ${str(last?.data.code)} (${row.chars} chars saved)`;
      }),
    );
    check(
      'no answer left streaming',
      streaming.rows[0]?.n === 0,
      `${streaming.rows[0]?.n ?? '?'} rows streaming` +
        (stuck.rows.length ? `; their streams ended: ${fmt(told)}` : ''),
    );

    // Leases are given back right after the last event is written, so allow a moment.
    const slotMs = await waitFor(async () => (await heldSlots(redis, prefix)).members === 0, 5_000);
    const slotsAfter = (await heldSlots(redis, prefix)).members;
    check(
      'no stream slot left held in Redis',
      slotsAfter === 0,
      `${slotsAfter} held${Number.isNaN(slotMs) ? '' : ` (all freed ${round(slotMs, 0)} ms after the last stream)`}`,
    );
    const connMs = await waitFor(async () => (await db.connections()) <= connBaseline, 15_000, 250);
    const connAfter = await db.connections();
    check(
      'database connections back to baseline',
      connAfter <= connBaseline && connPeak <= stack.service.config.DATABASE_POOL_MAX,
      `baseline ${connBaseline}, peak ${connPeak} (pool max ${stack.service.config.DATABASE_POOL_MAX}), after ${connAfter}`,
    );
    const maxRss = servicePid ? processMemory(servicePid).peak : process.resourceUsage().maxRSS * 1024;

    // ------------------------------------------------------------------ burst over a small limit
    log(`  burst: ${BURST.requests} requests from one user, chat:user:minute=${BURST.limit}`);
    const burstService = await startService(
      benchConfig(db, stack.mock, {
        // Enough stream slots that the per-minute policy alone decides.
        MAX_CONCURRENT_STREAMS: String(BURST.requests),
        RATE_LIMITS: JSON.stringify({ ...HIGH_LIMITS, 'chat:user:minute': { limit: BURST.limit } }),
      }),
    );
    extra.push(burstService);
    const burster = await stack.user('load-burst', burstService.server.url);
    freshConnections();
    const burst = await Promise.all(
      Array.from({ length: BURST.requests }, (_, i) =>
        chatStream(burstService.server.url, burster.token, { content: `突发问题 #${i}：头疼怎么办？` }),
      ),
    );
    const burstStatuses = count(burst.map((r) => r.status));
    const burstCodes = count(
      burst
        .filter((r) => r.status !== 200)
        .map((r) => {
          try {
            return str((JSON.parse(r.text) as { error?: { code?: unknown } }).error?.code);
          } catch {
            return 'unparsable';
          }
        }),
    );
    const only = burst.every((r) => r.status === 200 || r.status === 429);
    const allowed = burst.filter((r) => r.status === 200);
    check(
      'burst: only 200 and 429, never 5xx',
      only && allowed.length === BURST.limit,
      `statuses ${fmt(burstStatuses)}; codes ${fmt(burstCodes)}`,
    );
    check(
      'burst: every 429 says when to retry',
      burst.filter((r) => r.status === 429).every((r) => Number(r.headers['retry-after']) > 0),
      'Retry-After on each 429',
    );
    check(
      'burst: every admitted stream ends with done',
      allowed.every((r) => lastEvent(r) === 'done'),
      `${allowed.filter((r) => lastEvent(r) === 'done').length}/${allowed.length}`,
    );
    const burstPrefix = burstService.config.RATE_LIMIT_PREFIX;
    await waitFor(async () => (await heldSlots(redis, burstPrefix)).members === 0, 5_000);
    const heldBurst = (await heldSlots(redis, burstPrefix)).members;
    check('burst: no stream slot left held', heldBurst === 0, `${heldBurst} held`);
    await burstService.close();
    extra.pop();

    // ------------------------------------------------------------------ model server stopped mid-way
    log(`  fault: ${FAULT.streams} streams, model server stopped ${FAULT.stopAfterMs} ms in`);
    const faultMock: MockLlm = await startMockLlm({ defaults: FAULT_MOCK });
    const faultService = await startService(
      benchConfig(db, faultMock, {
        MAX_CONCURRENT_STREAMS: String(MAX_STREAMS_PER_USER),
        LLM_FIRST_TOKEN_TIMEOUT_MS: '5000',
      }),
    );
    extra.push(faultService);
    freshConnections();
    const faultStart = performance.now();
    const stopper = new Promise<void>((resolve) =>
      setTimeout(() => void faultMock.close().then(resolve), FAULT.stopAfterMs),
    );
    const faultRuns = await Promise.all(
      users.slice(0, FAULT.streams).map(async (u, i) => {
        await new Promise((r) => setTimeout(r, (FAULT.spreadMs * i) / FAULT.streams));
        return chatStream(faultService.server.url, u.token, { content: `故障问题 #${i}：嗓子疼怎么办？` });
      }),
    );
    await stopper;
    const faultWall = performance.now() - faultStart;
    const acked = faultRuns
      .map((r) => r.events.find((e) => e.event === 'meta')?.data)
      .filter((m): m is Record<string, unknown> => m !== undefined);
    const ackIds = acked.flatMap((m) => [str(m.userMessageId), str(m.assistantMessageId)]);
    const faultRows = await db.inspect.query<{ id: string; role: string; status: string }>(
      'SELECT id, role, status FROM messages WHERE id = ANY($1)',
      [ackIds],
    );
    const answers = faultRows.rows.filter((r) => r.role === 'assistant');
    const storedStatuses = count(answers.map((r) => r.status));
    check(
      'fault: no acknowledged message lost',
      faultRows.rows.length === ackIds.length,
      `${acked.length} streams acknowledged (meta), ${faultRows.rows.length}/${ackIds.length} of their messages stored`,
    );
    check(
      'fault: acknowledged answers finished, none streaming',
      answers.length === acked.length &&
        answers.every((r) => ['complete', 'incomplete', 'error'].includes(r.status)),
      `answers ${fmt(storedStatuses)}`,
    );
    const faultStatuses = count(faultRuns.map((r) => r.status));
    check(
      'fault: no 500 and no stack trace',
      faultRuns.every((r) => r.status !== 500 && !leaksStack(r)),
      `statuses ${fmt(faultStatuses)}; ${faultRuns.filter(leaksStack).length} bodies show a stack`,
    );
    const faultLast = count(
      faultRuns.map((r) =>
        r.status !== 200
          ? `HTTP ${r.status}`
          : lastEvent(r) === 'error'
            ? `error ${str(r.events.at(-1)?.data.code)}`
            : String(lastEvent(r)),
      ),
    );
    check(
      'fault: every stream ends with done or error',
      faultRuns.every((r) => r.status !== 200 || lastEvent(r) === 'done' || lastEvent(r) === 'error'),
      `${fmt(faultLast)} (${round(faultWall, 0)} ms)`,
    );
    await faultService.close();
    extra.pop();
    const streamingAfter = await db.inspect.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'streaming'`,
    );
    // Rows the main run left streaming are its own failure, already reported above.
    const newlyStuck = (streamingAfter.rows[0]?.n ?? 0) - (streaming.rows[0]?.n ?? 0);
    check(
      'fault: nothing new left streaming',
      newlyStuck === 0,
      `${newlyStuck} rows left streaming by the fault run`,
    );
    const faultPrefix = faultService.config.RATE_LIMIT_PREFIX;
    await waitFor(async () => (await heldSlots(redis, faultPrefix)).members === 0, 5_000);
    const heldFault = (await heldSlots(redis, faultPrefix)).members;
    check('fault: no stream slot left held', heldFault === 0, `${heldFault} held`);
    const connFaultMs = await waitFor(async () => (await db.connections()) <= connBaseline, 15_000, 250);
    check(
      'fault: database connections back to baseline',
      !Number.isNaN(connFaultMs),
      `${await db.connections()} open (baseline ${connBaseline}) after closing the extra services`,
    );
    // The extra services' limiter keys have their own prefixes.
    for (const svc of [burstService, faultService]) await deleteKeys(redis, svc.config.RATE_LIMIT_PREFIX);

    const metaTimes = ok.map((r) => r.metaMs).filter(Number.isFinite);
    const ttfts = ok.map((r) => r.ttftMs).filter(Number.isFinite);
    const totals = ok.map((r) => r.totalMs);
    return {
      streams: STREAMS,
      users: STREAMS,
      poolMax: stack.service.config.DATABASE_POOL_MAX,
      mock: MOCK,
      baseline,
      run: {
        wallMs: round(wallMs, 0),
        streamsPerSecond: round((STREAMS / wallMs) * 1000, 1),
        serviceCpuMs: round(serviceCpuMs, 0),
        meta: { p50: round(median(metaTimes), 1), p99: round(percentile(metaTimes, 99), 1) },
        ttft: { p50: round(median(ttfts), 1), p99: round(percentile(ttfts, 99), 1) },
        total: { p50: round(median(totals), 1), p99: round(percentile(totals, 99), 1) },
        statuses: count(runs.map((r) => r.status)),
        done,
      },
      memory: { rssBeforeMb: mb(rssBefore), rssPeakMb: mb(rssPeak), maxRssMb: mb(maxRss) },
      child: CHILD,
      connections: {
        baseline: connBaseline,
        peak: connPeak,
        after: connAfter,
        settledMs: round(connMs, 0),
      },
      slots: { after: slotsAfter, settledMs: round(slotMs, 0) },
      burst: { statuses: burstStatuses, codes: burstCodes },
      fault: {
        streams: FAULT.streams,
        acknowledged: acked.length,
        statuses: faultStatuses,
        lastEvents: faultLast,
        stored: storedStatuses,
      },
      checks,
    };
  } finally {
    for (const svc of extra) await svc.close().catch(() => undefined);
    await stack.close();
  }
}

export function loadLines(r: LoadResult): string[] {
  const passed = r.checks.filter((c) => c.ok).length;
  // p50 and p99 under load, each against the median of the same stream alone.
  const row = (what: string, p50: number, p99: number, alone: number) => [
    [`${what} p50`, ms(p50), ms(alone), ratio(p50, alone)],
    [`${what} p99`, ms(p99), '', ratio(p99, alone)],
  ];
  return [
    `${r.streams} streams at once, one per user (${r.users} users, at most ${MAX_STREAMS_PER_USER} open ` +
      `streams each), one service process${r.child ? ' of its own (the clients, the model stand-in and the WebSocket proxy in the benchmark’s)' : ' shared with the clients, the model stand-in and the WebSocket proxy'}, ` +
      `database pool max ${r.poolMax}; the model waits ` +
      `${r.mock.firstTokenDelayMs} ms before its first chunk and ${r.mock.chunkDelayMs} ms between chunks.`,
    '',
    table(
      ['figure', 'under load', 'one stream alone (same run)', 'ratio'],
      [
        row('`meta` (question stored)', r.run.meta.p50, r.run.meta.p99, r.baseline.metaP50),
        row('first token', r.run.ttft.p50, r.run.ttft.p99, r.baseline.ttftP50),
        row('whole answer', r.run.total.p50, r.run.total.p99, r.baseline.totalP50),
      ].flat(),
    ),
    '',
    ...(Number.isFinite(r.run.serviceCpuMs)
      ? [
          `- The service's process used ${r.run.serviceCpuMs} ms of CPU for the ${r.streams} streams ` +
            `(${round(r.run.serviceCpuMs / r.streams, 1)} ms each, from the question to the end of its answer; ` +
            `${round((r.run.serviceCpuMs / r.run.wallMs) * 100, 0)} % of one core over the run). A process ` +
            `runs on one core, so the questions of a simultaneous burst wait in line for it behind each ` +
            `other and behind the answers already streaming.`,
        ]
      : []),
    `- Throughput: ${r.streams} streams in ${r.run.wallMs} ms = **${r.run.streamsPerSecond} streams/s**; ` +
      `statuses ${fmt(r.run.statuses)}; ${r.run.done}/${r.streams} ended with \`done\`.`,
    `- Memory (${r.child ? 'the service’s process' : `one process holding the service, the model stand-in, the WebSocket proxy and the ${r.streams} clients`}): ` +
      `RSS ${r.memory.rssBeforeMb} MB before, ${r.memory.rssPeakMb} MB peak ` +
      `(process max RSS ${r.memory.maxRssMb} MB).`,
    `- Database connections to the bench database: ${r.connections.baseline} before, ` +
      `${r.connections.peak} at peak, ${r.connections.after} after.`,
    `- Burst of ${BURST.requests} from one user over \`chat:user:minute\`=${BURST.limit}: ` +
      `${fmt(r.burst.statuses)} (codes ${fmt(r.burst.codes)}).`,
    `- Model server stopped ${FAULT.stopAfterMs} ms into ${r.fault.streams} streams: ` +
      `${r.fault.acknowledged} acknowledged; streams ended ${fmt(r.fault.lastEvents)}; ` +
      `stored answers ${fmt(r.fault.stored)}.`,
    '',
    `Checks: ${passed}/${r.checks.length} passed.`,
    '',
    ...r.checks.map((c) => `- ${c.ok ? 'PASS' : '**FAIL**'} ${c.name}: ${c.detail}`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  log(`machine: ${JSON.stringify(machineFacts())}`);
  const r = await loadTest();
  for (const l of loadLines(r)) log(l);
  process.exit(r.checks.every((c) => c.ok) ? 0 : 1);
}
