import { normaliseText } from './normalise.js';
import {
  CONTEXT_GUARDS,
  DEFAULT_CRISIS_LINE,
  DEFAULT_EMERGENCY_NUMBER,
  type GuardId,
  NEGATION_PREFIX,
  type NumberRef,
  PAST_ASPECT_SUFFIX,
  type RulePattern,
  TRIAGE_RULES,
  type TriageCategory,
  type TriageRule,
} from './triage-rules.js';

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
}

/** How far back a negator may sit before a match ("从来没有想过" is 6 characters). */
const NEGATION_WINDOW = 8;

const globalCache = new WeakMap<RegExp, RegExp>();

/** Rules are written without the g flag (so `.test` is stateless); matchAll needs a global twin. */
function globalOf(re: RegExp): RegExp {
  let g = globalCache.get(re);
  if (!g) {
    g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    globalCache.set(re, g);
  }
  return g;
}

/** True when at least one occurrence of `re` is neither negated nor marked as past experience. */
function termMatches(text: string, re: RegExp, checkPastAspect: boolean): boolean {
  for (const m of text.matchAll(globalOf(re))) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) continue;
    if (NEGATION_PREFIX.test(text.slice(Math.max(0, start - NEGATION_WINDOW), start))) continue;
    if (checkPastAspect && PAST_ASPECT_SUFFIX.test(text.slice(end, end + 2))) continue;
    return true;
  }
  return false;
}

function patternMatches(text: string, pattern: RulePattern, checkPastAspect: boolean): boolean {
  if (pattern instanceof RegExp) return termMatches(text, pattern, checkPastAspect);
  return pattern.allOf.every((re) => termMatches(text, re, checkPastAspect));
}

function activeGuards(text: string): Set<GuardId> {
  const active = new Set<GuardId>();
  for (const guard of CONTEXT_GUARDS) {
    if (guard.when.test(text) && !guard.unless.test(text)) active.add(guard.id);
  }
  return active;
}

function ruleMatches(rule: TriageRule, text: string, guards: ReadonlySet<GuardId>): boolean {
  const skipped = rule.skipGuards ?? [];
  for (const id of guards) if (!skipped.includes(id)) return false;
  const checkPastAspect = !skipped.includes('past_history');
  return rule.patterns.some((p) => patternMatches(text, p, checkPastAspect));
}

/** Accept only phone-number-looking config so a bad env value cannot produce a broken call button. */
function phoneOr(value: string | undefined, fallback: string): string {
  const trimmed = value?.trim();
  return trimmed && /^\+?[0-9][0-9-]{1,19}$/.test(trimmed) ? trimmed : fallback;
}

/** Configured numbers with defaults (120 / 12356) applied; shared with the system prompt builder. */
export function resolveNumbers(opts: TriageOptions = {}): Record<NumberRef, string> {
  return {
    emergency: phoneOr(opts.emergencyNumber, DEFAULT_EMERGENCY_NUMBER),
    crisis: phoneOr(opts.crisisLine, DEFAULT_CRISIS_LINE),
  };
}

function render(template: string, numbers: Record<NumberRef, string>): string {
  return template.replace(/\{(emergency|crisis)\}/g, (_, key: NumberRef) => numbers[key]);
}

/**
 * Returns emergency guidance when the text describes a medical emergency or self-harm risk happening now,
 * otherwise null (the question can go to the AI as usual). Pure and synchronous.
 */
export function triage(text: string, opts: TriageOptions = {}): TriageResult | null {
  const normalised = normaliseText(text);
  if (normalised.length === 0) return null;

  const guards = activeGuards(normalised);
  const rule = TRIAGE_RULES.find((r) => ruleMatches(r, normalised, guards));
  if (!rule) return null;

  const numbers = resolveNumbers(opts);
  return {
    level: rule.level,
    category: rule.category,
    message: render(rule.answer.message, numbers),
    actions: rule.answer.actions.map((a) => ({
      type: a.type,
      number: numbers[a.number],
      label: render(a.label, numbers),
    })),
  };
}
