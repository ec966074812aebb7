// `npm run bench`: every benchmark in turn (cold import, per-request overhead, time to first token,
// load), each with its own baseline measured in the same run. Prints the figures and rewrites the
// generated part of docs/performance.md (between the markers; the prose around them is kept).
// BENCH_QUICK=1 runs smaller counts. Exit status 1 when a check failed or a benchmark broke.
import fs from 'node:fs';
import { FUNCTION_NAMES } from '../lib/functions.js';
import { type ColdImportResult, checkLine, coldImports } from './cold-import.js';
import { loadLines, loadTest } from './load.js';
import { overhead, overheadLines } from './overhead.js';
import { resumeDelay, resumeLines } from './resume.js';
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
        'code loaded at start',
        'own code, all',
        'shipped (all inlined, minified)',
      ],
      r.rows.map((x) => [
        x.name,
        ms(x.medianMs),
        `${x.ratio}×`,
        `${x.startKb} KB`,
        `${x.ownKb} KB`,
        `${x.fullKb} KB`,
      ]),
    ),
    '',
    `${r.runs} fresh-process imports of each, interleaved. Packages each one loads at cold start:`,
    '',
    ...r.rows.map((x) => `- ${x.name}: ${x.packages.join(', ') || '—'}`),
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

const sections: Section[] = [];
sections.push(
  await section('Cold import', async () => {
    const r = await coldImports(FUNCTION_NAMES, Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 7)));
    return { lines: coldLines(r), ok: r.checks.every((c) => c.pass) };
  }),
);
sections.push(
  await section('Per-request overhead: GET /api/v1/conversations', async () => ({
    lines: overheadLines(await overhead()),
    ok: true,
  })),
);
sections.push(
  await section('Time to first token: POST /api/v1/text-chat', async () => ({
    lines: ttftLines(await ttft()),
    ok: true,
  })),
);
sections.push(
  await section('Resume delay: an answer followed on another instance', async () => {
    const r = await resumeDelay();
    return { lines: resumeLines(r), ok: r.joinedEqual === r.answers };
  }),
);
sections.push(
  await section('Load: concurrent chat streams', async () => {
    const r = await loadTest();
    return { lines: loadLines(r), ok: r.checks.every((c) => c.ok) };
  }),
);

const end = machineFacts();
const seconds = round((performance.now() - t0) / 1000, 0);
const block = [
  `Last run: ${start.at.slice(0, 16).replace('T', ' ')} UTC${QUICK ? ' (quick run, `BENCH_QUICK=1`)' : ''}, ` +
    `${seconds} s in all. Machine: ${start.nproc} CPUs (\`nproc\`), Node ${start.node}, ` +
    `load average ${loadText(start.load)} at the start and ${loadText(end.load)} at the end (1/5/15 min). ` +
    `A load average above the CPU count means other work shared the machine: compare ratios, not ` +
    `absolute times.`,
  '',
  ...sections.flatMap((s) => [`### ${s.title}`, '', ...s.lines, '']),
].join('\n');
rewriteDoc(block.trimEnd());
log(`\n${DOC} updated (${seconds} s; load average now ${loadText(end.load)})`);
const failed = sections.filter((s) => !s.ok).map((s) => s.title);
if (failed.length) log(`FAILED: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
