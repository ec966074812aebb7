import { describe, expect, it } from 'vitest';
import {
  emergencyAnswer,
  GUIDANCE,
  LEXICON,
  matchRule,
  normaliseForTriage,
  normaliseText,
  TRIAGE_RULES,
  toSimplified,
  triage,
} from '../../lib/safety/index.js';
import { rowMatches } from '../../lib/safety/triage.js';
import { TRIAGE_CATEGORIES } from '../../lib/safety/triage-guidance.js';
import { loadTriageSet } from '../helpers/triage-set.js';

const set = loadTriageSet();
const NEAR_MISS_KINDS = ['knowledge', 'past', 'media', 'hyperbole', 'mild', 'negation'];

describe('triage table: one test per row', () => {
  it.each(TRIAGE_RULES.map((r) => [r.id, r] as const))('%s catches its example', (_, rule) => {
    // The row on its own fires, and the whole table answers with the row's category.
    expect(rowMatches(rule, rule.example)).toBe(true);
    expect(triage(rule.example)?.category).toBe(rule.category);
  });

  it('rows have unique ids and only use concepts of the lexicon', () => {
    expect(new Set(TRIAGE_RULES.map((r) => r.id)).size).toBe(TRIAGE_RULES.length);
    for (const r of TRIAGE_RULES) {
      for (const c of [...r.all.flat(), ...(r.none ?? [])]) expect(Object.keys(LEXICON)).toContain(c);
    }
  });

  it('every situation of the protocol has at least one row', () => {
    const covered = new Set(TRIAGE_RULES.map((r) => r.category));
    for (const c of TRIAGE_CATEGORIES) expect(covered.has(c), c).toBe(true);
  });
});

describe('the labelled set', () => {
  it('has at least 400 messages, 8 per situation and 8 per kind of near-miss', () => {
    expect(set.length).toBeGreaterThanOrEqual(400);
    for (const c of TRIAGE_CATEGORIES) {
      expect(set.filter((i) => i.expected === c).length, c).toBeGreaterThanOrEqual(8);
    }
    for (const k of NEAR_MISS_KINDS) {
      expect(set.filter((i) => i.expected === null && i.kind === k).length, k).toBeGreaterThanOrEqual(8);
    }
    for (const i of set) if (i.expected) expect(TRIAGE_CATEGORIES).toContain(i.expected);
  });

  it('recall ≥ 99 % and false alarms ≤ 3 %', () => {
    const emergencies = set.filter((i) => i.expected !== null);
    const nearMisses = set.filter((i) => i.expected === null);
    const missed = emergencies.filter((i) => !matchRule(i.text)).map((i) => i.text);
    const alarms = nearMisses.filter((i) => matchRule(i.text)).map((i) => i.text);
    // The lists are in the failure message so a regression shows which messages broke.
    expect(missed.length / emergencies.length, missed.join('\n')).toBeLessThanOrEqual(0.01);
    expect(alarms.length / nearMisses.length, alarms.join('\n')).toBeLessThanOrEqual(0.03);
  });
});

describe('guards', () => {
  it.each([
    // [text, expected category or null]
    ['胸痛一般是什么原因？', null],
    ['中风有哪些早期症状', null],
    ['我爸去年中风过，现在恢复得不错', null],
    ['我以前想过自杀，最近又有这种念头', 'self_harm'],
    ['电视剧里女主昏迷了三年，现实中可能吗', null],
    ['刚看完电影出来，我老公突然胸口疼得厉害，出冷汗', 'cardiac'],
    ['笑死我了', null],
    ['累死了，想死你了', null],
    ['压力大到喘不过气', null],
    ['气得吐血', null],
    ['没有胸痛', null],
    ['我胸口疼，但没有出冷汗', null],
    ['从来没想过伤害自己', null],
    ['流鼻血了，按了几分钟就止住了', null],
    ['娃吞了一颗纽扣电池，现在看着没事了', 'ingestion'],
    ['心梗有什么症状？我爸现在胸口疼，一直出冷汗', 'cardiac'],
    ['如果有一天家里老人突然晕倒，应该怎么做', null],
    ['被蛇咬了怎么处理？想提前了解一下，下周去露营', null],
    ['我爸昏迷三天了，医生说要做手术', null],
    ['我爸住院了，刚才突然抽搐', 'seizure'],
    ['住院期间不想活了', 'self_harm'],
    ['眼皮一直抽搐怎么回事', null],
    ['手机死机了', null],
  ] as const)('%j → %s', (text, expected) => {
    expect(triage(text)?.category ?? null).toBe(expected);
  });
});

