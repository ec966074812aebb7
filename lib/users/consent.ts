// Consent records: each accept or withdraw is kept with its time; the account keeps the version
// currently accepted, which the chat and upload routes check on every request.
import { desc, eq } from 'drizzle-orm';
import { audit } from '../audit.js';
import type { Ctx } from '../context.js';
import { consents, users } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { ConsentRecord } from './schemas.js';

const toRecord = (r: typeof consents.$inferSelect): ConsentRecord => ({
  id: r.id,
  version: r.version,
  accepted: r.accepted,
  createdAt: r.createdAt.toISOString(),
});

export async function listConsents(ctx: Ctx): Promise<ConsentRecord[]> {
  const db = await ctx.rt.db();
  const rows = await db
    .select()
    .from(consents)
    .where(eq(consents.userId, ctx.userId))
    .orderBy(desc(consents.createdAt), desc(consents.id));
  return rows.map(toRecord);
}

/** Accepts or withdraws a version: the record, the account's current version and the audit row together. */
export async function recordConsent(
  ctx: Ctx,
  input: { version: string; accepted: boolean },
): Promise<ConsentRecord> {
  const { rt, userId } = ctx;
  const { version, accepted } = input;
  // Only the current text can be accepted: agreeing to an unknown version means nothing.
  if (accepted && version !== rt.config.CONSENT_VERSION) {
    // The caller's text is never echoed back; the current version is the server's own.
    throw new AppError(
      'UNPROCESSABLE',
      `consent version is not the current version (${rt.config.CONSENT_VERSION})`,
    );
  }
  const now = rt.now();
  const db = await rt.db();
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
    await audit(tx, {
      actorId: userId,
      action: 'user.consent',
      targetType: 'consent',
      targetId: row.id,
      requestId: ctx.requestId,
      meta: { version, accepted },
    });
    return toRecord(row);
  });
}
