// Values and reference ranges as lab reports print them (化验单), turned into numbers and a flag.
// Printed forms seen on Chinese reports: `3.9-6.1`, `3.9～6.1`, `3.9~6.1`, `3.9—6.1`, `3.9至6.1`,
// `(3.9-6.1)`, `<5.0`, `＜5.2`, `≤ 5.2`, `≥ 40`, `>1.04`, `阴性`, `阴性(-)`, `-`, gender-specific
// `男:40-50 女:35-45`; values `5.6`, `5.6↑`, `↓3.2`, `7.8 H`, `12.1(L)`, `<0.5`, `阳性(+)`, `2+`.
import type { LabFlag } from '../db/schema.js';

export type ParsedRange = { low: number | null; high: number | null; qualitative: Qualitative | null };
export type ParsedValue = {
  value: number | null;
  qualitative: Qualitative | null;
  /** A mark printed beside the value (↑ ↓ H L). */
  mark: 'high' | 'low' | null;
};
export type Qualitative = 'negative' | 'positive' | 'weak-positive';

/** Numbers beyond this are not lab values: a misread, never stored as a number. */
export const MAX_ABS_VALUE = 1e9;

const NUM = String.raw`[-+]?\d+(?:\.\d+)?`;
const SEP = String.raw`\s*(?:-{1,2}|~|〜|—|–|－|至|到)\s*`;
const RANGE = new RegExp(`(${NUM})${SEP}(${NUM})`);
const UPPER = new RegExp(String.raw`(?:<=?|≤|≦|小于等于|小于|低于)\s*(${NUM})`);
const LOWER = new RegExp(String.raw`(?:>=?|≥|≧|大于等于|大于|高于)\s*(${NUM})`);

/** Full-width digits and signs (＜５.０, ～) to ASCII; spaces kept for the separators. */
function normalise(text: string): string {
  return text.normalize('NFKC').replace(/，/g, ',').trim();
}

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isFinite(n) && Math.abs(n) <= MAX_ABS_VALUE ? n : null;
}

export function parseQualitative(text: string): Qualitative | null {
  const t = normalise(text).toLowerCase();
  if (/弱阳性|\+-|±|trace|微量/.test(t)) return 'weak-positive';
  if (/阴性|negative|^neg\b|^-$|^\(-\)$|^-\s*\(阴性\)|未检出|not detected/.test(t)) return 'negative';
  if (/阳性|positive|^pos\b|^\+{1,4}$|^[1-4]\+$|^\(\+{1,4}\)$|检出/.test(t)) return 'positive';
  return null;
}

/** Picks the part of a gender-specific range (`男:40-50 女:35-45`) that applies, when known. */
function genderPart(text: string, gender: 'male' | 'female' | null): string {
  const male = /男[性]?\s*[:：]?\s*([^男女;；]+)/.exec(text);
  const female = /女[性]?\s*[:：]?\s*([^男女;；]+)/.exec(text);
  if (!male || !female) return text;
  if (gender === 'male' && male[1]) return male[1];
  if (gender === 'female' && female[1]) return female[1];
  // Unknown gender: no bounds rather than the wrong ones.
  return '';
}

export function parseRange(
  text: string | null | undefined,
  gender: 'male' | 'female' | null = null,
): ParsedRange {
  if (!text) return { low: null, high: null, qualitative: null };
  const t = genderPart(normalise(text), gender);
  const r = RANGE.exec(t);
  if (r) {
    const low = num(r[1]);
    const high = num(r[2]);
    // `6.1-3.9` is a misprint or a misread: no bounds rather than inverted ones.
    if (low !== null && high !== null && low <= high) return { low, high, qualitative: null };
    return { low: null, high: null, qualitative: null };
  }
  const upper = UPPER.exec(t);
  if (upper) return { low: null, high: num(upper[1]), qualitative: null };
  const lower = LOWER.exec(t);
  if (lower) return { low: num(lower[1]), high: null, qualitative: null };
  return { low: null, high: null, qualitative: parseQualitative(t) };
}

export function parseValue(text: string | null | undefined): ParsedValue {
  if (!text) return { value: null, qualitative: null, mark: null };
  const t = normalise(text);
  let mark: ParsedValue['mark'] = null;
  if (/↑|⬆|偏高|\(H\)|(?:^|[\d\s])H(?:$|\s)/.test(t)) mark = 'high';
  else if (/↓|⬇|偏低|\(L\)|(?:^|[\d\s])L(?:$|\s)/.test(t)) mark = 'low';
  const qualitative = parseQualitative(t.replace(/[↑↓⬆⬇]/g, '').trim());
  if (qualitative) return { value: null, qualitative, mark };
  const m = new RegExp(`(?:^|[^\\d.])(${NUM})`).exec(` ${t}`);
  // Two numbers (`120/80`, `3.9-6.1`) are not one value.
  const count = t.match(/\d+(?:\.\d+)?/g)?.length ?? 0;
  return { value: count === 1 ? num(m?.[1]?.replace(/^\+/, '')) : null, qualitative: null, mark };
}

/** A flag word a report or the model may give: H/L/↑/↓/偏高/阳性/正常… */
export function normaliseFlag(text: string | null | undefined): LabFlag | null {
  if (!text) return null;
  const t = normalise(text).toLowerCase();
  if (/^(h|hh|high|↑|↑↑|偏高|高|升高)$/.test(t)) return 'high';
  if (/^(l|ll|low|↓|↓↓|偏低|低|降低)$/.test(t)) return 'low';
  if (/^(n|normal|正常|-)$/.test(t)) return 'normal';
  if (/^(abnormal|异常|阳性|positive|\*)$/.test(t)) return 'abnormal';
  return null;
}

/** The report's own mark first; else computed from the range; null when nothing says. */
export function computeFlag(value: ParsedValue, range: ParsedRange, printed: LabFlag | null): LabFlag | null {
  if (printed) return printed;
  if (value.mark) return value.mark;
  if (value.qualitative) {
    if (range.qualitative === 'negative') return value.qualitative === 'negative' ? 'normal' : 'abnormal';
    return null;
  }
  if (value.value === null) return null;
  if (range.low === null && range.high === null) return null;
  if (range.low !== null && value.value < range.low) return 'low';
  if (range.high !== null && value.value > range.high) return 'high';
  return 'normal';
}
