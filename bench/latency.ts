// The service far from its database and Redis: the same stack as the other benchmarks, with a TCP
// proxy (bench/latency-proxy.ts) in front of PostgreSQL and of Redis that adds 0, then 10 ms each
// way (a 20 ms round trip, about Vercel hkg1 to Neon/Upstash in Singapore). For each distance:
//   - round trips per request, counted at the proxies: for a chat those started before `meta`
//     arrived and before the first token; for GET /conversations those before the answer;
//   - the first token's time over the model's own (asked directly with the openai SDK,
//     interleaved);
//   - an authenticated read (GET /api/v1/conversations, a page of 20) end to end.
// Work the service does after its answer (the request-log row) is waited for between requests and
// counted apart. Run alone: `npm run bench -- latency`.
import OpenAI from 'openai';
import { startLatencyProxy } from './latency-proxy.js';
import {
  chatStream,
  log,
  machineFacts,
  median,
  ms,
  PG_HOST,
  QUICK,
  REDIS_URL,
  request,
  round,
  startStack,
  table,
} from './support.js';

const FIRST_TOKEN_MS = 50;
const ONE_WAY_MS = [0, 10];
const CHATS = QUICK ? 8 : 15;
const READS = QUICK ? 15 : 30;
const CONVERSATIONS = 20;

type Turns = { pg: number; redis: number };
export type LatencyRow = {
  rttMs: number;
  read: { p50: number; turns: Turns; after: Turns };
  chat: {
    metaP50: number;
    ttftP50: number;
    modelP50: number;
    overheadP50: number;
    beforeMeta: Turns;
    beforeFirstToken: Turns;
    after: Turns;
  };
};
export type LatencyResult = { rows: LatencyRow[]; chats: number; reads: number };

const medianTurns = (xs: Turns[]): Turns => ({
  pg: median(xs.map((x) => x.pg)),
  redis: median(xs.map((x) => x.redis)),
});

