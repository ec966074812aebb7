// `npm run bench`: every benchmark in turn (cold import, function sizes, per-request overhead, time
// to first token, latency at 0 and 20 ms round trips, the global limit at its bound, load), each
// with its own baseline measured in the same run; `npm run bench -- latency load` runs only those
// parts (cold, size, overhead, ttft, latency, capacity, load) and replaces only their sections. Prints the figures and rewrites the
// generated part of docs/performance.md (between the markers; the prose around them is kept).
// BENCH_QUICK=1 runs smaller counts. Exit status 1 when a check failed or a benchmark broke.
import fs from 'node:fs';
import { FUNCTION_NAMES } from '../lib/functions.js';
import { capacity, capacityLines, capacityOk } from './capacity.js';
import { type ColdImportResult, checkLine, coldImports } from './cold-import.js';
import { latency, latencyLines } from './latency.js';
import { loadLines, loadTest } from './load.js';
import { overhead, overheadLines } from './overhead.js';
import { resumeDelay, resumeLines } from './resume.js';
import { functionSizes, sizeLines } from './sizes.js';
import { loadText, log, machineFacts, ms, QUICK, round, table } from './support.js';
import { ttft, ttftLines } from './ttft.js';

const DOC = 'docs/performance.md';
export const BEGIN = '<!-- bench:begin (written by npm run bench; edits inside are replaced) -->';
export const END = '<!-- bench:end -->';

function coldLines(r: ColdImportResult): string[] {
  return [
    table(
      [
        'function',
        'cold import (median)',
        '× bare Hono',
        'bundled, packages inlined',
        '× bare Hono so bundled',
        'code loaded at start',
        'own code, all',
        'shipped (all inlined, minified)',
      ],
      r.rows.map((x) => [
        x.name,
        ms(x.medianMs),
        `${x.ratio}×`,
        ms(x.inlinedMs),
        `${x.inlinedRatio}×`,
        `${x.startKb} KB`,
        `${x.ownKb} KB`,
        `${x.fullKb} KB`,
      ]),
    ),
    '',
    `${r.runs} fresh-process imports of each, interleaved. "Cold import" is the output as Vercel ` +
      'deploys it (one file per module, packages from node_modules); "bundled" is the same entry ' +
      'with its packages inlined by esbuild (split, minified), as `npm run build` deploys it ' +
      '(scripts/bundle-functions.ts). Packages each one loads at cold start:',
    '',
    ...r.rows.map((x) => `- ${x.name}: ${x.packages.join(', ') || '—'}`),
    '',
    'What the packages loaded at start cost, each imported alone in a fresh process (hono is ' +
      'what the bare function loads):',
    '',
    table(
      ['package', 'import alone (median)', '× hono'],
      r.packages.map((p) => [p.pkg, ms(p.medianMs), `${p.ratio}×`]),
    ),
    '',
    'What a function must not load:',
    '',
    ...r.checks.map((c) => `- ${checkLine(c)}`),
  ];
}

type Section = { title: string; lines: string[]; ok: boolean; seconds: number };

async function section(
  title: string,
  run: () => Promise<{ lines: string[]; ok: boolean }>,
): Promise<Section> {
  log(`\n== ${title}`);
  const t = performance.now();
  try {
    const r = await run();
    for (const l of r.lines) log(l);
    return { title, ...r, seconds: round((performance.now() - t) / 1000, 0) };
  } catch (err) {
    const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`FAILED: ${why}`);
    const first = why.split('\n')[0] ?? '';
    return { title, lines: [`**Did not complete:** ${first}`], ok: false, seconds: 0 };
  }
}

/** The generated sections now in the document, by title. */
function previousSections(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!fs.existsSync(DOC)) return out;
  const text = fs.readFileSync(DOC, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a === -1 || b < a) return out;
  let title: string | undefined;
  for (const line of text.slice(a + BEGIN.length, b).split('\n')) {
    if (line.startsWith('### ')) {
      title = line.slice(4);
      out.set(title, []);
    }
    if (title) out.get(title)?.push(line);
  }
  return out;
}

