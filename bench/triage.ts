// `npx tsx bench/triage.ts`: cost of the rule triage. Prints the cold import of the safety module (fresh
// processes) and the per-message time over the labelled set once warm (median, p99, worst), plus a long
// rambling message. The triage runs synchronously before every model call, so it must stay well under 1 ms.
import { execFileSync } from 'node:child_process';
import { triage } from '../lib/safety/triage.js';
import { loadTriageSet } from '../tests/helpers/triage-set.js';

const set = loadTriageSet().map((i) => i.text);
const ROUNDS = Number(process.env.ROUNDS ?? 20);

function importMs(): number {
  const code =
    "const t=performance.now();await import('./lib/safety/triage.ts');console.log(performance.now()-t)";
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
  });
  return Number(out.trim());
}

const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

for (const t of set) triage(t); // warm up
const times: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const t of set) {
    const s = performance.now();
    triage(t);
    times.push(performance.now() - s);
  }
}
const long = `${set.slice(0, 40).join('，')}`;
const longTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const s = performance.now();
  triage(long);
  longTimes.push(performance.now() - s);
}
const imports = [importMs(), importMs(), importMs()];
console.log(`messages: ${set.length} × ${ROUNDS} rounds`);
console.log(
  `per message: median ${us(q(times, 0.5))}, p99 ${us(q(times, 0.99))}, worst ${us(Math.max(...times))}`,
);
console.log(`long message (${long.length} chars): median ${us(q(longTimes, 0.5))}`);
console.log(`import lib/safety/triage (tsx, fresh process): median ${q(imports, 0.5).toFixed(1)} ms`);
