// How soon a resumed stream on another instance shows what the writer wrote. Two services on the
// same PostgreSQL and Redis: the answer is asked on A and followed on A (in process, the first
// client) and on B (through the answer bus, as a client resuming after its connection dropped).
// For every offset A's stream reached, the delay is when B's stream reached it minus when A's did.
import { createSseParser } from '../client/sse.js';
import { log, median, ms, percentile, QUICK, round, startService, startStack } from './support.js';

const ANSWERS = QUICK ? 8 : 20;
const CHUNKS = 40;
const CHUNK_DELAY_MS = 40;

export type ResumeResult = {
  answers: number;
  samples: number;
  delay: { p50: number; p90: number; p99: number; max: number };
  joinedEqual: number;
};

type Point = { offset: number; at: number };

/** Reads an SSE response, noting when each event's offset (its id) arrived. */
async function timeline(res: Response): Promise<{ points: Point[]; text: string; last: string }> {
  const parser = createSseParser();
  const points: Point[] = [];
  let text = '';
  let last = '';
  if (!res.body) throw new Error(`no body (${res.status})`);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const at = performance.now();
    for (const e of parser.feed(value)) {
      last = e.event;
      if (e.event === 'delta') text += (JSON.parse(e.data) as { text: string }).text;
      if (e.id !== undefined) points.push({ offset: Number(e.id), at });
    }
  }
  return { points, text, last };
}

export async function resumeDelay(): Promise<ResumeResult> {
  const reply = '按时服药，清淡饮食，注意观察体温变化。'.slice(0, 10);
  const s = await startStack({ mock: { chunkSize: reply.length, chunkDelayMs: CHUNK_DELAY_MS } });
  const b = await startService(s.service.config);
  try {
    const u = await s.user('resume-bench');
    const delays: number[] = [];
    let joinedEqual = 0;
    for (let i = 0; i < ANSWERS; i++) {
      s.mock.enqueue({ reply: reply.repeat(CHUNKS), chunkSize: reply.length, chunkDelayMs: CHUNK_DELAY_MS });
      const res = await fetch(`${s.base}/api/v1/text-chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: '感冒了吃什么好' }),
      });
      // meta first: its ids name the answer to follow on B.
      const reader = res.body?.getReader();
      if (!reader) throw new Error('no body');
      const parser = createSseParser();
      let meta: { conversationId: string; assistantMessageId: string } | undefined;
      const first: Point[] = [];
      let firstText = '';
      let followed: Promise<Awaited<ReturnType<typeof timeline>>> | undefined;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const at = performance.now();
        for (const e of parser.feed(value)) {
          if (e.event === 'meta' && !meta) {
            meta = JSON.parse(e.data);
            const url = `${b.server.url}/api/v1/conversations/${meta?.conversationId}/messages/${meta?.assistantMessageId}/stream?after=0`;
            followed = fetch(url, { headers: { authorization: `Bearer ${u.token}` } }).then(timeline);
          }
          if (e.event === 'delta') firstText += (JSON.parse(e.data) as { text: string }).text;
          if (e.id !== undefined && e.event !== 'meta') first.push({ offset: Number(e.id), at });
        }
      }
      if (!followed) throw new Error('no meta');
      const other = await followed;
      if (other.text === firstText && other.last === 'done') joinedEqual++;
      for (const p of first) {
        const seen = other.points.find((q) => q.offset >= p.offset);
        if (seen) delays.push(Math.max(0, seen.at - p.at));
      }
    }
    return {
      answers: ANSWERS,
      samples: delays.length,
      delay: {
        p50: median(delays),
        p90: percentile(delays, 90),
        p99: percentile(delays, 99),
        max: Math.max(...delays),
      },
      joinedEqual,
    };
  } finally {
    await b.close().catch(() => undefined);
    await s.close();
  }
}

export function resumeLines(r: ResumeResult): string[] {
  return [
    `${r.answers} answers of ${CHUNKS} chunks ${CHUNK_DELAY_MS} ms apart, each followed on the instance ` +
      `that writes it and, from offset 0, on a second instance (answer bus in Redis). ${r.samples} offsets ` +
      `compared: how much later the second instance's stream reached each offset.`,
    '',
    `| delay | p50 | p90 | p99 | max |`,
    `|---|---|---|---|---|`,
    `| resumed stream behind the writer's own | ${ms(r.delay.p50)} | ${ms(r.delay.p90)} | ${ms(r.delay.p99)} | ${ms(r.delay.max)} |`,
    '',
    `Text on both streams identical and ended with done: ${r.joinedEqual}/${r.answers}. The delay is ` +
      `bounded by the writer's batch interval (100 ms) plus the follower's poll interval (100 ms) plus ` +
      `two Redis round trips; ${round(r.delay.p50 / CHUNK_DELAY_MS, 1)} chunk intervals at the median.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await resumeDelay();
  for (const l of resumeLines(r)) log(l);
  process.exit(0);
}
