// Lab report text as printed on real Chinese reports: ranges, values, flags and codes, and the
// model's answer held to its schema.
import { describe, expect, it } from 'vitest';
import { jsonReply, SAMPLE_LAB_REPORT } from '../../dev/mock-llm/index.js';
import { AppError } from '../../lib/errors.js';
import { codeFor } from '../../lib/records/codes.js';
import { MAX_ITEMS, readModelAnswer } from '../../lib/records/extract.js';
import { computeFlag, normaliseFlag, parseRange, parseValue } from '../../lib/records/ranges.js';

describe('parseRange', () => {
  const cases: [string, number | null, number | null][] = [
    ['3.9-6.1', 3.9, 6.1],
    ['3.9 - 6.1', 3.9, 6.1],
    ['3.9～6.1', 3.9, 6.1],
    ['3.9~6.1', 3.9, 6.1],
    ['3.9—6.1', 3.9, 6.1],
    ['3.9–6.1', 3.9, 6.1],
    ['3.9--6.1', 3.9, 6.1],
    ['3.9至6.1', 3.9, 6.1],
    ['３.９－６.１', 3.9, 6.1],
    ['(3.5-9.5)', 3.5, 9.5],
    ['[0-40]', 0, 40],
    ['3.5-9.5 ×10^9/L', 3.5, 9.5],
    ['125-350 10^9/L', 125, 350],
    ['-3~3', -3, 3],
    ['<5.0', null, 5],
    ['＜5.2', null, 5.2],
    ['< 5.2', null, 5.2],
    ['≤5.2', null, 5.2],
    ['<=1.7', null, 1.7],
    ['小于10', null, 10],
    ['≥ 40', 40, null],
    ['>1.04', 1.04, null],
    ['＞1.04', 1.04, null],
    ['>=90', 90, null],
    ['阴性', null, null],
    ['阴性(-)', null, null],
    ['-', null, null],
    ['', null, null],
    ['见备注', null, null],
    // Inverted: a misread, no bounds rather than wrong ones.
    ['6.1-3.9', null, null],
  ];
  it.each(cases)('%s → %s..%s', (text, low, high) => {
    expect(parseRange(text)).toMatchObject({ low, high });
  });

  it('reads qualitative ranges', () => {
    expect(parseRange('阴性').qualitative).toBe('negative');
    expect(parseRange('阴性(-)').qualitative).toBe('negative');
    expect(parseRange('Negative').qualitative).toBe('negative');
    expect(parseRange('3.9-6.1').qualitative).toBeNull();
  });

  it('picks the gender’s part of a gender-specific range, none when the gender is unknown', () => {
    const text = '男:40-50 女:35-45';
    expect(parseRange(text, 'male')).toMatchObject({ low: 40, high: 50 });
    expect(parseRange(text, 'female')).toMatchObject({ low: 35, high: 45 });
    expect(parseRange(text, null)).toMatchObject({ low: null, high: null });
    expect(parseRange('男 130-175；女 115-150', 'female')).toMatchObject({ low: 115, high: 150 });
  });
});

describe('parseValue', () => {
  const cases: [string, number | null, 'high' | 'low' | null, string | null][] = [
    ['5.6', 5.6, null, null],
    ['  5.60 ', 5.6, null, null],
    ['6.8↑', 6.8, 'high', null],
    ['↑ 6.8', 6.8, 'high', null],
    ['3.2↓', 3.2, 'low', null],
    ['7.8 H', 7.8, 'high', null],
    ['7.8H', 7.8, 'high', null],
    ['12.1(L)', 12.1, 'low', null],
    ['６.８', 6.8, null, null],
    ['-2.5', -2.5, null, null],
    ['<0.5', 0.5, null, null],
    ['阴性', null, null, 'negative'],
    ['阴性(-)', null, null, 'negative'],
    ['-', null, null, 'negative'],
    ['阳性(+)', null, null, 'positive'],
    ['2+', null, null, 'positive'],
    ['+', null, null, 'positive'],
    ['±', null, null, 'weak-positive'],
    // Two numbers are not one value.
    ['120/80', null, null, null],
    ['见报告', null, null, null],
    // Beyond any lab value: a misread.
    ['99999999999', null, null, null],
  ];
  it.each(cases)('%s → %s', (text, value, mark, qualitative) => {
    expect(parseValue(text)).toEqual({ value, mark, qualitative });
  });
});

