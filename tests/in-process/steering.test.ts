// Steering an answer, in process on an embedded database: versions of a regenerated answer (the
// supersede service the regenerate flow calls, the versions route, lists and the model's history),
// feedback (routes, admin list, export, account deletion), costs and the usage report, and the
// configuration of fallbacks and prices.
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Message as ApiMessage,
  Feedback,
  FeedbackLogEntry,
  MessageVersions,
  Page,
  UsageReportRow,
  UserExport,
} from '../../client/index.js';
import { historyWindow } from '../../lib/chat/history.js';
import { readTurnStart } from '../../lib/chat/start.js';
import { ConfigError, loadConfig } from '../../lib/config/index.js';
import { finishAnswer, insertMessage, WRITING_MAX_MS } from '../../lib/conversations/messages.js';
import { insertConversation } from '../../lib/conversations/service.js';
import { supersedeAnswer } from '../../lib/conversations/versions.js';
import { type Message, messageFeedback, messages } from '../../lib/db/schema.js';
import { costCny } from '../../lib/llm/prices.js';
import { createHarness, type Harness, testEnv } from '../helpers/harness.js';
import { startTestStorage, type TestStorage } from '../helpers/storage.js';

type U = { token: string; userId: string };

let s3: TestStorage;
let h: Harness;
beforeAll(async () => {
  s3 = await startTestStorage();
  h = await createHarness({ env: { ...s3.env, ADMIN_OPENIDS: 'dev:steer-admin' } });
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
});

const db = () => h.db.db;
let clock = Date.parse('2026-12-01T08:00:00.000Z');
const tick = () => {
  clock += 1_000;
  return new Date(clock);
};

/** A question and its finished answer, as the chat engine stores them. */
async function turn(
  u: U,
  conversationId: string,
  q: string,
  a: string,
  o: { imageIds?: string[]; model?: string; usage?: { promptTokens: number; completionTokens: number } } = {},
): Promise<{ question: Message; answer: Message }> {
  const question = await insertMessage(db(), u.userId, conversationId, {
    role: 'user',
    content: q,
    status: 'complete',
    imageIds: o.imageIds ?? [],
    createdAt: tick(),
  });
  const row = await insertMessage(db(), u.userId, conversationId, {
    role: 'assistant',
    content: '',
    status: 'streaming',
    aiGenerated: true,
    createdAt: tick(),
  });
  const answer = await finishAnswer(db(), u.userId, row.id, {
    content: a,
    status: 'complete',
    aiGenerated: true,
    finishReason: 'stop',
    errorCode: null,
    usage: o.usage ?? { promptTokens: 10, completionTokens: 20 },
    model: o.model ?? 'qwen-plus',
    now: tick(),
  });
  if (!answer) throw new Error('answer not stored');
  return { question, answer };
}

const conversation = async (u: U) => (await insertConversation(db(), u.userId, { now: tick() })).id;

const supersede = (u: U, conversationId: string, messageId: string, now = tick()) =>
  db().transaction((tx) => supersedeAnswer(tx, u.userId, conversationId, messageId, { now }));

