import { describe, expect, it } from 'vitest';
import {
  normaliseText,
  type RulePattern,
  TRIAGE_RULES,
  type TriageCategory,
  toSimplified,
  triage,
} from '../../lib/safety/index.js';

type Case = { category: TriageCategory; text: string };

// One line per case. Each category needs ≥3, including at least one colloquial and one traditional form
// (enforced by the coverage test below).
const POSITIVE: Case[] = [
  { category: 'cardiac', text: '胸口剧痛，出冷汗' },
  { category: 'cardiac', text: '胸闷气短，还一直冒大汗' },
  { category: 'cardiac', text: '我爸胸口疼，左胳膊也发麻' },
  { category: 'cardiac', text: '心口疼得受不了' },
  { category: 'cardiac', text: '胸口像被大石头压着' },
  { category: 'cardiac', text: '我老公好像心梗了' },
  { category: 'cardiac', text: '我老公胸口一阵阵绞痛' },
  { category: 'cardiac', text: '胸前区压榨样疼痛' },
  { category: 'cardiac', text: '胸口劇痛，冒冷汗' },
  { category: 'cardiac', text: '我媽胸悶，出了一身冷汗' },

  { category: 'stroke', text: '我爸突然嘴歪了，说话也含糊不清' },
  { category: 'stroke', text: '我妈早上起来半边身子没力气' },
  { category: 'stroke', text: '奶奶一侧手脚发麻' },
  { category: 'stroke', text: '突然一只眼睛看不见了' },
  { category: 'stroke', text: '我爸是不是中风了' },
  { category: 'stroke', text: '突然剧烈头痛，像要炸开一样' },
  { category: 'stroke', text: '我妈说话突然不利索了，右边胳膊抬不起来' },
  { category: 'stroke', text: '我爺爺突然講話不清楚' },
  { category: 'stroke', text: '外婆口角歪斜，說話含糊' },

  { category: 'breathing', text: '喘不上气，嘴唇发紫' },
  { category: 'breathing', text: '我妈憋得说不出话' },
  { category: 'breathing', text: '孩子被果冻噎住了' },
  { category: 'breathing', text: '哮喘发作，喷了药也不管用' },
  { category: 'breathing', text: '我喘得说不出话' },
  { category: 'breathing', text: '呼吸困難，快不行了' },
  { category: 'breathing', text: '上不來氣' },

  { category: 'bleeding', text: '伤口一直流血，按不住' },
  { category: 'bleeding', text: '大出血了' },
  { category: 'bleeding', text: '我爸吐了一大口血' },
  { category: 'bleeding', text: '拉了好多血，头晕' },
  { category: 'bleeding', text: '车祸，腿上血一直往外涌' },
  { category: 'bleeding', text: '我妈便血，量很大' },
  { category: 'bleeding', text: '我爸一直在嘔血' },
  { category: 'bleeding', text: '血止不住怎麼辦' },

  { category: 'unconscious', text: '我爸晕倒了，叫不醒' },
  { category: 'unconscious', text: '奶奶突然失去意识' },
  { category: 'unconscious', text: '他倒在地上没反应了' },
  { category: 'unconscious', text: '叫他半天都没反应' },
  { category: 'unconscious', text: '孩子摔倒后昏过去了' },
  { category: 'unconscious', text: '我爺爺昏迷不醒' },
  { category: 'unconscious', text: '我媽突然暈倒了' },

  { category: 'seizure', text: '孩子突然抽搐，口吐白沫' },
  { category: 'seizure', text: '我爸癫痫发作了' },
  { category: 'seizure', text: '我弟抽风了' },
  { category: 'seizure', text: '他全身抽个不停' },
  { category: 'seizure', text: '我爸羊角风犯了' },
  { category: 'seizure', text: '我爸住院了，刚才突然抽搐' },
  { category: 'seizure', text: '我媽癲癇發作了' },

  { category: 'anaphylaxis', text: '吃了海鲜过敏，喉咙发紧' },
  { category: 'anaphylaxis', text: '被蜜蜂蛰了，喘不上气' },
  { category: 'anaphylaxis', text: '全身起疹子，还喘' },
  { category: 'anaphylaxis', text: '吃了海鲜过敏，喉咙好像肿了' },
  { category: 'anaphylaxis', text: '打了头孢后全身起风团，胸闷' },
  { category: 'anaphylaxis', text: '過敏後喉嚨腫了，呼吸困難' },

  { category: 'poisoning', text: '孩子误服了降压药' },
  { category: 'poisoning', text: '我爸喝了农药' },
  { category: 'poisoning', text: '我吃了一整瓶安眠药' },
  { category: 'poisoning', text: '家里煤气中毒了' },
  { category: 'poisoning', text: '宝宝吞了纽扣电池' },
  { category: 'poisoning', text: '孩子把奶奶的降糖药吃了' },
  { category: 'poisoning', text: '家里烧炭，人头晕恶心' },
  { category: 'poisoning', text: '我爸喝了農藥' },
  { category: 'poisoning', text: '服藥過量了' },

  { category: 'self_harm', text: '我不想活了' },
  { category: 'self_harm', text: '真的好想死' },
  { category: 'self_harm', text: '活着没意思，想结束自己的生命' },
  { category: 'self_harm', text: '我想自杀' },
  { category: 'self_harm', text: '想割腕' },
  { category: 'self_harm', text: '我以前想过自杀，最近又有这种念头' },
  { category: 'self_harm', text: '想死，刚吃了一整瓶安眠药' },
  { category: 'self_harm', text: '我想从楼上跳下去' },
  { category: 'self_harm', text: '住院期间不想活了' },
  { category: 'self_harm', text: '我想自殺' },
  { category: 'self_harm', text: '撐不下去了，想輕生' },

  { category: 'pregnancy_bleeding', text: '怀孕8周，下面流血了' },
  { category: 'pregnancy_bleeding', text: '孕32周见红了' },
  { category: 'pregnancy_bleeding', text: '我老婆怀孕两个月，出血很多' },
  { category: 'pregnancy_bleeding', text: '宫外孕，肚子剧痛' },
  { category: 'pregnancy_bleeding', text: '懷孕了，下面在流血' },

  { category: 'high_fever_infant', text: '宝宝高烧抽搐' },
  { category: 'high_fever_infant', text: '孩子发烧39度，精神很差，一直睡' },
  { category: 'high_fever_infant', text: '两个月宝宝发烧38度' },
  { category: 'high_fever_infant', text: '新生儿发热' },
  { category: 'high_fever_infant', text: '娃烧到40度，蔫了' },
  { category: 'high_fever_infant', text: '寶寶發高燒，叫不醒' },
  { category: 'high_fever_infant', text: '嬰兒高燒精神差' },

  // Normalisation: full-width characters, spaces, punctuation, emoji.
  { category: 'cardiac', text: '胸口 剧痛！！　出冷汗😰' },
  { category: 'high_fever_infant', text: '８个月宝宝发烧３９．５℃，抽搐了' },
];

