// Runs the rules over the labelled set (tests/fixtures/triage/*.jsonl) and prints recall and false alarms per
// category and per kind of near-miss; the LAST two lines are the overall figures.
//   npm run triage:eval            figures
//   npm run triage:eval -- --misses   also list every miss and false alarm (the set is ours, not users')

import { matchRule } from '../lib/safety/triage.js';
import { loadTriageSet } from '../tests/helpers/triage-set.js';

const showMisses = process.argv.includes('--misses');
const set = loadTriageSet();
type Tally = { n: number; hit: number; exact: number };
const byCategory = new Map<string, Tally>();
const byKind = new Map<string, { n: number; alarms: number }>();
const misses: string[] = [];
const started = performance.now();

for (const item of set) {
  const rule = matchRule(item.text);
  if (item.expected) {
    const t = byCategory.get(item.expected) ?? { n: 0, hit: 0, exact: 0 };
    t.n += 1;
    if (rule) t.hit += 1;
    if (rule?.category === item.expected) t.exact += 1;
    byCategory.set(item.expected, t);
    if (!rule) misses.push(`MISS  [${item.expected}] ${item.text}`);
  } else {
    const k = byKind.get(item.kind) ?? { n: 0, alarms: 0 };
    k.n += 1;
    if (rule) {
      k.alarms += 1;
      misses.push(`ALARM [${item.kind} → ${rule.id}] ${item.text}`);
    }
    byKind.set(item.kind, k);
  }
}
const elapsed = performance.now() - started;

const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
console.log('category                 n   recall   same category');
for (const [cat, t] of [...byCategory].sort()) {
  console.log(
    `${cat.padEnd(22)} ${String(t.n).padStart(3)}   ${pct(t.hit, t.n).padStart(6)}   ${pct(t.exact, t.n).padStart(6)}`,
  );
}
console.log('\nnear-miss kind           n   false alarms');
for (const [kind, k] of [...byKind].sort()) {
  console.log(`${kind.padEnd(22)} ${String(k.n).padStart(3)}   ${pct(k.alarms, k.n).padStart(6)}`);
}
if (showMisses && misses.length > 0) console.log(`\n${misses.join('\n')}`);
const pos = [...byCategory.values()].reduce((a, t) => ({ n: a.n + t.n, hit: a.hit + t.hit }), {
  n: 0,
  hit: 0,
});
const neg = [...byKind.values()].reduce((a, k) => ({ n: a.n + k.n, alarms: a.alarms + k.alarms }), {
  n: 0,
  alarms: 0,
});
console.log(
  `\n${set.length} messages in ${elapsed.toFixed(0)} ms, first pass (regex compilation included; steady-state cost: bench/triage.ts)`,
);
console.log(`recall: ${pct(pos.hit, pos.n)} (${pos.hit}/${pos.n})`);
console.log(`false alarms: ${pct(neg.alarms, neg.n)} (${neg.alarms}/${neg.n})`);
