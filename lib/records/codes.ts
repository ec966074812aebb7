// Common names on Chinese lab reports mapped to the standard abbreviations those reports print
// beside them, so one indicator keeps one code across hospitals (葡萄糖 and 空腹血糖 are both GLU).
// Names and abbreviations follow 《全国临床检验操作规程》(第4版, 国家卫生健康委临床检验中心) and the
// LIS abbreviations in common use on Chinese reports (血常规, 肝功能, 肾功能, 血脂, 甲功, 尿常规).

/** Canonical code → the names it is printed under (compared without spaces, case-insensitively). */
const TABLE: Record<string, string[]> = {
  // 血糖
  GLU: ['葡萄糖', '血糖', '空腹血糖', '空腹血葡萄糖', '血清葡萄糖', 'FPG', 'GLU'],
  HbA1c: ['糖化血红蛋白', '糖化血红蛋白A1c', '糖基化血红蛋白', 'HbA1c', 'GHb'],
  // 血常规
  WBC: ['白细胞', '白细胞计数', '白细胞总数', 'WBC'],
  RBC: ['红细胞', '红细胞计数', 'RBC'],
  HGB: ['血红蛋白', '血红蛋白浓度', 'HGB', 'Hb'],
  HCT: ['红细胞压积', '红细胞比容', '血细胞比容', 'HCT'],
  PLT: ['血小板', '血小板计数', 'PLT'],
  MCV: ['平均红细胞体积', 'MCV'],
  MCH: ['平均红细胞血红蛋白量', '平均红细胞血红蛋白含量', 'MCH'],
  MCHC: ['平均红细胞血红蛋白浓度', 'MCHC'],
  'NEUT%': ['中性粒细胞百分比', '中性粒细胞百分数', '中性粒细胞比率', 'NEUT%', 'NE%'],
  NEUT: ['中性粒细胞计数', '中性粒细胞绝对值', '中性粒细胞数', 'NEUT#', 'NE#'],
  'LYMPH%': ['淋巴细胞百分比', '淋巴细胞百分数', '淋巴细胞比率', 'LYMPH%', 'LY%'],
  LYMPH: ['淋巴细胞计数', '淋巴细胞绝对值', 'LYMPH#', 'LY#'],
  // 肝功能
  ALT: ['谷丙转氨酶', '丙氨酸氨基转移酶', '丙氨酸转氨酶', 'ALT', 'GPT'],
  AST: ['谷草转氨酶', '天门冬氨酸氨基转移酶', '天冬氨酸氨基转移酶', '天冬氨酸转氨酶', 'AST', 'GOT'],
  GGT: ['谷氨酰转移酶', 'γ-谷氨酰转移酶', 'γ-谷氨酰转肽酶', '谷氨酰转肽酶', 'GGT', 'γ-GT'],
  ALP: ['碱性磷酸酶', 'ALP', 'AKP'],
  TBIL: ['总胆红素', 'TBIL', 'T-BIL'],
  DBIL: ['直接胆红素', '结合胆红素', 'DBIL', 'D-BIL'],
  IBIL: ['间接胆红素', '非结合胆红素', 'IBIL', 'I-BIL'],
  TP: ['总蛋白', '血清总蛋白', 'TP'],
  ALB: ['白蛋白', '血清白蛋白', 'ALB'],
  GLB: ['球蛋白', 'GLB'],
  // 肾功能
  CREA: ['肌酐', '血肌酐', '血清肌酐', 'CREA', 'Cr', 'SCr'],
  UREA: ['尿素', '尿素氮', '血尿素氮', 'UREA', 'BUN'],
  UA: ['尿酸', '血尿酸', '血清尿酸', 'UA', 'URIC'],
  eGFR: ['估算肾小球滤过率', '肾小球滤过率', 'eGFR'],
  // 血脂
  TC: ['总胆固醇', '胆固醇', 'TC', 'CHOL'],
  TG: ['甘油三酯', '三酰甘油', 'TG'],
  'HDL-C': ['高密度脂蛋白胆固醇', '高密度脂蛋白', 'HDL-C', 'HDL'],
  'LDL-C': ['低密度脂蛋白胆固醇', '低密度脂蛋白', 'LDL-C', 'LDL'],
  // 甲状腺功能
  TSH: ['促甲状腺激素', '促甲状腺素', 'TSH'],
  FT3: ['游离三碘甲状腺原氨酸', '游离T3', 'FT3'],
  FT4: ['游离甲状腺素', '游离T4', 'FT4'],
  // 电解质
  K: ['钾', '血钾', '血清钾', 'K', 'K+'],
  Na: ['钠', '血钠', '血清钠', 'Na', 'Na+'],
  Cl: ['氯', '血氯', '血清氯', 'Cl', 'Cl-'],
  Ca: ['钙', '血钙', '血清钙', 'Ca', 'Ca2+'],
  // 炎症
  CRP: ['C反应蛋白', 'C-反应蛋白', 'CRP'],
  'hs-CRP': ['超敏C反应蛋白', '超敏C-反应蛋白', 'hs-CRP', 'hsCRP'],
  ESR: ['红细胞沉降率', '血沉', 'ESR'],
  // 尿常规（尿葡萄糖、尿蛋白 are their own codes: not blood values）
  'U-PRO': ['尿蛋白', '蛋白质(尿)', 'PRO'],
  'U-GLU': ['尿糖', '尿葡萄糖', '葡萄糖(尿)'],
  'U-BLD': ['尿潜血', '隐血', '尿隐血', 'BLD'],
  'U-KET': ['尿酮体', '酮体', 'KET'],
  'U-WBC': ['尿白细胞', '白细胞(尿)', 'LEU'],
  SG: ['尿比重', '比重', 'SG'],
};

const key = (s: string) =>
  s
    .normalize('NFKC')
    .replace(/[\s\u3000]/g, '')
    .toLowerCase();

const BY_NAME = new Map<string, string>();
for (const [code, names] of Object.entries(TABLE)) {
  for (const n of names) BY_NAME.set(key(n), code);
  BY_NAME.set(key(code), code);
}

export const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(TABLE));

/**
 * The standard code of a printed name: the name itself, an abbreviation in brackets beside it
 * (`葡萄糖(GLU)`, `谷丙转氨酶【ALT】`), else the model's own code when it is a known one. Unknown: null.
 */
export function codeFor(name: string, modelCode?: string | null): string | null {
  const n = key(name);
  const direct = BY_NAME.get(n);
  if (direct) return direct;
  const bracket = /^(.+?)[([【]([^)\]】]+)[)\]】]$/.exec(n);
  if (bracket) {
    const inner = bracket[2] ? BY_NAME.get(bracket[2]) : undefined;
    const outer = bracket[1] ? BY_NAME.get(bracket[1]) : undefined;
    if (outer ?? inner) return outer ?? inner ?? null;
  }
  if (modelCode) return BY_NAME.get(key(modelCode)) ?? null;
  return null;
}
