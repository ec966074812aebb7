// Per-request overhead of the service's stack (request id, request log and its system_logs insert,
// content-type and body-limit checks, bearer auth with its account lookup, zod validation, the
// error envelope) on an authenticated `GET /api/v1/conversations`, next to the same owner-scoped
// query (listConversations) behind a bare Hono route: same database pool, same process, same
// @hono/node-server, same client. Sequential requests interleaved in blocks, then concurrent ones.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { listConversations } from '../lib/conversations/service.js';
import {
  log,
  machineFacts,
  median,
  ms,
  percentile,
  QUICK,
  ratio,
  request,
  round,
  type Stack,
  startStack,
  table,
} from './support.js';

export type Variant = { p50: number; p99: number; rps: number; n: number };
export type OverheadResult = {
  sequential: { service: Variant; bare: Variant };
  concurrent: { service: Variant; bare: Variant; concurrency: number };
  conversations: number;
  systemLogRows: number;
};

const SEQUENTIAL = QUICK ? 150 : 500;
const CONCURRENT = QUICK ? 200 : 500;
const CONCURRENCY = 16;
const BLOCK = 25;
const CONVERSATIONS = 20;

function summarise(latencies: number[], wallMs: number): Variant {
  return {
    n: latencies.length,
    p50: round(median(latencies), 2),
    p99: round(percentile(latencies, 99), 2),
    rps: round((latencies.length / wallMs) * 1000, 0),
  };
}

async function timed(url: string, token: string | undefined): Promise<number> {
  const t = performance.now();
  const r = await request(url, { token });
  const took = performance.now() - t;
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.text.slice(0, 200)}`);
  return took;
}

export async function overhead(stack?: Stack): Promise<OverheadResult> {
  const own = !stack;
  const s = stack ?? (await startStack());
  try {
    const u = await s.user('overhead-owner');
    for (let i = 0; i < CONVERSATIONS; i++) {
      await request(`${s.base}/api/v1/conversations`, {
        method: 'POST',
        token: u.token,
        body: { title: `对话 ${i}` },
      });
    }
    const db = await s.service.rt.db();
    const bare = new Hono();
    bare.get('/bare/conversations', async (c) => c.json(await listConversations(db, u.userId, {}), 200));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const srv = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(srv));
    });
    const port = (server.address() as AddressInfo).port;
    const bareUrl = `http://127.0.0.1:${port}/bare/conversations`;
    const serviceUrl = `${s.base}/api/v1/conversations`;
    // Both answer the same page.
    const a = JSON.parse((await request(serviceUrl, { token: u.token })).text) as { items: unknown[] };
    const b = JSON.parse((await request(bareUrl)).text) as { items: unknown[] };
    if (a.items.length !== CONVERSATIONS || b.items.length !== CONVERSATIONS)
      throw new Error(`pages differ: ${a.items.length} vs ${b.items.length}`);

    const logsBefore = await s.db.inspect.query<{ n: string }>('SELECT count(*)::text AS n FROM system_logs');
    for (let i = 0; i < 30; i++) {
      await timed(serviceUrl, u.token);
      await timed(bareUrl, undefined);
    }

    const seq = { service: [] as number[], bare: [] as number[], serviceMs: 0, bareMs: 0 };
    for (let done = 0; done < SEQUENTIAL; done += BLOCK) {
      let t = performance.now();
      for (let i = 0; i < BLOCK; i++) seq.service.push(await timed(serviceUrl, u.token));
      seq.serviceMs += performance.now() - t;
      t = performance.now();
      for (let i = 0; i < BLOCK; i++) seq.bare.push(await timed(bareUrl, undefined));
      seq.bareMs += performance.now() - t;
    }

    // Two rounds each, alternating, so a change in background load hits both.
    const conc = { service: [] as number[], bare: [] as number[], serviceMs: 0, bareMs: 0 };
    const burst = async (url: string, token: string | undefined, n: number, into: number[]) => {
      const t = performance.now();
      let left = n;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left > 0) {
            left--;
            into.push(await timed(url, token));
          }
        }),
      );
      return performance.now() - t;
    };
    for (let round = 0; round < 2; round++) {
      conc.serviceMs += await burst(serviceUrl, u.token, CONCURRENT / 2, conc.service);
      conc.bareMs += await burst(bareUrl, undefined, CONCURRENT / 2, conc.bare);
    }
    const logsAfter = await s.db.inspect.query<{ n: string }>('SELECT count(*)::text AS n FROM system_logs');
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const served = 30 + SEQUENTIAL + CONCURRENT;
    return {
      sequential: {
        service: summarise(seq.service, seq.serviceMs),
        bare: summarise(seq.bare, seq.bareMs),
      },
      concurrent: {
        service: summarise(conc.service, conc.serviceMs),
        bare: summarise(conc.bare, conc.bareMs),
        concurrency: CONCURRENCY,
      },
      conversations: CONVERSATIONS,
      // Rows the request log wrote per authenticated request (1 = one insert each).
      systemLogRows: round(
        (Number(logsAfter.rows[0]?.n ?? 0) - Number(logsBefore.rows[0]?.n ?? 0)) / served,
        2,
      ),
    };
  } finally {
    if (own) await s.close();
  }
}

export function overheadLines(r: OverheadResult): string[] {
  const row = (label: string, v: { service: Variant; bare: Variant }) => [
    label,
    `${ms(v.service.p50)} / ${ms(v.service.p99)}`,
    `${ms(v.bare.p50)} / ${ms(v.bare.p99)}`,
    ratio(v.service.p50, v.bare.p50),
    ms(v.service.p50 - v.bare.p50),
    `${v.service.rps} / ${v.bare.rps}`,
    ratio(v.bare.rps, v.service.rps),
  ];
  return [
    table(
      [
        'run',
        'service p50 / p99',
        'bare p50 / p99',
        'p50 ratio',
        'added at p50',
        'req/s service / bare',
        'bare ÷ service req/s',
      ],
      [
        row(`${r.sequential.service.n} sequential`, r.sequential),
        row(`${r.concurrent.service.n} at ${r.concurrent.concurrency} concurrent`, r.concurrent),
      ],
    ),
    '',
    `Rows written to \`system_logs\` per authenticated request: ${r.systemLogRows}. ` +
      `Each page holds ${r.conversations} conversations.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  log(`machine: ${JSON.stringify(machineFacts())}`);
  const r = await overhead();
  for (const l of overheadLines(r)) log(l);
  process.exit(0);
}
