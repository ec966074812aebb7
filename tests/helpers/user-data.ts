// Seeds a user's data straight into the tables (and objects into storage), so privacy tests do not
// depend on the chat and upload routes: conversations, messages, files, usage, idempotency keys.
import { conversations, files, idempotencyKeys, messages, usageDaily } from '../../lib/db/schema.js';
import { objectKey } from '../../lib/storage/types.js';
import type { Harness } from './harness.js';

export type Seeded = {
  conversationIds: string[];
  messageIds: string[];
  fileIds: string[];
  keys: string[];
};

export const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

export async function seedFile(
  h: Harness,
  userId: string,
  o: {
    purpose?: 'avatar' | 'chat-image';
    status?: 'pending' | 'ready' | 'deleted';
    conversationId?: string;
    put?: boolean;
  } = {},
): Promise<{ id: string; key: string }> {
  const id = crypto.randomUUID();
  const key = objectKey(userId, id);
  await h.db.db.insert(files).values({
    id,
    userId,
    key,
    purpose: o.purpose ?? 'avatar',
    status: o.status ?? 'ready',
    declaredContentType: 'image/png',
    declaredSize: PNG.length,
    contentType: 'image/png',
    size: PNG.length,
    width: 1,
    height: 1,
    conversationId: o.conversationId ?? null,
    uploadExpiresAt: new Date(Date.now() + 300_000),
  });
  if (o.put !== false) await (await h.rt.storage()).put(key, PNG, 'image/png');
  return { id, key };
}

/** Conversations with `perConversation` messages each, an image in the first, usage and a key. */
export async function seedUserData(
  h: Harness,
  userId: string,
  o: { phrase: string; conversations?: number; perConversation?: number; activityAt?: Date },
): Promise<Seeded> {
  const out: Seeded = { conversationIds: [], messageIds: [], fileIds: [], keys: [] };
  const n = o.conversations ?? 2;
  const per = o.perConversation ?? 3;
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    await h.db.db.insert(conversations).values({
      id,
      userId,
      title: `${o.phrase} #${i}`,
      ...(o.activityAt
        ? { activityAt: o.activityAt, createdAt: o.activityAt, lastMessageAt: o.activityAt }
        : {}),
    });
    out.conversationIds.push(id);
    const rows = Array.from({ length: per }, (_, j) => ({
      id: crypto.randomUUID(),
      conversationId: id,
      userId,
      role: j % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `${o.phrase} message ${i}.${j}`,
      status: 'complete' as const,
      aiGenerated: j % 2 === 1,
      promptTokens: j % 2 === 1 ? 10 : null,
      completionTokens: j % 2 === 1 ? 5 : null,
    }));
    if (rows.length) await h.db.db.insert(messages).values(rows);
    out.messageIds.push(...rows.map((r) => r.id));
    if (i === 0) {
      const f = await seedFile(h, userId, { purpose: 'chat-image', conversationId: id });
      out.fileIds.push(f.id);
      out.keys.push(f.key);
    }
  }
  const avatar = await seedFile(h, userId, { purpose: 'avatar' });
  out.fileIds.push(avatar.id);
  out.keys.push(avatar.key);
  await h.db.db
    .insert(usageDaily)
    .values({ userId, day: '2026-11-20', requests: 3, promptTokens: 30, completionTokens: 15 })
    .onConflictDoNothing();
  await h.db.db.insert(idempotencyKeys).values({
    userId,
    route: 'text-chat',
    key: `k-${crypto.randomUUID()}`,
    requestHash: 'h',
    status: 'done',
    result: { note: o.phrase },
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  return out;
}
