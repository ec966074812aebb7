// Time to first token that `POST /api/v1/text-chat` adds over asking the model server directly
// with the openai SDK. The local model waits a fixed FIRST_TOKEN_MS before its first chunk, so the
// difference is the service: auth, consent, rate limits and the stream-slot/quota lease in Redis,
// storing the question and the answer row, the request log, and the SSE framing. Interleaved,
// one request at a time, each a new conversation (a user's first question).
import { sql } from 'drizzle-orm';
import OpenAI from 'openai';
import {
  chatStream,
  log,
  machineFacts,
  median,
  ms,
  percentile,
  QUICK,
  ratio,
  round,
  startStack,
} from './support.js';

export const FIRST_TOKEN_MS = 50;
const N = QUICK ? 50 : 60;

export type TtftResult = {
  n: number;
  firstTokenDelayMs: number;
  direct: { p50: number; p90: number };
  service: { p50: number; p90: number; metaP50: number };
  /** One `SELECT 1` through the service's pool (Neon driver, WebSocket proxy), and one Redis PING. */
  roundTrip: { dbP50: number; redisP50: number };
};

export async function ttft(): Promise<TtftResult> {
  const s = await startStack({ mock: { firstTokenDelayMs: FIRST_TOKEN_MS } });
  try {
    const u = await s.user('ttft-user');
    const client = new OpenAI({ baseURL: s.mock.baseURL, apiKey: 'bench', maxRetries: 0 });
    const direct = async (): Promise<number> => {
      const t = performance.now();
      let first = Number.NaN;
      const stream = await client.chat.completions.create({
        model: 'mock-chat',
        stream: true,
        stream_options: { include_usage: true },
        messages: [
          { role: 'system', content: '你是一个谨慎的健康助手。' },
          { role: 'user', content: '最近睡眠不好怎么办？' },
        ],
      });
      for await (const chunk of stream) {
        if (Number.isNaN(first) && chunk.choices[0]?.delta?.content) first = performance.now() - t;
      }
      return first;
    };
    const viaService = async () => {
      const r = await chatStream(s.base, u.token, { content: '最近睡眠不好怎么办？' });
      if (r.status !== 200 || r.events.at(-1)?.event !== 'done')
        throw new Error(`text-chat: ${r.status} ${r.text.slice(0, 200)} ${r.events.at(-1)?.event}`);
      return r;
    };
    for (let i = 0; i < 5; i++) {
      await direct();
      await viaService();
    }
    const d: number[] = [];
    const sv: number[] = [];
    const meta: number[] = [];
    for (let i = 0; i < N; i++) {
      d.push(await direct());
      const r = await viaService();
      sv.push(r.ttftMs);
      meta.push(r.metaMs);
    }
    const db = await s.service.rt.db();
    const dbRtt: number[] = [];
    const redisRtt: number[] = [];
    for (let i = 0; i < 40; i++) {
      let t = performance.now();
      await db.execute(sql`select 1`);
      dbRtt.push(performance.now() - t);
      t = performance.now();
      await s.redis.ping();
      redisRtt.push(performance.now() - t);
    }
    return {
      n: N,
      firstTokenDelayMs: FIRST_TOKEN_MS,
      direct: { p50: round(median(d), 2), p90: round(percentile(d, 90), 2) },
      service: {
        p50: round(median(sv), 2),
        p90: round(percentile(sv, 90), 2),
        metaP50: round(median(meta), 2),
      },
      roundTrip: { dbP50: round(median(dbRtt), 2), redisP50: round(median(redisRtt), 2) },
    };
  } finally {
    await s.close();
  }
}

export function ttftLines(r: TtftResult): string[] {
  return [
    `| path | first token p50 | p90 |`,
    `| --- | --- | --- |`,
    `| openai SDK → model server | ${ms(r.direct.p50)} | ${ms(r.direct.p90)} |`,
    `| POST /api/v1/text-chat → model server | ${ms(r.service.p50)} | ${ms(r.service.p90)} |`,
    '',
    `${r.n} requests each, interleaved, model first-token delay ${r.firstTokenDelayMs} ms. ` +
      `The service adds **${ms(r.service.p50 - r.direct.p50)}** at the median ` +
      `(${ratio(r.service.p50, r.direct.p50)} the direct time); its \`meta\` event arrives after ` +
      `${ms(r.service.metaP50)} (median), before the model is asked. For scale, in the same run one ` +
      `database round trip (\`select 1\` through the Neon driver and the WebSocket proxy) took ` +
      `${ms(r.roundTrip.dbP50)} and one Redis PING ${ms(r.roundTrip.redisP50)} (medians).`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  log(`machine: ${JSON.stringify(machineFacts())}`);
  for (const l of ttftLines(await ttft())) log(l);
  process.exit(0);
}
