// Answers that survive the phone: two instances of the service on the same PostgreSQL and Redis
// (each its own runtime, connections and HTTP server). An answer started on one is resumed and
// stopped through the other; the client leaving never stops the writing; an explicit stop does.
// The same runs without Redis, where the row in PostgreSQL carries both.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message as ApiMessage, ChatMeta, ErrorEnvelope } from '../../client/index.js';
import { type MockLlm, startMockLlm } from '../../dev/mock-llm/index.js';
import type { LocalServer } from '../../dev/server.js';
import { type Message, messages } from '../../lib/db/schema.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { dataOf, type ReadEvent, readSse, textOf } from '../helpers/sse.js';

const REPLY = '先让孩子多喝水，观察精神状态和尿量。'.repeat(6);

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 8_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const mode of ['redis', 'postgres only'] as const) {
  describe(`an answer across two instances (${mode})`, () => {
    let mock: MockLlm;
    let a: Harness;
    let b: Harness;
    let sa: LocalServer;
    let sb: LocalServer;
    let user: { token: string; userId: string };
    let other: { token: string; userId: string };

    beforeAll(async () => {
      mock = await startMockLlm();
      const env = {
        OPENAI_BASE_URL: mock.baseURL,
        OPENAI_API_KEY: 'test',
        CHAT_MODEL: 'mock-chat',
        LLM_MAX_RETRIES: '0',
        ...(mode === 'redis'
          ? { REDIS_URL: 'redis://127.0.0.1:6379', RATE_LIMIT_PREFIX: `t${crypto.randomUUID().slice(0, 8)}:` }
          : {}),
      };
      a = await createHarness({ db: 'postgres', env });
      b = await createHarness({ sameDatabaseAs: a, env });
      sa = await a.listen();
      sb = await b.listen();
      user = await a.user('walker');
      other = await a.user('stranger');
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await mock?.close();
    });

    const ask = (server: LocalServer, content: string, signal?: AbortSignal) =>
      fetch(`${server.url}/api/v1/text-chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content }),
        ...(signal ? { signal } : {}),
      });
    const resume = (
      server: LocalServer,
      m: ChatMeta,
      after: number | null,
      token = user.token,
      header = false,
    ) =>
      fetch(
        `${server.url}/api/v1/conversations/${m.conversationId}/messages/${m.assistantMessageId}/stream${
          after !== null && !header ? `?after=${after}` : ''
        }`,
        {
          headers: {
            authorization: `Bearer ${token}`,
            ...(header && after !== null ? { 'last-event-id': String(after) } : {}),
          },
        },
      );
    const stop = (server: LocalServer, m: ChatMeta, token = user.token) =>
      fetch(`${server.url}/api/v1/conversations/${m.conversationId}/messages/${m.assistantMessageId}/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    const row = async (id: string): Promise<Message | undefined> => {
      const [r] = await a.db.db.select().from(messages).where(eq(messages.id, id));
      return r;
    };
    const finished = (id: string) =>
      until(async () => {
        const r = await row(id);
        return r && r.status !== 'streaming' ? r : undefined;
      });

    /** Reads two deltas, then goes away (as a mini-program sent to the background). */
    async function leaveEarly(): Promise<{
      meta: ChatMeta;
      had: string;
      offset: number;
      events: ReadEvent[];
    }> {
      const ac = new AbortController();
      const res = await ask(sa, '孩子发烧38度怎么办', ac.signal);
      let deltas = 0;
      const read = await readSse(res, (e) => {
        if (e.event === 'delta') deltas++;
        return deltas === 2;
      });
      ac.abort();
      const meta = dataOf(read.events[0], 'meta');
      return { meta, had: textOf(read), offset: Number(read.events.at(-1)?.id), events: read.events };
    }

    it('every event carries the answer offset as its id; meta is 0', async () => {
      mock.enqueue({ reply: REPLY, chunkSize: 7, chunkDelayMs: 5 });
      const read = await readSse(await ask(sa, '发烧怎么办'));
      expect(read.events[0]).toMatchObject({ event: 'meta', id: '0' });
      let text = '';
      for (const e of read.events.slice(1)) {
        if (e.event === 'delta') text += e.data.text;
        expect(Number(e.id)).toBe(text.length);
      }
      expect(text).toBe(REPLY);
    });

    it('a client that leaves does not stop the answer; it resumes on the other instance without gap or repeat', async () => {
      mock.enqueue({ reply: REPLY, chunkSize: 3, chunkDelayMs: 25 });
      const first = await leaveEarly();
      expect(first.offset).toBe(first.had.length);
      const rest = await readSse(await resume(sb, first.meta, first.offset));
      expect(rest.names[0]).toBe('meta');
      expect(rest.events[0]?.data).toEqual(first.meta);
      expect(rest.names.at(-1)).toBe('done');
      const stored = await finished(first.meta.assistantMessageId);
      expect(stored.status).toBe('complete');
      expect(first.had + textOf(rest)).toBe(stored.content);
      expect(stored.content).toBe(REPLY);
      expect(mock.requests.at(-1)?.aborted).toBe(false);
      // Last-Event-ID stands for ?after=, and a finished answer sends the rest at once.
      const again = await readSse(await resume(sa, first.meta, first.offset, user.token, true));
      expect(first.had + textOf(again)).toBe(REPLY);
      expect(again.names.at(-1)).toBe('done');
    });

    it('a stop through the other instance ends the writing within a second, keeping what was written', async () => {
      mock.enqueue({ reply: REPLY.repeat(20), chunkSize: 2, chunkDelayMs: 40 });
      const res = await ask(sa, '肚子有点胀');
      let gotMeta: (m: ChatMeta) => void = () => {};
      let flowing: () => void = () => {};
      const metaSeen = new Promise<ChatMeta>((r) => {
        gotMeta = r;
      });
      const textSeen = new Promise<void>((r) => {
        flowing = r;
      });
      let deltas = 0;
      const reading = readSse(res, (e) => {
        if (e.event === 'meta') gotMeta(e.data);
        if (e.event === 'delta' && ++deltas === 3) flowing();
        return false;
      });
      const meta = await metaSeen;
      await textSeen;
      const t0 = Date.now();
      const stopped = await stop(sb, meta);
      expect(stopped.status).toBe(200);
      const body: ApiMessage = await stopped.json();
      expect(Date.now() - t0).toBeLessThan(2_500);
      expect(body).toMatchObject({ status: 'incomplete', finishReason: 'stopped' });
      const read = await reading;
      expect(read.names.at(-1)).toBe('done');
      expect(dataOf(read.events.at(-1), 'done').finishReason).toBe('stopped');
      const stored = await finished(meta.assistantMessageId);
      expect(stored.content).toBe(textOf(read));
      expect(stored.content.length).toBeLessThan(REPLY.length * 20);
      expect(mock.requests.at(-1)?.aborted).toBe(true);
      // A finished answer is answered as it is.
      const twice = await stop(sb, meta);
      const again: ApiMessage = await twice.json();
      expect(again).toMatchObject({
        status: 'incomplete',
        finishReason: 'stopped',
        content: stored.content,
      });
    });

    it('refuses offsets past a finished answer, user messages, other users’ and unknown ids', async () => {
      mock.enqueue({ reply: '注意休息。' });
      const read = await readSse(await ask(sa, '头疼'));
      const meta = dataOf(read.events[0], 'meta');
      const past = await resume(sb, meta, 999);
      expect(past.status).toBe(400);
      const pastBody: ErrorEnvelope = await past.json();
      expect(pastBody.error.code).toBe('BAD_REQUEST');
      const asUser = { ...meta, assistantMessageId: meta.userMessageId };
      for (const [m, token] of [
        [asUser, user.token],
        [meta, other.token],
        [{ ...meta, assistantMessageId: 'nope' }, user.token],
      ] as const) {
        const r = await resume(sb, m, 0, token);
        expect(r.status).toBe(404);
        const refused: ErrorEnvelope = await r.json();
        expect(refused.error.code).toBe('NOT_FOUND');
        const s = await stop(sb, m, token);
        expect(s.status).toBe(404);
      }
      const whole = await readSse(await resume(sb, meta, 0));
      expect(textOf(whole)).toBe('注意休息。');
      expect(whole.names).toEqual(['meta', 'delta', 'done']);
    });
  });
}