const NEAR_MISSES: string[] = [
  // From the brief: past / third-party history and general questions.
  '我爸去年胸痛过，现在好了，平时要注意什么？',
  '胸痛一般是什么原因？',
  '中风有哪些早期症状？',
  // Words that merely contain 死 or 血.
  '手机死机了',
  '笑死我了',
  '累死了',
  '血常规报告怎么看',
  '血压有点高',
  '贫血吃什么',
  '献血后注意什么',
  // Trigger words in harmless senses.
  '眼皮抽搐',
  '眼皮跳',
  '鼻子过敏打喷嚏',
  '深呼吸放松',
  '电视剧里女主昏迷了三年，现实中可能吗？',
  '昏昏沉沉想睡觉',
  // Negations.
  '没有胸痛',
  '不想死',
  '我不想死',
  // Our own.
  '想死你了',
  '吓死我了',
  '我没有胸痛，也没有出冷汗',
  '我胸口疼，但没有出冷汗',
  '胸口有点闷',
  '心梗的前兆有哪些？',
  '中風有哪些早期症狀？',
  '我爷爷半身不遂多年，怎么护理',
  '孩子口齿不清怎么训练',
  '嗓子疼得说不出话',
  '突然站起来眼前发黑',
  '眼皮一直抽搐怎么回事',
  '嘴角抽搐',
  '小腿抽筋了',
  '抽风机坏了',
  '我有癫痫病史，平时吃什么药',
  '压力大到喘不过气',
  '有点呼吸困难',
  '没有呼吸困难',
  '差点晕过去',
  '我没有意识到问题',
  '吐血推荐这家店',
  '气得吐血',
  '刷牙出血',
  '农药残留怎么洗',
  '吃了好多药都不管用',
  '孕期牙龈出血',
  '备孕期间出血正常吗',
  '宝宝发烧38度，精神还好',
  '13个月宝宝发烧38度',
  '过敏性鼻炎怎么办',
  '自杀的人有哪些征兆？',
  '这部剧男主为什么一直昏迷',
  '我爸昏迷三天了，医生说要做手术，术后注意什么',
  '我爸以前中风过，现在说话还不太清楚，怎么康复训练',
  '孩子说话不清楚怎么办',
  '晕倒过一次',
  '宝宝发烧了，精神还可以',
  '孩子把药吃了还是发烧',
  '煤气灶坏了',
  '怎么预防一氧化碳中毒',
  '月经量很大',
  '',
  '   ',
];

