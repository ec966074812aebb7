// The admins' usage report: answers, tokens and their cost in yuan, by day (Asia/Shanghai) or by
// model, summed from the messages themselves (every version of an answer was billed, so all count).
import { and, asc, gte, isNotNull, lte, type SQL, sql } from 'drizzle-orm';
import type { Ctx } from '../context.js';
import { messages } from '../db/schema.js';
import type { UsageRow } from './schemas.js';

export type UsageGroup = 'day' | 'model';

/** GET /logs/usage (admins): sums only, no user's data, so not a read on the record. */
export async function usageReport(
  ctx: Ctx,
  f: { since?: Date | undefined; until?: Date | undefined; groupBy: UsageGroup },
): Promise<UsageRow[]> {
  const db = await ctx.rt.db();
  const where: (SQL | undefined)[] = [
    // An answer with usage is one the provider billed.
    isNotNull(messages.promptTokens),
    f.since ? gte(messages.createdAt, f.since) : undefined,
    f.until ? lte(messages.createdAt, f.until) : undefined,
  ];
  const day = sql<string>`to_char(${messages.createdAt} at time zone 'Asia/Shanghai', 'YYYY-MM-DD')`;
  const key = f.groupBy === 'day' ? day : sql<string | null>`${messages.model}`;
  // Sums come back as text (bigint and numeric): exact, converted once here.
  const rows = await db
    .select({
      key,
      requests: sql<string>`count(*)`,
      promptTokens: sql<string>`coalesce(sum(${messages.promptTokens}), 0)`,
      completionTokens: sql<string>`coalesce(sum(${messages.completionTokens}), 0)`,
      costCny: sql<string>`coalesce(sum(${messages.costCny}), 0)`,
    })
    .from(messages)
    .where(and(...where))
    .groupBy(key)
    .orderBy(asc(key));
  return rows.map((r) => ({
    ...(f.groupBy === 'day' ? { day: String(r.key) } : { model: r.key }),
    requests: Number(r.requests),
    promptTokens: Number(r.promptTokens),
    completionTokens: Number(r.completionTokens),
    costCny: Number(r.costCny),
  }));
}