function rewriteDoc(block: string): void {
  const skeleton = `# Performance\n\n${BEGIN}\n${END}\n`;
  const text = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : skeleton;
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  const next =
    a === -1 || b === -1 || b < a
      ? `${text.trimEnd()}\n\n${BEGIN}\n${block}\n${END}\n`
      : `${text.slice(0, a + BEGIN.length)}\n${block}\n${text.slice(b)}`;
  fs.writeFileSync(DOC, next);
}

const start = machineFacts();
const t0 = performance.now();
log(
  `machine: ${start.nproc} CPUs, Node ${start.node}, load average ${loadText(start.load)} (1/5/15 min)` +
    (QUICK ? ' — quick run' : ''),
);

type Part = { key: string; title: string; run: () => Promise<{ lines: string[]; ok: boolean }> };

const PARTS: Part[] = [
  {
    key: 'cold',
    title: 'Cold import',
    run: async () => {
      const r = await coldImports(FUNCTION_NAMES, Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 7)));
      return { lines: coldLines(r), ok: r.checks.every((c) => c.pass) };
    },
  },
  {
    key: 'size',
    title: 'Deployed size of each function',
    run: async () => {
      const r = await functionSizes(FUNCTION_NAMES);
      return { lines: sizeLines(r), ok: true };
    },
  },
  {
    key: 'overhead',
    title: 'Per-request overhead: GET /api/v1/conversations',
    run: async () => ({ lines: overheadLines(await overhead()), ok: true }),
  },
  {
    key: 'ttft',
    title: 'Time to first token: POST /api/v1/text-chat',
    run: async () => ({ lines: ttftLines(await ttft()), ok: true }),
  },
  {
    key: 'latency',
    title: 'Far from the database: round trips and latency at 0 and 20 ms',
    run: async () => ({ lines: latencyLines(await latency()), ok: true }),
  },
  {
    key: 'resume',
    title: 'Resume delay: an answer followed on another instance',
    run: async () => {
      const r = await resumeDelay();
      return { lines: resumeLines(r), ok: r.joinedEqual === r.answers };
    },
  },
  {
    key: 'capacity',
    title: 'At the bound: the global chat limit',
    run: async () => {
      const r = await capacity();
      return { lines: capacityLines(r), ok: capacityOk(r) };
    },
  },
  {
    key: 'load',
    title: 'Load: concurrent chat streams',
    run: async () => {
      const r = await loadTest();
      return { lines: loadLines(r), ok: r.checks.every((c) => c.ok) };
    },
  },
];

// `npm run bench -- latency load`: only those parts; their sections in the document are replaced
// and the others kept.
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !PARTS.some((p) => p.key === a));
if (unknown.length) {
  log(`unknown part(s): ${unknown.join(', ')}; parts: ${PARTS.map((p) => p.key).join(', ')}`);
  process.exit(2);
}
const chosen = asked.length ? PARTS.filter((p) => asked.includes(p.key)) : PARTS;
const sections: Section[] = [];
for (const p of chosen) sections.push(await section(p.title, p.run));

const end = machineFacts();
const seconds = round((performance.now() - t0) / 1000, 0);
const stamp =
  `Measured ${start.at.slice(0, 16).replace('T', ' ')} UTC${QUICK ? ' (quick run, `BENCH_QUICK=1`)' : ''}, ` +
  `load average ${loadText(start.load)} at the start of the run and ${loadText(end.load)} at its end.`;
const fresh = new Map(
  sections.map((x) => [x.title, [`### ${x.title}`, '', `_${stamp}_`, '', ...x.lines, '']]),
);
// Sections of parts not run this time stay as they were.
const kept = asked.length ? previousSections() : new Map<string, string[]>();
const order = [...new Set([...PARTS.map((p) => p.title), ...kept.keys()])];
const block = [
  `Last run: ${start.at.slice(0, 16).replace('T', ' ')} UTC (${chosen.map((p) => p.key).join(', ')}), ` +
    `${seconds} s. Machine: ${start.nproc} CPUs (\`nproc\`), Node ${start.node}. A load average above the ` +
    `CPU count means other work shared the machine: compare ratios, not absolute times.`,
  '',
  ...order.flatMap((title) => fresh.get(title) ?? kept.get(title) ?? []),
].join('\n');
rewriteDoc(block.trimEnd());
log(`\n${DOC} updated (${seconds} s; load average now ${loadText(end.load)})`);
const failed = sections.filter((s) => !s.ok).map((s) => s.title);
if (failed.length) log(`FAILED: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
