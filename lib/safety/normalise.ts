/**
 * Text normalisation for the triage matcher.
 *
 * The rules are written once, in simplified Chinese, half-width, lower case, digits for numbers, without
 * spaces. Everything a user might type is folded onto that form here so the rules never spell out variants:
 *   1. NFKC (full-width letters/digits → half-width, ℃ → °c), lower case;
 *   2. traditional → simplified for the characters the rules and guards look at (TRADITIONAL_PAIRS);
 *   3. common typos, homophones and dialect words (VARIANTS);
 *   4. Chinese numerals → digits where a unit follows (两个月 → 2个月, 三十八度五 → 38.5度);
 *   5. punctuation and line breaks → "|" (a clause boundary the guards work on); other spaces dropped.
 *
 * Why a curated table and not OpenCC: opencc-js costs ~150–250 ms to import and build its converter, paid on
 * every cold start of the chat function, and only characters the rules look at can change a triage outcome.
 * The table was generated from OpenCC's simplified→traditional mapping of every character in the lexicon.
 */
import { TRADITIONAL_PAIRS } from './traditional.js';

const TRADITIONAL_TO_SIMPLIFIED: ReadonlyMap<string, string> = buildMap();

function buildMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (const token of TRADITIONAL_PAIRS.split(/\s+/)) {
    if (token === '') continue;
    const [trad, simp, ...rest] = Array.from(token);
    if (!trad || !simp || rest.length > 0) throw new Error(`bad traditional pair: "${token}"`);
    map.set(trad, simp);
  }
  return map;
}

/** Maps traditional characters used by the rules to simplified; other characters pass through. */
export function toSimplified(text: string): string {
  let out = '';
  for (const ch of text) out += TRADITIONAL_TO_SIMPLIFIED.get(ch) ?? ch;
  return out;
}

/**
 * Typos (pinyin input picks the wrong homophone), variant characters and dialect words, folded onto the
 * word the lexicon uses. Applied after traditional → simplified. Order matters only where entries overlap.
 */
export const VARIANTS: readonly (readonly [RegExp, string])[] = [
  // Homophone typos from pinyin input.
  [/晕到|昏到(?!了?\d)/g, '晕倒'],
  [/抽畜|抽蓄|抽触/g, '抽搐'],
  [/抽经/g, '抽筋'],
  [/(头|胸口?|心口|肚子|胃|背|后背|腰|腹)(?:通|桶)/g, '$1痛'],
  [/困南/g, '困难'],
  [/发绕|发骚(?=\d|到|了|得)/g, '发烧'],
  [/(喘|透|吸)不(上|过)起/g, '$1不$2气'],
  [/(吐|流|出|咳|便|拉)雪/g, '$1血'],
  [/中峰|中疯/g, '中风'],
  [/脑耕|脑埂/g, '脑梗'],
  [/心埂|心更(?=了|塞)/g, '心梗'],
  [/癫闲|癫娴|颠痫/g, '癫痫'],
  [/羊(?:癫|角|颠)[疯风]/g, '癫痫'],
  [/胰岛速/g, '胰岛素'],
  [/过民/g, '过敏'],
  [/煤汽/g, '煤气'],
  [/农要/g, '农药'],
  [/(安眠|降压|降糖|退烧|感冒)要/g, '$1药'],
  [/遗输/g, '遗书'],
  [/自沙|自刹/g, '自杀'],
  [/割碗/g, '割腕'],
  [/睾完|搞丸/g, '睾丸'],
  [/晕阙|晕绝|昏厥/g, '晕厥'],
  [/[蛰螫]/g, '蜇'],
  [/唿/g, '呼'],
  // Dialect and colloquial words.
  [/脑壳|脑瓜子?|脑阔/g, '头'],
  [/(?:我(?:家)?)?(?:老汉儿?|老爸|俺爹|我爹)/g, '我爸'],
  [/°c|°|℃/g, '度'],
  [/膀子/g, '胳膊'],
  [/脚杆/g, '腿'],
  [/心口窝/g, '心口'],
  [/莫得|冇/g, '没有'],
  [/唔/g, '不'],
  [/讲嘢|讲野/g, '讲话'],
  [/俺/g, '我'],
  [/佢/g, '他'],
  [/咗/g, '了'],
  [/嘅/g, '的'],
  [/咋/g, '怎么'],
  [/啥/g, '什么'],
];

