import { createHash } from 'node:crypto';

/**
 * Plain Redis 7 rejects Upstash's `#!lua flags=allow-key-locking` shebang ("Unexpected flag in script
 * shebang"), so scripts from @upstash/ratelimit must be rewritten before they reach a self-hosted Redis.
 * The library still addresses scripts by the SHA1 of the original text, hence the SHA mapping below.
 */

const UPSTASH_ONLY_FLAGS = new Set(['allow-key-locking']);

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Drops Upstash-only shebang flags; removes the shebang entirely when no flag is left. */
export function stripUpstashShebang(script: string): string {
  if (!script.startsWith('#!')) return script;
  const newline = script.indexOf('\n');
  const firstLine = newline === -1 ? script : script.slice(0, newline);
  const rest = newline === -1 ? '' : script.slice(newline + 1);
  const match = /^#!lua(?:\s+flags=(\S*))?\s*$/.exec(firstLine);
  if (!match) return script;
  const flags = (match[1] ?? '').split(',').filter((f) => f !== '' && !UPSTASH_ONLY_FLAGS.has(f));
  // A bare `#!lua` line would switch Redis to strict-shebang semantics; dropping it keeps legacy EVAL rules.
  if (flags.length === 0) return rest;
  return `#!lua flags=${flags.join(',')}\n${rest}`;
}

export interface CompatScript {
  /** SHA1 of the script as Redis will see it. */
  sha: string;
  /** Script text as Redis will see it. */
  script: string;
}

/** Remembers original-SHA → rewritten script so EVALSHA with the library's hash keeps working. */
export class ScriptCompat {
  private readonly byOriginalSha = new Map<string, CompatScript>();

  /** Rewrites a script for plain Redis and records the mapping from its original SHA. */
  prepare(script: string): CompatScript & { originalSha: string } {
    const originalSha = sha1(script);
    const known = this.byOriginalSha.get(originalSha);
    if (known) return { ...known, originalSha };
    const stripped = stripUpstashShebang(script);
    const prepared = { sha: stripped === script ? originalSha : sha1(stripped), script: stripped };
    this.byOriginalSha.set(originalSha, prepared);
    return { ...prepared, originalSha };
  }

  /** The rewritten script for an original SHA, if it was seen before. */
  lookup(originalSha: string): CompatScript | undefined {
    return this.byOriginalSha.get(originalSha.toLowerCase());
  }
}

export function isNoScriptError(error: unknown): boolean {
  return String(error).includes('NOSCRIPT');
}
