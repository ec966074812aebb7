import { randomUUID } from 'node:crypto';
import { ACQUIRE_SLOT, RELEASE_SLOT } from './scripts.js';
import type { LimitStore } from './store.js';

export interface SlotLease {
  ok: boolean;
  /** Frees the slot. Idempotent, never throws (a slot that cannot be freed expires after its ttl). */
  release(): Promise<void>;
  /** The backend failed or timed out; the slot is then refused (streams cost money: fail closed). */
  unavailable: boolean;
}

const noop = async (): Promise<void> => {};

/**
 * Takes one of `max` concurrent slots for `userId` (e.g. open chat streams). Slots live in a sorted set
 * scored by expiry, so a slot whose holder crashed is reclaimed after `ttlMs`; pick a ttl above the
 * longest legitimate stream.
 */
export async function acquireSlot(
  store: LimitStore,
  userId: string,
  max: number,
  ttlMs: number,
): Promise<SlotLease> {
  if (!Number.isInteger(max) || max < 0) throw new RangeError('max must be a non-negative integer');
  if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new RangeError('ttlMs must be a positive integer');
  const key = `${store.prefix}slots:${userId}`;
  const slotId = randomUUID();
  let acquired: number | undefined;
  try {
    [acquired] = await store.run(ACQUIRE_SLOT, [key], [Date.now(), ttlMs, max, slotId]);
  } catch {
    // A timeout on our side may come after Redis ran the script: give the slot back in case it was
    // taken, or it stays held until its ttl.
    void store.run(RELEASE_SLOT, [key], [slotId]).catch(() => undefined);
    return { ok: false, release: noop, unavailable: true };
  }
  if (acquired !== 1) return { ok: false, release: noop, unavailable: false };
  let released = false;
  return {
    ok: true,
    unavailable: false,
    release: async () => {
      if (released) return;
      released = true;
      await store.run(RELEASE_SLOT, [key], [slotId]).catch(() => undefined);
    },
  };
}
