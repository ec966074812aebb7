// The conversations function, in process on an embedded database: CRUD, pagination, ownership.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, ErrorEnvelope, Message, Page } from '../../client/index.js';
import { insertMessage } from '../../lib/conversations/messages.js';
import { files, messages } from '../../lib/db/schema.js';
import type { Storage } from '../../lib/storage/types.js';
import { createHarness, type Harness } from '../helpers/harness.js';

type U = { token: string; userId: string };

describe('conversations', () => {
  let h: Harness;
  let alice: U;
  let bob: U;
  beforeAll(async () => {
    h = await createHarness();
    alice = await h.login('alice');
    bob = await h.login('bob');
  });
  afterAll(() => h.close());

  const create = async (u: U, title?: string) => {
    const r = await h.call<Conversation>('POST', '/conversations', {
      token: u.token,
      body: title ? { title } : {},
    });
    expect(r.status).toBe(201);
    return r.json;
  };

  it('creates, reads, renames and archives (no consent needed)', async () => {
    const c = await create(alice, '  头疼的问题  ');
    expect(c).toEqual({
      id: expect.any(String),
      memberId: null,
      title: '头疼的问题',
      archived: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      lastMessageAt: null,
    });
    const bare = await h.call<Conversation>('POST', '/conversations', { token: alice.token });
    expect(bare.status).toBe(201);
    expect(bare.json.title).toBe('新对话');

    expect(
      (await h.call<Conversation>('GET', `/conversations/${c.id}`, { token: alice.token })).json,
    ).toEqual(c);
    const renamed = await h.call<Conversation>('PATCH', `/conversations/${c.id}`, {
      token: alice.token,
      body: { title: '改名', archived: true },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id: c.id, title: '改名', archived: true });

    for (const body of [{}, { title: '' }, { archived: 'yes' }, { userId: bob.userId }]) {
      const bad = await h.call('PATCH', `/conversations/${c.id}`, { token: alice.token, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    expect((await h.call('POST', '/conversations', { token: alice.token, body: { id: 'x' } })).status).toBe(
      400,
    );
    expect((await h.call('GET', '/conversations')).status).toBe(401);
  });

  it('lists newest activity first, pages with an opaque cursor, clamps limit, filters archived', async () => {
    const u = await h.login('lister');
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await create(u, `c${i}`)).id);
    // A new message moves the oldest one to the top.
    const db = await h.rt.db();
    const { touchConversation } = await import('../../lib/conversations/service.js');
    await touchConversation(db, u.userId, made[0] as string, new Date(Date.now() + 60_000));
    await h.call('PATCH', `/conversations/${made[3]}`, { token: u.token, body: { archived: true } });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const r = await h.call<Page<Conversation>>('GET', `/conversations?limit=2${q}`, { token: u.token });
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.items.map((c) => c.id));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    const active = made.filter((id) => id !== made[3]);
    // made[0] first (touched), then the others newest first.
    expect(seen).toEqual([made[0], ...active.slice(1).reverse()]);
    expect(pages).toBe(3);

    const archived = await h.call<Page<Conversation>>('GET', '/conversations?archived=true', {
      token: u.token,
    });
    expect(archived.json.items.map((c) => c.id)).toEqual([made[3]]);
    expect(archived.json.nextCursor).toBeNull();

    const one = await h.call<Page<Conversation>>('GET', '/conversations?limit=0', { token: u.token });
    expect(one.json.items).toHaveLength(1);
    expect(one.json.nextCursor).toEqual(expect.any(String));
    const all = await h.call<Page<Conversation>>('GET', '/conversations?limit=1000', { token: u.token });
    expect(all.json.items).toHaveLength(6);
    expect(all.json.nextCursor).toBeNull();
    const def = await h.call<Page<Conversation>>('GET', '/conversations', { token: u.token });
    expect(def.json.items).toHaveLength(6);
    // Clamped, not refused: a fraction is truncated, a blank value is the default.
    const fraction = await h.call<Page<Conversation>>('GET', '/conversations?limit=1.5', { token: u.token });
    expect(fraction.status).toBe(200);
    expect(fraction.json.items).toHaveLength(1);
    const blank = await h.call<Page<Conversation>>('GET', '/conversations?limit=', { token: u.token });
    expect(blank.json.items).toHaveLength(6);

    for (const q of ['cursor=garbage', 'cursor=e30', 'limit=abc', 'archived=maybe']) {
      const bad = await h.call<ErrorEnvelope>('GET', `/conversations?${q}`, { token: u.token });
      expect(bad.status, q).toBe(400);
      expect(bad.json.error.code).toBe('BAD_REQUEST');
    }
    // Others see none of it.
    expect(
      (await h.call<Page<Conversation>>('GET', '/conversations', { token: bob.token })).json.items,
    ).toEqual([]);
  });

  it('pages messages: newest page first, each page oldest first, before-cursor to older pages', async () => {
    const c = await create(alice, 'messages');
    const db = await h.rt.db();
    for (let i = 0; i < 5; i++) {
      await insertMessage(db, alice.userId, c.id, {
        role: i % 2 ? 'assistant' : 'user',
        content: `m${i}`,
        status: 'complete',
        aiGenerated: i % 2 === 1,
        createdAt: new Date(),
      });
    }
    const p1 = await h.call<Page<Message>>('GET', `/conversations/${c.id}/messages?limit=2`, {
      token: alice.token,
    });
    expect(p1.json.items.map((m) => m.content)).toEqual(['m3', 'm4']);
    const p2 = await h.call<Page<Message>>(
      'GET',
      `/conversations/${c.id}/messages?limit=2&before=${p1.json.nextCursor}`,
      {
        token: alice.token,
      },
    );
    expect(p2.json.items.map((m) => m.content)).toEqual(['m1', 'm2']);
    const p3 = await h.call<Page<Message>>(
      'GET',
      `/conversations/${c.id}/messages?limit=2&before=${p2.json.nextCursor}`,
      {
        token: alice.token,
      },
    );
    expect(p3.json.items.map((m) => m.content)).toEqual(['m0']);
    expect(p3.json.nextCursor).toBeNull();
    const exact = await h.call<Page<Message>>('GET', `/conversations/${c.id}/messages?limit=5`, {
      token: alice.token,
    });
    expect(exact.json.items).toHaveLength(5);
    expect(exact.json.nextCursor).toBeNull();

    expect(p1.json.items[0]).toEqual({
      id: expect.any(String),
      role: 'assistant',
      content: 'm3',
      imageIds: [],
      status: 'complete',
      finishReason: null,
      aiGenerated: true,
      disclaimer: expect.stringContaining('AI'),
      aigc: expect.objectContaining({ Label: '1', ProduceID: p1.json.items[0]?.id }),
      version: 1,
      versions: 1,
      feedback: null,
      createdAt: expect.any(String),
    });
    expect(p1.json.items[1]).not.toHaveProperty('disclaimer');
    expect(p1.json.items[1]?.aigc).toBeNull();
    const bad = await h.call('GET', `/conversations/${c.id}/messages?before=xyz`, { token: alice.token });
    expect(bad.status).toBe(400);
  });

  it('shows an answer being written as streaming', async () => {
    const c = await create(alice, 'writing');
    const db = await h.rt.db();
    await insertMessage(db, alice.userId, c.id, {
      role: 'assistant',
      content: '一半',
      status: 'streaming',
      createdAt: new Date(),
    });
    const r = await h.call<Page<Message>>('GET', `/conversations/${c.id}/messages`, { token: alice.token });
    expect(r.json.items.map((m) => m.status)).toEqual(['streaming']);
  });

  it('shows an answer left `streaming` by a dead process as incomplete (or error when empty)', async () => {
    const c = await create(alice, 'crash');
    const db = await h.rt.db();
    // Older than any answer may be written (LLM_TIMEOUT_MS is at most 600 s).
    const at = new Date(Date.now() - 11 * 60_000);
    await insertMessage(db, alice.userId, c.id, {
      role: 'assistant',
      content: '一半',
      status: 'streaming',
      createdAt: at,
    });
    await insertMessage(db, alice.userId, c.id, {
      role: 'assistant',
      content: '',
      status: 'streaming',
      createdAt: at,
    });
    const r = await h.call<Page<Message>>('GET', `/conversations/${c.id}/messages`, { token: alice.token });
    expect(r.json.items.map((m) => m.status)).toEqual(['incomplete', 'error']);
  });

  it('another user’s conversation is 404 on every route', async () => {
    const c = await create(alice, 'private');
    const routes: [string, string, unknown?][] = [
      ['GET', `/conversations/${c.id}`],
      ['PATCH', `/conversations/${c.id}`, { title: 'mine now' }],
      ['DELETE', `/conversations/${c.id}`],
      ['GET', `/conversations/${c.id}/messages`],
    ];
    for (const [method, path, body] of routes) {
      const r = await h.call<ErrorEnvelope>(method, path, { token: bob.token, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
      // The same route works for the owner, so the 404 is about ownership.
    }
    const still = await h.call<Conversation>('GET', `/conversations/${c.id}`, { token: alice.token });
    expect(still.json).toMatchObject({ title: 'private' });
    const missing = await h.call('GET', '/conversations/does-not-exist', { token: alice.token });
    expect(missing.status).toBe(404);
  });

  it('DELETE removes messages and the images used in the conversation, objects included', async () => {
    const deleted: string[] = [];
    const original = h.rt.storage;
    h.rt.storage = async () =>
      ({ delete: async (key: string) => void deleted.push(key) }) as unknown as Storage;
    try {
      const c = await create(alice, 'with images');
      const other = await create(alice, 'keep');
      const db = await h.rt.db();
      await insertMessage(db, alice.userId, c.id, {
        role: 'user',
        content: 'x',
        status: 'complete',
        createdAt: new Date(),
      });
      const file = (id: string, conversationId: string) => ({
        id,
        userId: alice.userId,
        key: `users/${alice.userId}/${id}`,
        purpose: 'chat-image' as const,
        status: 'ready' as const,
        declaredContentType: 'image/png',
        declaredSize: 10,
        conversationId,
        uploadExpiresAt: new Date(),
      });
      await db.insert(files).values([file('f-del', c.id), file('f-keep', other.id)]);

      const r = await h.call('DELETE', `/conversations/${c.id}`, { token: alice.token });
      expect(r.status).toBe(204);
      expect((await h.call('GET', `/conversations/${c.id}`, { token: alice.token })).status).toBe(404);
      expect(await db.select().from(messages).where(eq(messages.conversationId, c.id))).toEqual([]);
      expect(deleted).toEqual([`users/${alice.userId}/f-del`]);
      const [del] = await db.select().from(files).where(eq(files.id, 'f-del'));
      const [keep] = await db.select().from(files).where(eq(files.id, 'f-keep'));
      expect(del?.status).toBe('deleted');
      expect(keep?.status).toBe('ready');
      expect((await h.call('DELETE', `/conversations/${c.id}`, { token: alice.token })).status).toBe(404);
    } finally {
      h.rt.storage = original;
    }
  });
});