export async function latency(): Promise<LatencyResult> {
  const redisTarget = new URL(REDIS_URL);
  const pgProxy = await startLatencyProxy(PG_HOST);
  const redisProxy = await startLatencyProxy(`${redisTarget.hostname}:${redisTarget.port || 6379}`);
  const s = await startStack({
    mock: { firstTokenDelayMs: FIRST_TOKEN_MS },
    via: { pg: pgProxy.address, redis: redisProxy.address },
  });
  const turns = (): Turns => ({ pg: pgProxy.turns(), redis: redisProxy.turns() });
  const since = (a: Turns): Turns => {
    const b = turns();
    return { pg: b.pg - a.pg, redis: b.redis - a.redis };
  };
  try {
    const u = await s.user('latency-user');
    for (let i = 0; i < CONVERSATIONS; i++) {
      await request(`${s.base}/api/v1/conversations`, {
        method: 'POST',
        token: u.token,
        body: { title: `对话 ${i}` },
      });
    }
    const model = new OpenAI({ baseURL: s.mock.baseURL, apiKey: 'bench', maxRetries: 0 });
    const direct = async (): Promise<number> => {
      const t = performance.now();
      let first = Number.NaN;
      const stream = await model.chat.completions.create({
        model: 'mock-chat',
        stream: true,
        messages: [{ role: 'user', content: '最近睡眠不好怎么办？' }],
      });
      for await (const chunk of stream) {
        if (Number.isNaN(first) && chunk.choices[0]?.delta?.content) first = performance.now() - t;
      }
      return first;
    };
    const read = async () => {
      const at = turns();
      const t = performance.now();
      const r = await request(`${s.base}/api/v1/conversations`, { token: u.token });
      const took = performance.now() - t;
      const before = since(at);
      if (r.status !== 200) throw new Error(`GET /conversations: ${r.status} ${r.text.slice(0, 200)}`);
      await s.service.rt.settled();
      const all = since(at);
      return { took, before, after: { pg: all.pg - before.pg, redis: all.redis - before.redis } };
    };
    const chat = async () => {
      const at = turns();
      let meta: Turns | undefined;
      let first: Turns | undefined;
      const r = await chatStream(
        s.base,
        u.token,
        { content: '最近睡眠不好怎么办？' },
        {
          onEvent: (e) => {
            if (e === 'meta') meta ??= since(at);
            if (e === 'delta') first ??= since(at);
          },
        },
      );
      if (r.status !== 200 || r.events.at(-1)?.event !== 'done' || !meta || !first)
        throw new Error(`text-chat: ${r.status} ${r.text.slice(0, 200)} ${r.events.at(-1)?.event}`);
      await s.service.rt.settled();
      return { r, meta, first, all: since(at) };
    };

    const rows: LatencyRow[] = [];
    for (const oneWay of ONE_WAY_MS) {
      pgProxy.setOneWayMs(oneWay);
      redisProxy.setOneWayMs(oneWay);
      for (let i = 0; i < 3; i++) {
        await read();
        await chat();
        await direct();
      }
      const reads: Awaited<ReturnType<typeof read>>[] = [];
      for (let i = 0; i < READS; i++) reads.push(await read());
      const chats: Awaited<ReturnType<typeof chat>>[] = [];
      const models: number[] = [];
      for (let i = 0; i < CHATS; i++) {
        models.push(await direct());
        chats.push(await chat());
      }
      const ttft = median(chats.map((c) => c.r.ttftMs));
      const modelP50 = median(models);
      const beforeFirst = medianTurns(chats.map((c) => c.first));
      const all = medianTurns(chats.map((c) => c.all));
      rows.push({
        rttMs: oneWay * 2,
        read: {
          p50: round(median(reads.map((x) => x.took)), 1),
          turns: medianTurns(reads.map((x) => x.before)),
          after: medianTurns(reads.map((x) => x.after)),
        },
        chat: {
          metaP50: round(median(chats.map((c) => c.r.metaMs)), 1),
          ttftP50: round(ttft, 1),
          modelP50: round(modelP50, 1),
          overheadP50: round(ttft - modelP50, 1),
          beforeMeta: medianTurns(chats.map((c) => c.meta)),
          beforeFirstToken: beforeFirst,
          after: { pg: all.pg - beforeFirst.pg, redis: all.redis - beforeFirst.redis },
        },
      });
    }
    return { rows, chats: CHATS, reads: READS };
  } finally {
    await s.close();
    await pgProxy.close();
    await redisProxy.close();
  }
}

const t = (x: Turns) => `${x.pg} / ${x.redis}`;

export function latencyLines(r: LatencyResult): string[] {
  return [
    table(
      [
        'round trip',
        'GET /conversations p50',
        'its round trips (db / Redis)',
        'after the answer',
        'chat: round trips before `meta`',
        'before first token',
        'after first token',
        '`meta` p50',
        'first token p50',
        'model alone p50',
        'first token over the model’s',
      ],
      r.rows.map((x) => [
        `${x.rttMs} ms`,
        ms(x.read.p50),
        t(x.read.turns),
        t(x.read.after),
        t(x.chat.beforeMeta),
        t(x.chat.beforeFirstToken),
        t(x.chat.after),
        ms(x.chat.metaP50),
        ms(x.chat.ttftP50),
        ms(x.chat.modelP50),
        ms(x.chat.overheadP50),
      ]),
    ),
    '',
    `Medians of ${r.reads} reads and ${r.chats} chats (a new conversation each) per distance, ` +
      `sequential; the model stand-in waits ${FIRST_TOKEN_MS} ms before its first chunk. Round trips ` +
      `are counted at the proxies (a turn of a connection: the service sends after the server last ` +
      `spoke); "after" is work the service does once it has answered (the request-log row, the ` +
      `stored answer), waited for before the next request.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  log(`machine: ${JSON.stringify(machineFacts())}`);
  for (const l of latencyLines(await latency())) log(l);
  process.exit(0);
}
