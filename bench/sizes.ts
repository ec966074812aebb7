// The size each function ships, without running `vercel build` (90–300 s here): each entry is
// bundled with esbuild (packages left external), then traced with @vercel/nft, the file tracer
// Vercel's Node builder uses, and vercel.json's `excludeFiles` for that function is passed to the
// tracer as the builder passes it. The figure is the bytes of the files the
// function would carry, before compression; the packages that weigh most are named.
// (nft's `ignore` takes the excludeFiles globs relative to the project, as the builder passes them.)
import fs from 'node:fs';
import path from 'node:path';
import { nodeFileTrace } from '@vercel/nft';
import { build } from 'esbuild';
import { FUNCTION_NAMES } from '../lib/functions.js';
import { table } from './support.js';

/** Functions that never touch an image; their goal is 10 MB. */
export const IMAGELESS = ['health', 'users', 'conversations', 'text-chat', 'logs', 'docs'];
const GOAL_MB = 10;

export type SizeRow = { name: string; bytes: number; files: number; top: [string, number][] };

type VercelJson = { functions?: Record<string, { excludeFiles?: string }> };

const packageOf = (f: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? '(own code)';

export async function functionSizes(names: readonly string[] = FUNCTION_NAMES): Promise<SizeRow[]> {
  const root = process.cwd();
  const vercel = JSON.parse(fs.readFileSync(path.join(root, 'vercel.json'), 'utf8')) as VercelJson;
  const dir = fs.mkdtempSync(path.join(root, '.size-'));
  try {
    const rows: SizeRow[] = [];
    // Shared between the functions: most of what they trace is the same.
    const cache = {};
    for (const name of names) {
      const out = path.join(dir, `${name}.mjs`);
      await build({
        entryPoints: [`api/v1/${name}.ts`],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        packages: 'external',
        outfile: out,
        logLevel: 'silent',
      });
      const exclude = vercel.functions?.[`api/v1/${name}.ts`]?.excludeFiles;
      // As @vercel/node passes it: excluded paths are neither shipped nor traced further.
      const { fileList } = await nodeFileTrace([out], { base: root, ignore: exclude, cache });
      const byPackage = new Map<string, number>();
      let bytes = 0;
      let files = 0;
      for (const f of fileList) {
        if (f.startsWith(path.relative(root, dir))) continue;
        const st = fs.statSync(path.join(root, f), { throwIfNoEntry: false });
        if (!st?.isFile()) continue;
        bytes += st.size;
        files++;
        const p = packageOf(f);
        byPackage.set(p, (byPackage.get(p) ?? 0) + st.size);
      }
      const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
      rows.push({ name, bytes, files, top });
    }
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

export function sizeLines(rows: SizeRow[]): string[] {
  return [
    table(
      ['function', 'touches images', 'shipped', 'files', 'heaviest packages'],
      rows.map((r) => [
        r.name,
        IMAGELESS.includes(r.name) ? 'no' : 'yes',
        `${mb(r.bytes)} MB${IMAGELESS.includes(r.name) ? (r.bytes <= GOAL_MB * 1024 * 1024 ? ' ✓' : ' ✗') : ''}`,
        r.files,
        r.top.map(([p, b]) => `${p} ${mb(b)}`).join(', '),
      ]),
    ),
    '',
    `Traced with @vercel/nft from an esbuild bundle of each entry, vercel.json's \`excludeFiles\` ` +
      `applied; bytes before compression. Goal for functions that touch no image: ≤ ${GOAL_MB} MB.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of sizeLines(await functionSizes())) console.log(l);
}
