import { BOUNDARY, normaliseForTriage } from './normalise.js';
import {
  FIRST_PERSON_EVENT,
  type GuardId,
  HYPOTHETICAL_CUE,
  IDIOMS,
  IN_CARE_CUE,
  IN_CARE_UNLESS,
  KNOWLEDGE_CUE,
  MEDIA_CUE,
  NEGATING_ANSWER,
  NEGATION_PREFIX,
  NEGATION_WINDOW,
  NOW,
  PAST_ASPECT_SUFFIX,
  PAST_CUE,
  PREPARING_CUE,
  RECURRENCE,
  RESOLVED_CUE,
} from './triage-guards.js';
import { GUIDANCE, guidanceText, type NumberRef, type TriageCategory } from './triage-guidance.js';
import { type Concept, LEXICON } from './triage-lexicon.js';
import { TRIAGE_RULES, type TriageRule } from './triage-rules.js';

export interface TriageAction {
  type: 'call';
  number: string;
  label: string;
}

export interface TriageResult {
  level: 'emergency';
  category: TriageCategory;
  message: string;
  actions: TriageAction[];
}

export interface TriageOptions {
  /** Defaults to 120. */
  emergencyNumber?: string;
  /** Defaults to 12356. */
  crisisLine?: string;
  /** Defaults to 110. */
  policeNumber?: string;
}

export const DEFAULT_EMERGENCY_NUMBER = '120';
/** National psychological assistance hotline (全国统一心理援助热线). */
export const DEFAULT_CRISIS_LINE = '12356';
export const DEFAULT_POLICE_NUMBER = '110';

/** Lifts a media frame in a later clause (刚看完电影出来，我老公突然…). */
const SUDDEN_ONSET = /突然|忽然|一下子|刚/;

/** Compiled once: global so every occurrence can be checked for negation. */
const COMPILED: Readonly<Record<Concept, RegExp>> = Object.fromEntries(
  Object.entries(LEXICON).map(([name, source]) => [name, new RegExp(source, 'g')]),
) as Record<Concept, RegExp>;

/** One clause of the message and the guards over it. */
interface Clause {
  text: string;
  guards: Set<GuardId>;
}

/** True when some occurrence of the concept in the clause is neither negated nor marked as past (…过). */
function clauseHas(clause: string, concept: Concept): boolean {
  for (const m of clause.matchAll(COMPILED[concept])) {
    if (m[0].length === 0) continue;
    const start = m.index;
    const end = start + m[0].length;
    if (NEGATION_PREFIX.test(clause.slice(Math.max(0, start - NEGATION_WINDOW), start))) continue;
    if (PAST_ASPECT_SUFFIX.test(clause.slice(end, end + 2))) continue;
    return true;
  }
  return false;
}

/** Splits the normalised message into clauses and works out which guards cover each (see triage-guards.ts). */
export function analyse(text: string): Clause[] {
  let s = normaliseForTriage(text);
  for (const idiom of IDIOMS) s = s.replace(idiom, BOUNDARY);
  const parts = s.split(BOUNDARY).filter((p) => p.length > 0);
  const clauses: Clause[] = parts.map((p) => ({ text: p, guards: new Set<GuardId>() }));
  const recurs = RECURRENCE.test(s);

  // Frames: a cue guards its clause and the ones after it, until a clause says "now".
  let past = false;
  let media = false;
  let hypothetical = false;
  for (const c of clauses) {
    const now = NOW.test(c.text);
    const hasMedia = MEDIA_CUE.test(c.text);
    if (now) {
      past = false;
      hypothetical = false;
    }
    // A story ends when a later clause tells of something happening to someone here.
    if ((now || SUDDEN_ONSET.test(c.text)) && !hasMedia) media = false;
    if (PAST_CUE.test(c.text) && !recurs) past = !now || lastIndex(c.text, PAST_CUE) > lastIndex(c.text, NOW);
    if (hasMedia) media = true;
    if (HYPOTHETICAL_CUE.test(c.text))
      hypothetical = !now || lastIndex(c.text, HYPOTHETICAL_CUE) > lastIndex(c.text, NOW);
    if (past) c.guards.add('past');
    if (media) c.guards.add('media');
    if (hypothetical) c.guards.add('hypothetical');
  }

  // Answered "no" by the next clause.
  clauses.forEach((c, i) => {
    const next = clauses[i + 1];
    if (next && NEGATING_ANSWER.test(next.text)) c.guards.add('negated');
  });

  // Resolved: guards its clause and everything before it, unless it came back afterwards.
  let lastResolved = -1;
  clauses.forEach((c, i) => {
    if (RESOLVED_CUE.test(c.text)) lastResolved = i;
  });
  const cameBack = clauses.slice(lastResolved + 1).some((c) => RECURRENCE.test(c.text));
  if (lastResolved >= 0 && !cameBack) {
    for (let i = 0; i <= lastResolved; i++) clauses[i]?.guards.add('resolved');
  }

  // Already in hospital: the doctors are there.
  if (IN_CARE_CUE.test(s) && !IN_CARE_UNLESS.test(s)) {
    for (const c of clauses) c.guards.add('in_care');
  }

  // Asking ahead of time: the whole message, unless it is happening now.
  if (PREPARING_CUE.test(s) && !NOW.test(s)) {
    for (const c of clauses) c.guards.add('hypothetical');
  }

  // Knowledge questions: the whole message, unless it is also happening now or to the writer.
  if (KNOWLEDGE_CUE.test(s) && !NOW.test(s) && !FIRST_PERSON_EVENT.test(s)) {
    for (const c of clauses) c.guards.add('knowledge');
  }
  return clauses;
}

