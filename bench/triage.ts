// `npx tsx bench/triage.ts`: cost of the rule triage. Prints the cold import of the safety module (fresh
// processes) and the per-message time over the labelled set once warm (median, p99, worst), plus a long
// rambling message. The triage runs synchronously before every model call, so it must stay well under 1 ms.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { triage } from '../lib/safety/triage.js';
import { loadTriageSet } from '../tests/helpers/triage-set.js';

const set = loadTriageSet().map((i) => i.text);
const ROUNDS = Number(process.env.ROUNDS ?? 20);

// Cold start as deployed: the module bundled, imported by a fresh node; CPU time so a busy machine's
// waiting does not count. The first call compiles the regular expressions it meets.
const dir = mkdtempSync(join(tmpdir(), 'triage-bench-'));
const bundle = join(dir, 'triage.mjs');
buildSync({
  entryPoints: ['lib/safety/triage.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundle,
  logLevel: 'warning',
});
writeFileSync(join(dir, 'empty.mjs'), 'export const x = 1;');
function coldMs(): { importMs: number; firstCallMs: number } {
  const code = `const cpu=()=>{const u=process.cpuUsage();return (u.user+u.system)/1000};
let t=cpu();await import(${JSON.stringify(join(dir, 'empty.mjs'))});const empty=cpu()-t;
t=cpu();const m=await import(${JSON.stringify(bundle)});const imp=cpu()-t-empty;
t=cpu();m.triage('我爸突然胸口疼，一直出冷汗');const first=cpu()-t;
console.log(JSON.stringify({importMs:imp,firstCallMs:first}));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }),
  );
}

const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

for (const t of set) triage(t); // warm up
// Per message, the best of ROUNDS runs: on a shared machine single runs mostly measure the scheduler.
const times = set.map((t) => {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const s = performance.now();
    triage(t);
    best = Math.min(best, performance.now() - s);
  }
  return best;
});
const long = `${set.slice(0, 40).join('，')}`;
const longTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const s = performance.now();
  triage(long);
  longTimes.push(performance.now() - s);
}
const colds = [coldMs(), coldMs(), coldMs(), coldMs(), coldMs()];
console.log(`messages: ${set.length}, best of ${ROUNDS} runs each`);
console.log(
  `per message: median ${us(q(times, 0.5))}, p99 ${us(q(times, 0.99))}, worst ${us(Math.max(...times))}`,
);
console.log(`long message (${long.length} chars): median ${us(q(longTimes, 0.5))}`);
console.log(
  `cold (bundled, fresh node, CPU): import ${q(
    colds.map((c) => c.importMs),
    0.5,
  ).toFixed(1)} ms over an empty module, first call ${q(
    colds.map((c) => c.firstCallMs),
    0.5,
  ).toFixed(1)} ms`,
);
