// Consent records: each accept or withdraw is kept with its time; the account keeps the version
// currently accepted, which the chat and upload routes check on every request.
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { consents, users } from '../db/schema.js';

export type ConsentRecord = { id: string; version: string; accepted: boolean; createdAt: string };

const toRecord = (r: typeof consents.$inferSelect): ConsentRecord => ({
  id: r.id,
  version: r.version,
  accepted: r.accepted,
  createdAt: r.createdAt.toISOString(),
});

export async function listConsents(db: Db, userId: string): Promise<ConsentRecord[]> {
  const rows = await db
    .select()
    .from(consents)
    .where(eq(consents.userId, userId))
    .orderBy(desc(consents.createdAt), desc(consents.id));
  return rows.map(toRecord);
}

export async function recordConsent(
  db: Db,
  userId: string,
  version: string,
  accepted: boolean,
  now: Date,
): Promise<ConsentRecord> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(consents)
      .values({ id: crypto.randomUUID(), userId, version, accepted, createdAt: now })
      .returning();
    if (!row) throw new Error('insert returned no row');
    const [current] = await tx
      .select({ v: users.acceptedConsentVersion })
      .from(users)
      .where(eq(users.id, userId));
    // Withdrawing the accepted version clears it; withdrawing another version changes nothing.
    const next = accepted ? version : current?.v === version ? null : (current?.v ?? null);
    await tx.update(users).set({ acceptedConsentVersion: next, updatedAt: now }).where(eq(users.id, userId));
    return toRecord(row);
  });
}
