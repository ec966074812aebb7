// The labelled triage set: tests/fixtures/triage/*.jsonl, one { text, expected, kind } per line.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { TriageCategory } from '../../lib/safety/index.js';

const Item = z.object({
  text: z.string().min(1),
  /** The situation it belongs to, or null for a message that must not raise the alarm. */
  expected: z.string().nullable(),
  /** "emergency", or the kind of near-miss: knowledge, past, media, hyperbole, mild, negation. */
  kind: z.string().min(1),
});
export type TriageItem = { text: string; expected: TriageCategory | null; kind: string };

export const TRIAGE_SET_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'triage');

export function loadTriageSet(dir = TRIAGE_SET_DIR): TriageItem[] {
  const out: TriageItem[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const parsed = Item.safeParse(JSON.parse(line));
        if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.message}`);
        out.push(parsed.data as TriageItem);
      });
  }
  return out;
}