describe('flags', () => {
  it('takes the report’s own mark, else computes from the range', () => {
    const range = parseRange('3.9-6.1');
    expect(computeFlag(parseValue('6.8'), range, null)).toBe('high');
    expect(computeFlag(parseValue('3.1'), range, null)).toBe('low');
    expect(computeFlag(parseValue('5.0'), range, null)).toBe('normal');
    expect(computeFlag(parseValue('6.1'), range, null)).toBe('normal');
    // The report says so: it wins over the computation.
    expect(computeFlag(parseValue('5.0'), range, 'high')).toBe('high');
    expect(computeFlag(parseValue('5.0↓'), range, null)).toBe('low');
    expect(computeFlag(parseValue('1.2'), parseRange('≥ 1.04'), null)).toBe('normal');
    expect(computeFlag(parseValue('0.9'), parseRange('≥ 1.04'), null)).toBe('low');
    expect(computeFlag(parseValue('5.5'), parseRange('<5.2'), null)).toBe('high');
    expect(computeFlag(parseValue('阴性'), parseRange('阴性'), null)).toBe('normal');
    expect(computeFlag(parseValue('阳性(+)'), parseRange('阴性'), null)).toBe('abnormal');
    expect(computeFlag(parseValue('5.0'), parseRange(''), null)).toBeNull();
    expect(computeFlag(parseValue('阳性'), parseRange(''), null)).toBeNull();
  });

  it('normalises printed flags', () => {
    expect(['H', '↑', '偏高', 'high'].map(normaliseFlag)).toEqual(['high', 'high', 'high', 'high']);
    expect(['L', '↓', '偏低'].map(normaliseFlag)).toEqual(['low', 'low', 'low']);
    expect(['正常', 'N'].map(normaliseFlag)).toEqual(['normal', 'normal']);
    expect(['阳性', '异常', '*'].map(normaliseFlag)).toEqual(['abnormal', 'abnormal', 'abnormal']);
    expect([null, '', '??'].map(normaliseFlag)).toEqual([null, null, null]);
  });
});

describe('codeFor', () => {
  const cases: [string, string | null, string | null][] = [
    ['葡萄糖', null, 'GLU'],
    ['空腹血糖', null, 'GLU'],
    ['葡萄糖(GLU)', null, 'GLU'],
    ['糖化血红蛋白', null, 'HbA1c'],
    ['谷丙转氨酶', null, 'ALT'],
    ['丙氨酸氨基转移酶', null, 'ALT'],
    ['谷丙转氨酶【ALT】', null, 'ALT'],
    ['白细胞', null, 'WBC'],
    ['白细胞计数', null, 'WBC'],
    ['白细胞(尿)', null, 'U-WBC'],
    ['尿葡萄糖', null, 'U-GLU'],
    ['低密度脂蛋白胆固醇', null, 'LDL-C'],
    ['肌 酐', null, 'CREA'],
    // Unknown name: the model's code only when it is a known one, canonicalised.
    ['某院内项目', 'alt', 'ALT'],
    ['某院内项目', 'hba1c', 'HbA1c'],
    ['某院内项目', 'DROP TABLE', null],
    ['某院内项目', null, null],
  ];
  it.each(cases)('%s (model: %s) → %s', (name, model, code) => {
    expect(codeFor(name, model)).toBe(code);
  });
});

describe('readModelAnswer', () => {
  const answer = (over: Record<string, unknown>) => JSON.stringify({ ...SAMPLE_LAB_REPORT, ...over });
  const refused = (raw: string, code: string) => {
    let caught: unknown;
    try {
      readModelAnswer(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe(code);
  };

  it('turns the stand-in’s sample into parsed, flagged, coded items', () => {
    const r = readModelAnswer(jsonReply('report'));
    expect(r.takenAt).toBe('2026-11-20');
    expect(r.items[0]).toEqual({
      name: '葡萄糖',
      code: 'GLU',
      value: 6.8,
      valueText: '6.8↑',
      unit: 'mmol/L',
      referenceRange: { low: 3.9, high: 6.1, text: '3.9-6.1' },
      flag: 'high',
    });
    expect(r.items.map((i) => [i.code, i.flag])).toEqual([
      ['GLU', 'high'],
      ['HbA1c', 'high'],
      ['ALT', 'normal'],
      ['WBC', 'low'],
      ['HDL-C', 'normal'],
      ['U-PRO', 'normal'],
    ]);
  });

  it('accepts a fenced answer and nulls a date that is not one', () => {
    const r = readModelAnswer(`\`\`\`json\n${answer({ takenAt: '2026-02-30' })}\n\`\`\``);
    expect(r.takenAt).toBeNull();
    expect(readModelAnswer(answer({ takenAt: '昨天' })).takenAt).toBeNull();
  });

  it('not a report, or no items: 422', () => {
    refused(jsonReply('notreport'), 'UNPROCESSABLE');
    refused(answer({ items: [] }), 'UNPROCESSABLE');
  });

  it('broken JSON or an answer outside the schema: 502', () => {
    refused(jsonReply('broken'), 'UPSTREAM_ERROR');
    refused('', 'UPSTREAM_ERROR');
    refused('[1,2]', 'UPSTREAM_ERROR');
    refused(answer({ isLabReport: 'yes' }), 'UPSTREAM_ERROR');
    refused(answer({ items: [{ name: 'x'.repeat(61), valueText: '1' }] }), 'UPSTREAM_ERROR');
    refused(answer({ items: [{ name: '', valueText: '1' }] }), 'UPSTREAM_ERROR');
    refused(answer({ items: [{ name: 'GLU', valueText: { $gt: 1 } }] }), 'UPSTREAM_ERROR');
    const many = Array.from({ length: MAX_ITEMS + 1 }, (_, i) => ({ name: `项目${i}`, valueText: '1' }));
    refused(answer({ items: many }), 'UPSTREAM_ERROR');
    refused(answer({ institution: '医'.repeat(101) }), 'UPSTREAM_ERROR');
  });
});
