// Per-user daily usage of the model (the Asia/Shanghai day users live in).
import { sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { usageDaily } from '../db/schema.js';

/** Asia/Shanghai is UTC+8 all year (no DST), so plain arithmetic gives the local day. */
export function shanghaiDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export async function addDailyUsage(
  db: Db,
  userId: string,
  at: Date,
  usage: { promptTokens: number; completionTokens: number },
): Promise<void> {
  await db
    .insert(usageDaily)
    .values({ userId, day: shanghaiDate(at), requests: 1, ...usage })
    .onConflictDoUpdate({
      target: [usageDaily.userId, usageDaily.day],
      set: {
        requests: sql`${usageDaily.requests} + 1`,
        promptTokens: sql`${usageDaily.promptTokens} + excluded.prompt_tokens`,
        completionTokens: sql`${usageDaily.completionTokens} + excluded.completion_tokens`,
      },
    });
}