const DIGIT: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/** Value of a Chinese numeral below 1000 (三十八, 一百八, 十五, 两百); NaN when it is not one. */
export function chineseNumber(s: string): number {
  let total = 0;
  let current = -1;
  let lastUnit = 0;
  for (const ch of s) {
    const d = DIGIT[ch];
    if (d !== undefined) {
      current = d;
    } else if (ch === '十' || ch === '百') {
      const unit = ch === '十' ? 10 : 100;
      total += (current === -1 ? 1 : current) * unit;
      current = -1;
      lastUnit = unit;
    } else {
      return Number.NaN;
    }
  }
  if (current !== -1) {
    // 一百八 = 180, 两百五 = 250: a trailing digit after 百 counts in tens.
    total += lastUnit === 100 ? current * 10 : current;
  }
  return total;
}

const NUMERAL = '[零〇一二两三四五六七八九十百]';
// Units after which a Chinese numeral is a count; "一直", "一下子", "一边" stay words.
const UNIT =
  '(?=多?(?:个[多半]?月|个?小时|个?钟头|分钟|天|周|星期|岁|度|片|粒|颗|遍|年|米|楼|层|点[\\d几一二三四五六七八九]))';
const NUMERAL_RUN = new RegExp(`(?<![零〇一二两三四五六七八九十百])${NUMERAL}+${UNIT}`, 'g');
// Multi-character numerals with 十/百 are numbers even without a unit (心跳一百八, 三十几下).
const COMPOUND_RUN = new RegExp(`${NUMERAL}*[十百]${NUMERAL}*`, 'g');

export function numeralsToDigits(text: string): string {
  const convert = (m: string) => {
    const n = chineseNumber(m);
    return Number.isNaN(n) ? m : String(n);
  };
  return (
    text
      .replace(NUMERAL_RUN, convert)
      .replace(COMPOUND_RUN, (m) => (m.length < 2 ? m : convert(m)))
      // 38度5 → 38.5度, 3点5 → 3.5.
      .replace(/(\d+)度([一二三四五六七八九])/g, (_, a: string, b: string) => `${a}.${DIGIT[b] ?? b}度`)
      .replace(/(\d+)度(\d)(?!\d)/g, '$1.$2度')
      .replace(/(\d)点([一二三四五六七八九])/g, (_, a: string, b: string) => `${a}.${DIGIT[b] ?? b}`)
      .replace(/(\d)点(\d)/g, '$1.$2')
  );
}

/** Clause boundary: punctuation and line breaks become this character. */
export const BOUNDARY = '|';

/**
 * The matcher's view of a message: simplified, half-width, lower case, digits, clauses separated by "|",
 * no spaces. A dot survives only between digits ("39.5度").
 */
export function normaliseForTriage(text: string): string {
  let s = toSimplified(text.normalize('NFKC').toLowerCase());
  for (const [from, to] of VARIANTS) s = s.replace(from, to);
  s = numeralsToDigits(s);
  return (
    s
      // Horizontal spaces are dropped (people space out words), line breaks and punctuation split clauses.
      .replace(/[^\S\n]+/g, '')
      .replace(/(?<!\d)\.|\.(?!\d)/g, BOUNDARY)
      .replace(/[^\p{L}\p{N}.]+/gu, BOUNDARY)
      .replace(/\|{2,}/g, BOUNDARY)
      .replace(/^\||\|$/g, '')
  );
}

/** The normalised text without clause boundaries (the matcher's text, for display and tests). */
export function normaliseText(text: string): string {
  return normaliseForTriage(text).replaceAll(BOUNDARY, '');
}