describe('triage: positive cases', () => {
  it.each(POSITIVE)('$category ← $text', ({ category, text }) => {
    const result = triage(text);
    expect(result).not.toBeNull();
    expect(result?.category).toBe(category);
    expect(result?.level).toBe('emergency');
    expect(result?.message).toContain('120');
    const numbers = result?.actions.map((a) => a.number);
    if (category === 'self_harm') {
      // Crisis line first, 120 as the fallback for immediate danger.
      expect(numbers).toEqual(['12356', '120']);
      expect(result?.message).toContain('12356');
    } else {
      expect(numbers).toEqual(['120']);
    }
    for (const action of result?.actions ?? []) {
      expect(action.type).toBe('call');
      expect(action.label).toContain(action.number);
    }
  });
});

describe('triage: near misses return null', () => {
  it.each(NEAR_MISSES)('%j', (text) => {
    expect(triage(text)).toBeNull();
  });
});

describe('triage: configurable numbers', () => {
  const opts = { emergencyNumber: '999', crisisLine: '400-161-9995' };
  const onePerCategory = TRIAGE_RULES.map((rule) => {
    const example = POSITIVE.find((c) => c.category === rule.category);
    return { category: rule.category, text: example?.text ?? '' };
  });

  it.each(onePerCategory)('$category uses the configured numbers', ({ category, text }) => {
    const result = triage(text, opts);
    expect(result?.category).toBe(category);
    const expected = category === 'self_harm' ? ['400-161-9995', '999'] : ['999'];
    expect(result?.actions.map((a) => a.number)).toEqual(expected);
    for (const number of expected) expect(result?.message).toContain(number);
    expect(result?.message).not.toMatch(/拨打\s*120/);
    expect(result?.message).not.toMatch(/[{}]/);
    for (const action of result?.actions ?? []) expect(action.label).not.toMatch(/[{}]|120|12356/);
  });

  it.each([
    { emergencyNumber: '', crisisLine: '   ' },
    { emergencyNumber: 'call me', crisisLine: '12356; drop table' },
  ])('falls back to defaults for unusable config %j', (bad) => {
    expect(triage('我不想活了', bad)?.actions.map((a) => a.number)).toEqual(['12356', '120']);
  });
});

describe('triage: rule data', () => {
  const categories = TRIAGE_RULES.map((r) => r.category);
  const regexes = (p: RulePattern): RegExp[] => (p instanceof RegExp ? [p] : [...p.allOf]);

  it('covers the required categories, once each', () => {
    expect(new Set(categories).size).toBe(categories.length);
    for (const required of [
      'cardiac',
      'stroke',
      'breathing',
      'bleeding',
      'unconscious',
      'seizure',
      'anaphylaxis',
      'poisoning',
      'self_harm',
      'pregnancy_bleeding',
      'high_fever_infant',
    ] satisfies TriageCategory[]) {
      expect(categories).toContain(required);
    }
  });

  it.each(categories)('%s has ≥3 positive tests including a traditional-character one', (category) => {
    const cases = POSITIVE.filter((c) => c.category === category);
    expect(cases.length).toBeGreaterThanOrEqual(3);
    expect(cases.some((c) => toSimplified(c.text) !== c.text)).toBe(true);
  });

  it.each(TRIAGE_RULES)('$category: stateless regexes and a call action', (rule) => {
    for (const re of rule.patterns.flatMap(regexes)) expect(re.flags).not.toContain('g');
    expect(rule.answer.actions.some((a) => a.type === 'call' && a.number === 'emergency')).toBe(true);
    expect(rule.answer.message).toContain('{emergency}');
  });
});

describe('normaliseText', () => {
  it.each([
    ['胸口 剧痛，出冷汗！', '胸口剧痛出冷汗'],
    ['ＡＢＣ１２３　全角', 'abc123全角'],
    ['頭暈，嘔血，呼吸困難', '头晕呕血呼吸困难'],
    ['過敏後喉嚨發緊', '过敏后喉咙发紧'],
    ['喝了農藥；想自殺', '喝了农药想自杀'],
    ['說話、講話不清楚', '说话讲话不清楚'],
    ['体温39.5℃。', '体温39.5c'],
    ['好难受...', '好难受'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseText(input)).toBe(expected);
  });
});