const globalCache = new WeakMap<RegExp, RegExp>();

/** Start of the last occurrence of `re` in `text`, or -1. */
function lastIndex(text: string, re: RegExp): number {
  let g = globalCache.get(re);
  if (!g) {
    g = new RegExp(re.source, 'g');
    globalCache.set(re, g);
  }
  let last = -1;
  for (const m of text.matchAll(g)) last = m.index;
  return last;
}

/** Evaluates rules against analysed clauses; concept hits are cached per clause. */
function firstMatchingRule(
  clauses: readonly Clause[],
  rules: readonly TriageRule[] = TRIAGE_RULES,
): TriageRule | undefined {
  const cache = new Map<string, boolean>();
  const has = (i: number, concept: Concept): boolean => {
    const key = `${i}:${concept}`;
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = clauseHas(clauses[i]?.text ?? '', concept);
      cache.set(key, hit);
    }
    return hit;
  };
  for (const rule of rules) {
    const ignores = rule.ignores ?? [];
    const visible: number[] = [];
    clauses.forEach((c, i) => {
      for (const g of c.guards) if (!ignores.includes(g)) return;
      visible.push(i);
    });
    if (visible.length === 0) continue;
    const found = (concept: Concept) => visible.some((i) => has(i, concept));
    const ok = rule.all.every((entry) =>
      typeof entry === 'string' ? found(entry) : entry.some((c) => found(c)),
    );
    if (!ok) continue;
    if (rule.none?.some((c) => found(c))) continue;
    return rule;
  }
  return undefined;
}

/** The rule that fires for a message (for tests, evaluation and review), or undefined. */
export function matchRule(text: string): TriageRule | undefined {
  const clauses = analyse(text);
  return clauses.length === 0 ? undefined : firstMatchingRule(clauses);
}

/** True when this one row, on its own, fires for the text (for the per-row tests and review). */
export function rowMatches(rule: TriageRule, text: string): boolean {
  return firstMatchingRule(analyse(text), [rule]) !== undefined;
}

/** Accept only phone-number-looking config so a bad env value cannot produce a broken call button. */
function phoneOr(value: string | undefined, fallback: string): string {
  const trimmed = value?.trim();
  return trimmed && /^\+?[0-9][0-9-]{1,19}$/.test(trimmed) ? trimmed : fallback;
}

/** Configured numbers with defaults (120 / 12356 / 110) applied; shared with the system prompt builder. */
export function resolveNumbers(opts: TriageOptions = {}): Record<NumberRef, string> {
  return {
    emergency: phoneOr(opts.emergencyNumber, DEFAULT_EMERGENCY_NUMBER),
    crisis: phoneOr(opts.crisisLine, DEFAULT_CRISIS_LINE),
    police: phoneOr(opts.policeNumber, DEFAULT_POLICE_NUMBER),
  };
}

function render(template: string, numbers: Record<NumberRef, string>): string {
  return template.replace(/\{(emergency|crisis|police)\}/g, (_, key: NumberRef) => numbers[key]);
}

/** The fixed guidance for a category, with the configured numbers filled in. */
export function emergencyAnswer(category: TriageCategory, opts: TriageOptions = {}): TriageResult {
  const numbers = resolveNumbers(opts);
  const g = GUIDANCE[category];
  return {
    level: 'emergency',
    category,
    message: render(guidanceText(g), numbers),
    actions: g.actions.map((a) => ({
      type: a.type,
      number: numbers[a.number],
      label: render(a.label, numbers),
    })),
  };
}

/**
 * Returns emergency guidance when the text describes an emergency happening now, otherwise null (the question
 * can go to the AI as usual). Pure and synchronous.
 */
export function triage(text: string, opts: TriageOptions = {}): TriageResult | null {
  const rule = matchRule(text);
  return rule ? emergencyAnswer(rule.category, opts) : null;
}