describe('answers', () => {
  it.each(TRIAGE_CATEGORIES)('%s has guidance with a call, what to do and what not to do', (category) => {
    const g = GUIDANCE[category];
    expect(g.doNow.length).toBeGreaterThanOrEqual(1);
    expect(g.dont.length).toBeGreaterThanOrEqual(1);
    expect(g.sources.length).toBeGreaterThanOrEqual(1);
    const answer = emergencyAnswer(category);
    expect(answer.level).toBe('emergency');
    expect(answer.message).toContain(answer.actions[0]?.number ?? 'none');
    expect(answer.message).not.toMatch(/[{}]/);
    // Phone-readable: short.
    expect(answer.message.length).toBeLessThan(400);
    for (const a of answer.actions) expect(a.label).toContain(a.number);
  });

  it('self-harm gives the crisis line first, then 120; violence gives 110, then 120; others 120', () => {
    expect(emergencyAnswer('self_harm').actions.map((a) => a.number)).toEqual(['12356', '120']);
    expect(emergencyAnswer('violence').actions.map((a) => a.number)).toEqual(['110', '120']);
    expect(emergencyAnswer('cardiac').actions.map((a) => a.number)).toEqual(['120']);
  });

  it('uses the configured numbers everywhere', () => {
    const opts = { emergencyNumber: '999', crisisLine: '400-161-9995', policeNumber: '911' };
    for (const category of TRIAGE_CATEGORIES) {
      const a = emergencyAnswer(category, opts);
      // (120 may appear as the CPR rate, 100～120 per minute; never as a number to call.)
      expect(a.message).not.toMatch(/(?:拨打|报警|热线)\s*(?:120|12356|110)/);
      expect(a.message).toContain(a.actions[0]?.number ?? 'none');
      for (const action of a.actions) expect(['999', '400-161-9995', '911']).toContain(action.number);
    }
    expect(triage('他又在打我，我躲在厕所', opts)?.actions.map((a) => a.number)).toEqual(['911', '999']);
  });

  it.each([
    { emergencyNumber: '', crisisLine: '   ', policeNumber: undefined },
    { emergencyNumber: 'call me', crisisLine: '12356; drop table', policeNumber: 'x' },
  ])('falls back to defaults for unusable config %j', (bad) => {
    expect(triage('我不想活了', bad)?.actions.map((a) => a.number)).toEqual(['12356', '120']);
  });
});

describe('normalisation', () => {
  it.each([
    ['胸口 剧痛，出冷汗！', '胸口剧痛|出冷汗'],
    ['ＡＢＣ１２３　全角', 'abc123全角'],
    ['頭暈，嘔血，呼吸困難', '头晕|呕血|呼吸困难'],
    ['兩個月的寶寶發燒三十八度五', '2个月的宝宝发烧38.5度'],
    ['心跳一分钟一百八', '心跳1分钟180'],
    ['血糖三点几', '血糖3点几'],
    ['血糖三点五', '血糖3.5'],
    ['我老汉儿晕到了', '我爸晕倒了'],
    ['被蜂螫了', '被蜂蜇了'],
    ['喝了一口百草枯', '喝了一口百草枯'],
    ['一直一下子一边', '一直一下子一边'],
    ['体温39.5℃。', '体温39.5度'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseForTriage(input)).toBe(expected);
  });

  it('normaliseText drops clause boundaries and toSimplified leaves other characters alone', () => {
    expect(normaliseText('胸口 剧痛，出冷汗！')).toBe('胸口剧痛出冷汗');
    expect(toSimplified('過敏後喉嚨發緊 abc')).toBe('过敏后喉咙发紧 abc');
  });

  it('every character the lexicon uses has its traditional forms mapped', () => {
    // A sample of traditional forms of lexicon characters, including Taiwan/HK variants.
    expect(toSimplified('睪丸腫痛 癲癇 嘔吐 窒息 頸部僵硬 農藥 燒炭 臍帶 蠍子 蛇咬 麵')).toBe(
      '睾丸肿痛 癫痫 呕吐 窒息 颈部僵硬 农药 烧炭 脐带 蝎子 蛇咬 面',
    );
  });
});