/** What the regenerate flow does with supersede's answer: a new answer row as the next version. */
async function regenerate(u: U, conversationId: string, messageId: string, text: string): Promise<Message> {
  return db().transaction(async (tx) => {
    const s = await supersedeAnswer(tx, u.userId, conversationId, messageId, { now: tick() });
    return insertMessage(tx, u.userId, conversationId, {
      role: 'assistant',
      content: text,
      status: 'complete',
      aiGenerated: true,
      ...s.next,
      createdAt: tick(),
    });
  });
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe('answer versions', () => {
  let alice: U;
  let bob: U;
  beforeAll(async () => {
    alice = await h.login('steer-alice');
    bob = await h.login('steer-bob');
  });

  it('supersedeAnswer: only the last answer (409), never a question (422), nobody else’s (404)', async () => {
    const c = await conversation(alice);
    const first = await turn(alice, c, '头疼怎么办', '第一次回答');
    const second = await turn(alice, c, '还有发烧', '第二次回答', { imageIds: ['img-1'] });

    expect(await codeOf(supersede(alice, c, first.answer.id))).toBe('CONFLICT');
    expect(await codeOf(supersede(alice, c, second.question.id))).toBe('UNPROCESSABLE');
    expect(await codeOf(supersede(bob, c, second.answer.id))).toBe('NOT_FOUND');
    expect(await codeOf(supersede(alice, c, 'no-such-message'))).toBe('NOT_FOUND');
    const other = await conversation(alice);
    expect(await codeOf(supersede(alice, other, second.answer.id))).toBe('NOT_FOUND');
    // Nothing was marked by the refusals.
    const [still] = await db().select().from(messages).where(eq(messages.id, second.answer.id));
    expect(still?.supersededAt).toBeNull();

    const s = await supersede(alice, c, second.answer.id);
    expect(s.question).toMatchObject({ id: second.question.id, content: '还有发烧', imageIds: ['img-1'] });
    expect(s.previous.id).toBe(second.answer.id);
    expect(s.previous.supersededAt).toBeInstanceOf(Date);
    expect(s.next).toEqual({ version: 2, versionOf: second.answer.id });
    // Once superseded it is no longer the current answer.
    expect(await codeOf(supersede(alice, c, second.answer.id))).toBe('CONFLICT');
  });

  it('an answer still being written is refused; one left behind by a crash is not', async () => {
    const c = await conversation(alice);
    await insertMessage(db(), alice.userId, c, {
      role: 'user',
      content: '问题',
      status: 'complete',
      createdAt: tick(),
    });
    const streaming = await insertMessage(db(), alice.userId, c, {
      role: 'assistant',
      content: '',
      status: 'streaming',
      aiGenerated: true,
      createdAt: new Date(clock),
    });
    expect(await codeOf(supersede(alice, c, streaming.id, new Date(clock + 5_000)))).toBe('CONFLICT');
    const s = await supersede(alice, c, streaming.id, new Date(clock + WRITING_MAX_MS + 1_000));
    expect(s.next.version).toBe(2);
  });

  it('lists and the model’s history show the current version; …/versions shows them all, oldest first', async () => {
    const c = await conversation(alice);
    const first = await turn(alice, c, '第一问', '第一答');
    const second = await turn(alice, c, '第二问', '旧的回答');
    const v2 = await regenerate(alice, c, second.answer.id, '第二版回答');
    const v3 = await regenerate(alice, c, v2.id, '第三版回答');
    expect([v2.version, v2.versionOf, v3.version, v3.versionOf]).toEqual([
      2,
      second.answer.id,
      3,
      second.answer.id,
    ]);

    const list = await h.call<Page<ApiMessage>>('GET', `/conversations/${c}/messages`, {
      token: alice.token,
    });
    expect(list.status).toBe(200);
    expect(list.json.items.map((m) => m.id)).toEqual([
      first.question.id,
      first.answer.id,
      second.question.id,
      v3.id,
    ]);
    const [, a1, q2, a2] = list.json.items;
    expect(a1).toMatchObject({ version: 1, versions: 1, feedback: null });
    expect(a2).toMatchObject({ content: '第三版回答', version: 3, versions: 3, feedback: null });
    // Questions carry no version fields.
    expect(q2?.version).toBeUndefined();
    expect(q2?.feedback).toBeUndefined();

    const claims = { sub: alice.userId, sid: String(decodeJwt(alice.token).sid) };
    const read = (beforeSeq?: number) =>
      readTurnStart(
        db(),
        claims,
        { conversationId: c, historyMax: 100, historyBeforeSeq: beforeSeq },
        new Date(),
      );
    const history = historyWindow((await read()).history, 3_000);
    expect(history.map((m) => m.content)).toEqual(['第一问', '第一答', '第二问', '第三版回答']);
    // What a regeneration of the last answer sends: the history before its question.
    const before = (await read(second.question.seq)).history;
    expect(historyWindow(before, 3_000).map((m) => m.content)).toEqual(['第一问', '第一答']);

    for (const id of [second.answer.id, v2.id, v3.id]) {
      const r = await h.call<MessageVersions>('GET', `/conversations/${c}/messages/${id}/versions`, {
        token: alice.token,
      });
      expect(r.status).toBe(200);
      expect(r.json.items.map((m) => [m.id, m.content, m.version, m.versions])).toEqual([
        [second.answer.id, '旧的回答', 1, 3],
        [v2.id, '第二版回答', 2, 3],
        [v3.id, '第三版回答', 3, 3],
      ]);
    }
    const single = await h.call<MessageVersions>(
      'GET',
      `/conversations/${c}/messages/${first.answer.id}/versions`,
      {
        token: alice.token,
      },
    );
    expect(single.json.items.map((m) => m.id)).toEqual([first.answer.id]);

    const question = await h.call<MessageVersions>(
      'GET',
      `/conversations/${c}/messages/${first.question.id}/versions`,
      {
        token: alice.token,
      },
    );
    expect(question.status).toBe(422);
    expect(
      (
        await h.call<MessageVersions>('GET', `/conversations/${c}/messages/${v3.id}/versions`, {
          token: bob.token,
        })
      ).status,
    ).toBe(404);
    expect(
      (await h.call('GET', `/conversations/${c}/messages/nope/versions`, { token: alice.token })).status,
    ).toBe(404);
    expect(
      (await h.call<MessageVersions>('GET', `/conversations/${c}/messages/${v3.id}/versions`)).status,
    ).toBe(401);
  });
});

describe('feedback', () => {
  let alice: U;
  let bob: U;
  let admin: U;
  let c: string;
  let t: { question: Message; answer: Message };
  beforeAll(async () => {
    alice = await h.login('fb-alice');
    bob = await h.login('fb-bob');
    admin = await h.login('steer-admin');
    c = await conversation(alice);
    t = await turn(alice, c, '孩子咳嗽三天了', '这是一段不该出现在管理员列表里的回答', {
      model: 'deepseek-chat',
    });
  });
  const path = () => `/conversations/${c}/messages/${t.answer.id}/feedback`;

  it('rates, replaces and removes; shown on the message and its versions', async () => {
    const up = await h.call<Feedback>('PUT', path(), { token: alice.token, body: { rating: 'up' } });
    expect(up.status).toBe(200);
    expect(up.json).toEqual({ rating: 'up', reason: null, comment: null, updatedAt: expect.any(String) });
    const listed = await h.call<Page<ApiMessage>>('GET', `/conversations/${c}/messages`, {
      token: alice.token,
    });
    expect(listed.json.items.at(-1)?.feedback).toEqual({ rating: 'up', reason: null });

    const down = await h.call<Feedback>('PUT', path(), {
      token: alice.token,
      body: { rating: 'down', reason: 'inaccurate', comment: '  剂量说错了  ' },
    });
    expect(down.json).toMatchObject({ rating: 'down', reason: 'inaccurate', comment: '剂量说错了' });
    const versions = await h.call<MessageVersions>(
      'GET',
      `/conversations/${c}/messages/${t.answer.id}/versions`,
      {
        token: alice.token,
      },
    );
    expect(versions.json.items[0]?.feedback).toEqual({ rating: 'down', reason: 'inaccurate' });
    const rows = await db().select().from(messageFeedback).where(eq(messageFeedback.messageId, t.answer.id));
    expect(rows).toHaveLength(1);

    expect((await h.call('DELETE', path(), { token: alice.token })).status).toBe(204);
    const after = await h.call<Page<ApiMessage>>('GET', `/conversations/${c}/messages`, {
      token: alice.token,
    });
    expect(after.json.items.at(-1)?.feedback).toBeNull();
    // Removing what is not there is still done.
    expect((await h.call('DELETE', path(), { token: alice.token })).status).toBe(204);
  });

  it('refuses bad input (400), questions (422), other users’ answers (404)', async () => {
    for (const body of [
      { rating: 'meh' },
      { rating: 'down', reason: 'boring' },
      { rating: 'up', comment: 'x'.repeat(501) },
      { reason: 'other' },
      { rating: 'up', extra: 1 },
    ]) {
      const r = await h.call('PUT', path(), { token: alice.token, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect(
      (await h.call('PUT', path(), { token: alice.token, body: { rating: 'up', comment: 'x'.repeat(500) } }))
        .status,
    ).toBe(200);
    const q = `/conversations/${c}/messages/${t.question.id}/feedback`;
    expect((await h.call('PUT', q, { token: alice.token, body: { rating: 'up' } })).status).toBe(422);
    expect((await h.call('DELETE', q, { token: alice.token })).status).toBe(422);
    expect((await h.call('PUT', path(), { token: bob.token, body: { rating: 'down' } })).status).toBe(404);
    expect((await h.call('DELETE', path(), { token: bob.token })).status).toBe(404);
    expect((await h.call('PUT', path(), { body: { rating: 'down' } })).status).toBe(401);
    // Bob's attempts left Alice's rating alone.
    const [row] = await db().select().from(messageFeedback).where(eq(messageFeedback.messageId, t.answer.id));
    expect(row).toMatchObject({ userId: alice.userId, rating: 'up' });
  });

  it('admins list ratings without conversation text, filtered and paged', async () => {
    const c2 = await conversation(bob);
    const b = await turn(bob, c2, '问题二', '回答二', { model: 'qwen-plus' });
    await h.call('PUT', `/conversations/${c2}/messages/${b.answer.id}/feedback`, {
      token: bob.token,
      body: { rating: 'down', reason: 'unsafe' },
    });
    await h.call('PUT', path(), {
      token: alice.token,
      body: { rating: 'up', reason: 'other', comment: '很有帮助' },
    });

    expect(
      (await h.call<Page<FeedbackLogEntry>>('GET', '/logs/feedback', { token: alice.token })).status,
    ).toBe(403);
    const all = await h.call<Page<FeedbackLogEntry>>('GET', '/logs/feedback', { token: admin.token });
    expect(all.status).toBe(200);
    const mine = all.json.items.filter((i) => [t.answer.id, b.answer.id].includes(i.messageId));
    // Newest first: Alice's rating was given last.
    expect(mine).toEqual([
      {
        messageId: t.answer.id,
        rating: 'up',
        reason: 'other',
        comment: '很有帮助',
        model: 'deepseek-chat',
        createdAt: expect.any(String),
      },
      {
        messageId: b.answer.id,
        rating: 'down',
        reason: 'unsafe',
        comment: null,
        model: 'qwen-plus',
        createdAt: expect.any(String),
      },
    ]);
    expect(all.text).not.toContain('不该出现');
    expect(all.text).not.toContain('孩子咳嗽');

    const downs = await h.call<Page<FeedbackLogEntry>>('GET', '/logs/feedback?rating=down', {
      token: admin.token,
    });
    expect(downs.json.items.every((i) => i.rating === 'down')).toBe(true);
    expect(downs.json.items.map((i) => i.messageId)).toContain(b.answer.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const r = await h.call<Page<FeedbackLogEntry>>('GET', `/logs/feedback?limit=1${q}`, {
        token: admin.token,
      });
      expect(r.json.items.length).toBeLessThanOrEqual(1);
      seen.push(...r.json.items.map((i) => i.messageId));
      cursor = r.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.json.items.map((i) => i.messageId));

    const future = await h.call<Page<FeedbackLogEntry>>(
      'GET',
      `/logs/feedback?since=${encodeURIComponent('2999-01-01T00:00:00Z')}`,
      {
        token: admin.token,
      },
    );
    expect(future.json.items).toEqual([]);
    expect(
      (await h.call<Page<FeedbackLogEntry>>('GET', '/logs/feedback?rating=meh', { token: admin.token }))
        .status,
    ).toBe(400);
    expect(
      (await h.call<Page<FeedbackLogEntry>>('GET', '/logs/feedback?cursor=garbage', { token: admin.token }))
        .status,
    ).toBe(400);
  });

  it('is in the export and goes with the account', async () => {
    const u = await h.login('fb-leaver');
    const c3 = await conversation(u);
    const x = await turn(u, c3, '问题', '回答');
    await h.call('PUT', `/conversations/${c3}/messages/${x.answer.id}/feedback`, {
      token: u.token,
      body: { rating: 'down', reason: 'unhelpful', comment: '没用' },
    });
    const exp = await h.call<UserExport>('GET', '/users/me/export', { token: u.token });
    expect(exp.status).toBe(200);
    expect(exp.json.feedback).toEqual([
      {
        messageId: x.answer.id,
        rating: 'down',
        reason: 'unhelpful',
        comment: '没用',
        createdAt: expect.any(String),
      },
    ]);
    expect(exp.json.messages.find((m) => m.id === x.answer.id)).toMatchObject({
      version: 1,
      superseded: false,
    });

    const count = async () =>
      (await db().select().from(messageFeedback).where(eq(messageFeedback.userId, u.userId))).length;
    expect(await count()).toBe(1);
    expect((await h.call('DELETE', '/users/me', { token: u.token })).status).toBe(204);
    expect(await count()).toBe(0);
  });
});

describe('costs and the usage report', () => {
  it('costs each answer at MODEL_PRICES; unknown models cost 0', () => {
    const prices = { 'qwen-plus': { input: 0.8, output: 2 }, 'deepseek-chat': { input: 2, output: 8 } };
    expect(costCny(prices, 'qwen-plus', { promptTokens: 1_000_000, completionTokens: 500_000 })).toBe(1.8);
    expect(costCny(prices, 'deepseek-chat', { promptTokens: 1234, completionTokens: 567 })).toBe(0.007004);
    expect(costCny(prices, 'mystery', { promptTokens: 1_000_000, completionTokens: 1 })).toBe(0);
    expect(costCny(prices, null, { promptTokens: 10, completionTokens: 1 })).toBe(0);
  });

  it('sums per day (Asia/Shanghai) and per model equal the stored answers', async () => {
    const prices = { 'qwen-plus': { input: 0.8, output: 2 }, 'deepseek-chat': { input: 2, output: 8 } };
    const u = await h.login('usage-user');
    const admin = await h.login('steer-admin');
    const c = await conversation(u);
    // 2030-03-01T17:30Z is already 2 March in Shanghai, 2030-03-02T16:30Z already 3 March.
    const at = [
      '2030-03-01T10:00:00Z',
      '2030-03-01T17:30:00Z',
      '2030-03-02T03:00:00Z',
      '2030-03-02T16:30:00Z',
    ];
    const models = ['qwen-plus', 'deepseek-chat', 'qwen-plus', 'mystery'];
    for (const [i, iso] of at.entries()) {
      const row = await insertMessage(db(), u.userId, c, {
        role: 'assistant',
        content: '',
        status: 'streaming',
        createdAt: new Date(iso),
      });
      await finishAnswer(db(), u.userId, row.id, {
        content: '回答',
        status: 'complete',
        aiGenerated: true,
        finishReason: 'stop',
        errorCode: null,
        usage: { promptTokens: 1000 * (i + 1) + 7, completionTokens: 333 * (i + 1) },
        model: models[i] ?? null,
        prices,
        now: new Date(iso),
      });
    }
    const stored = await db()
      .select({
        requests: sql<string>`count(*)`,
        prompt: sql<string>`sum(${messages.promptTokens})`,
        completion: sql<string>`sum(${messages.completionTokens})`,
        cost: sql<string>`sum(${messages.costCny})`,
      })
      .from(messages)
      .where(and(eq(messages.conversationId, c), isNotNull(messages.promptTokens)));
    const total = stored[0];
    if (!total) throw new Error('no sums');
    // The stored costs are the prices applied, each rounded to 6 decimals as stored:
    // 1007×0.8+333×2 → 0.001472, 2007×2+666×8 → 0.009342, 3007×0.8+999×2 → 0.004404, unknown → 0.
    expect(Number(total.cost)).toBeCloseTo(0.001472 + 0.009342 + 0.004404, 9);

    const range = `since=${encodeURIComponent('2030-03-01T00:00:00Z')}&until=${encodeURIComponent('2030-03-03T00:00:00Z')}`;
    expect(
      (await h.call<{ items: UsageReportRow[] }>('GET', `/logs/usage?${range}`, { token: u.token })).status,
    ).toBe(403);
    const byDay = await h.call<{ items: UsageReportRow[] }>('GET', `/logs/usage?${range}&groupBy=day`, {
      token: admin.token,
    });
    expect(byDay.status).toBe(200);
    expect(byDay.json.items.map((r) => [r.day, r.requests])).toEqual([
      ['2030-03-01', 1],
      ['2030-03-02', 2],
      ['2030-03-03', 1],
    ]);
    const byModel = await h.call<{ items: UsageReportRow[] }>('GET', `/logs/usage?${range}&groupBy=model`, {
      token: admin.token,
    });
    expect(byModel.json.items.map((r) => [r.model, r.requests])).toEqual([
      ['deepseek-chat', 1],
      ['mystery', 1],
      ['qwen-plus', 2],
    ]);
    expect(byModel.json.items.find((r) => r.model === 'mystery')?.costCny).toBe(0);
    for (const report of [byDay.json.items, byModel.json.items]) {
      const sum = (k: 'requests' | 'promptTokens' | 'completionTokens' | 'costCny') =>
        report.reduce((n, r) => n + r[k], 0);
      expect(sum('requests')).toBe(Number(total.requests));
      expect(sum('promptTokens')).toBe(Number(total.prompt));
      expect(sum('completionTokens')).toBe(Number(total.completion));
      expect(sum('costCny')).toBeCloseTo(Number(total.cost), 9);
    }
    expect((await h.call('GET', '/logs/usage?groupBy=week', { token: admin.token })).status).toBe(400);
  });
});

describe('configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(testEnv(env));
      return '';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).message;
    }
  };

  it('reads LLM_FALLBACKS and MODEL_PRICES; unset means none', () => {
    const c = loadConfig(
      testEnv({
        LLM_FALLBACKS: JSON.stringify([
          { baseURL: 'https://api.deepseek.com/v1', apiKey: 'k', model: 'deepseek-chat' },
          {
            baseURL: 'https://open.bigmodel.cn/api/paas/v4',
            apiKey: 'k2',
            model: 'glm-4-flash',
            visionModel: 'glm-4v-flash',
          },
        ]),
        MODEL_PRICES: JSON.stringify({ 'qwen-plus': { input: 0.8, output: 2 } }),
      }),
    );
    expect(c.LLM_FALLBACKS.map((f) => f.visionModel)).toEqual([undefined, 'glm-4v-flash']);
    expect(c.MODEL_PRICES).toEqual({ 'qwen-plus': { input: 0.8, output: 2 } });
    const none = loadConfig(testEnv({ LLM_FALLBACKS: '', MODEL_PRICES: '' }));
    expect([none.LLM_FALLBACKS, none.MODEL_PRICES]).toEqual([[], {}]);
  });

  it('a malformed value is a startup error naming the variable', () => {
    for (const bad of [
      'not json',
      '{}',
      '[{"baseURL":"ftp://x","apiKey":"k","model":"m"}]',
      '[{"baseURL":"https://x"}]',
    ]) {
      expect(problems({ LLM_FALLBACKS: bad }), bad).toContain('LLM_FALLBACKS');
    }
    for (const bad of [
      'nope',
      '[]',
      '{"m":{"input":-1,"output":1}}',
      '{"m":{"input":"1","output":1}}',
      '{"m":{"input":1}}',
    ]) {
      expect(problems({ MODEL_PRICES: bad }), bad).toContain('MODEL_PRICES');
    }
  });
});
