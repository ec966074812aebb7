/**
 * The emergency triage table: one row per discriminator of the protocol (the project's TRIAGE.md), as
 * combinations of lexicon concepts (triage-lexicon.ts). A clinician reviews this file row by row; each row
 * carries a plain-language meaning and an example that the tests run (tests/in-process/safety-triage.test.ts).
 *
 *   all:     every entry must be found in a clause that is not guarded (an entry that is a list means any of)
 *   none:    none of these may be found (e.g. menstruation for "lots of blood")
 *   ignores: guards this row looks through (see triage-guards.ts)
 *
 * Rows are checked in order; the first hit decides the category, so specific rows come before general ones
 * (self-harm before overdose, pregnancy before abdominal pain, clot before breathing).
 */
import type { GuardId } from './triage-guards.js';
import type { TriageCategory } from './triage-guidance.js';
import type { Concept } from './triage-lexicon.js';

export interface TriageRule {
  id: string;
  category: TriageCategory;
  all: readonly (Concept | readonly Concept[])[];
  none?: readonly Concept[];
  ignores?: readonly GuardId[];
  /** What the row means, for the reviewer. */
  means: string;
  /** A message this row alone must catch (tested). */
  example: string;
}

/** Looking fine is not safe after swallowing these: a resolved cue does not clear them. */
const SWALLOWED: readonly GuardId[] = ['resolved'];
/** Self-harm risk does not go away because someone is in hospital. */
const SELF_HARM: readonly GuardId[] = ['in_care'];

export const TRIAGE_RULES: readonly TriageRule[] = [
  // ---- self-harm and violence first: the answer must name the crisis line / police -----------------------
  {
    id: 'self_harm.intent',
    category: 'self_harm',
    ignores: SELF_HARM,
    all: ['SELF_HARM_INTENT'],
    means: 'says they want to die, end it, or cannot go on (also indirect: 想解脱, 撑不下去)',
    example: '撑不下去了，想解脱',
  },
  {
    id: 'self_harm.means',
    category: 'self_harm',
    ignores: SELF_HARM,
    all: ['SELF_HARM_MEANS'],
    means: 'means prepared or a note written (药攒够了, 遗书, 绳子买好了)',
    example: '药都攒够了',
  },
  {
    id: 'self_harm.place',
    category: 'self_harm',
    ignores: SELF_HARM,
    all: ['SELF_HARM_PLACE'],
    means: 'at a roof, bridge or river with intent, or wants to jump',
    example: '在江边站了很久，想跳下去',
  },
  {
    id: 'self_harm.act',
    category: 'self_harm',
    ignores: SELF_HARM,
    all: ['SELF_HARM_ACT'],
    means: 'injury already done (割腕, 自残)',
    example: '刚割了手腕',
  },
  {
    id: 'self_harm.apology_farewell',
    category: 'self_harm',
    ignores: SELF_HARM,
    all: ['GOODBYE_APOLOGY', 'GOODBYE_FAREWELL'],
    means: 'an apology together with a farewell (对不起爸妈…照顾好自己)',
    example: '对不起爸妈，以后照顾好自己',
  },
  {
    id: 'self_harm.goodbye',
    category: 'self_harm',
    ignores: SELF_HARM,
    all: ['GOODBYE'],
    none: ['FIRE'],
    means: 'goodbye messages (以后不会再麻烦你们了, 下辈子再见)',
    example: '以后不会再麻烦你们了',
  },
  {
    id: 'violence.assault',
    category: 'violence',
    all: ['ASSAULT', 'DANGER_NOW'],
    means: 'being hit, choked, chased with a knife, stalked, and it is now (躲, 又, 在外面, 现在)',
    example: '他又在打我，我躲在厕所',
  },
  {
    id: 'violence.stabbed',
    category: 'violence',
    all: ['STABBED'],
    means: 'stabbed, slashed or robbed',
    example: '我被抢劫了，对方拿刀捅了我',
  },
  {
    id: 'violence.threat',
    category: 'violence',
    all: ['THREAT_TO_KILL'],
    means: 'someone threatens to kill them',
    example: '前男友说要杀了我',
  },

  // ---- pregnancy and infants before general rows --------------------------------------------------------
  {
    id: 'pregnancy.bleeding',
    category: 'pregnancy',
    all: ['PREGNANT', 'PREG_BLEED'],
    means: 'pregnant and bleeding from below (出血, 见红)',
    example: '怀孕两个月，下面出了好多血',
  },
  {
    id: 'pregnancy.pain',
    category: 'pregnancy',
    all: [['PREGNANT', 'LATE_PERIOD'], 'PREG_PAIN'],
    means: 'pregnant or period late, with severe or one-sided abdominal pain (ectopic, abruption)',
    example: '月经推迟，肚子一侧剧痛',
  },
  {
    id: 'pregnancy.late_period_faint',
    category: 'pregnancy',
    all: ['LATE_PERIOD', ['BELLY_PAIN', 'PREG_BLEED'], 'NEAR_FAINT'],
    means: 'period late with abdominal pain or bleeding and dizziness (ruptured ectopic)',
    example: '大姨妈晚了两周，肚子疼，头晕',
  },
  {
    id: 'pregnancy.danger',
    category: 'pregnancy',
    all: ['PREGNANT', 'PREG_DANGER'],
    means: 'pregnant with fits, no fetal movement, or cord visible after the waters broke',
    example: '孕34周，今天感觉不到胎动了',
  },
  {
    id: 'pregnancy.preeclampsia',
    category: 'pregnancy',
    all: ['PREGNANT', 'HEAD_PAIN', ['VISION_LOSS', 'VISION_BLUR', 'OEDEMA']],
    means: 'pregnant with headache and blurred vision or marked swelling (pre-eclampsia)',
    example: '怀孕八个月，头痛，看东西模糊',
  },
  {
    id: 'pregnancy.faint',
    category: 'pregnancy',
    all: ['PREGNANT', 'FAINT'],
    means: 'pregnant and fainted',
    example: '怀孕五个月，刚才晕倒了',
  },
  {
    id: 'pregnancy.postpartum_bleeding',
    category: 'pregnancy',
    all: ['POSTPARTUM', 'PREG_BLEED', 'HEAVY'],
    means: 'heavy bleeding after giving birth',
    example: '刚生完孩子三天，下面出血特别多',
  },
  {
    id: 'infant.fever',
    category: 'infant',
    all: ['YOUNG_INFANT', ['FEVER', 'INFANT_WARM']],
    means: 'under about 3 months (新生儿, 满月, 2个月, 40天) with fever or feeling hot',
    example: '两个月的宝宝发烧38度',
  },
  {
    id: 'infant.danger',
    category: 'infant',
    all: ['YOUNG_INFANT', 'INFANT_DANGER'],
    means: 'young infant not feeding, floppy, cold, blue, weak cry, very yellow, sleeping all the time',
    example: '新生儿不吃奶，软软的',
  },
  {
    id: 'infant.dehydration',
    category: 'infant',
    all: ['CHILD', 'NO_WET_NAPPY', 'DEHYDRATION_SIGN'],
    means: 'baby with no wet nappy and listless or no tears',
    example: '宝宝一整天没有尿，精神蔫蔫的',
  },

  // ---- swallowed things, poisons, pills -----------------------------------------------------------------
  {
    id: 'ingestion.object',
    category: 'ingestion',
    all: ['SWALLOWED_DANGER'],
    ignores: SWALLOWED,
    means: 'swallowed a button battery, magnets or something sharp',
    example: '孩子吞了遥控器里的电池',
  },
  {
    id: 'overdose.many_pills',
    category: 'overdose',
    all: ['PILLS_MANY'],
    ignores: SWALLOWED,
    means: 'many pills at once (a bottle, a box, 10+), or the same dose taken several times',
    example: '我吃了一整瓶安眠药',
  },
  {
    id: 'overdose.risky_drug',
    category: 'overdose',
    all: ['PILLS_SOME', 'RISKY_DRUG'],
    ignores: SWALLOWED,
    means: 'several pills of a dangerous drug (sleeping pills, diabetes, blood pressure, paracetamol…)',
    example: '孩子把降糖药吃了好几颗',
  },
  {
    id: 'overdose.child_adult_medicine',
    category: 'overdose',
    all: ['CHILD_ADULT_MEDICINE'],
    ignores: SWALLOWED,
    means: "a child got into an adult's medicine",
    example: '孩子把奶奶的降压药吃了',
  },
  {
    id: 'poisoning.toxin',
    category: 'poisoning',
    all: ['INGEST_TOXIN'],
    ignores: SWALLOWED,
    means: 'drank or ate pesticide, rat poison, cleaning liquid, wild mushrooms… or 误服 anything',
    example: '我爸喝了敌敌畏',
  },
  {
    id: 'poisoning.methanol',
    category: 'poisoning',
    all: ['METHANOL', ['VISION_LOSS', 'HEAD_PAIN', 'VOMIT', 'DIZZY']],
    means: 'bulk or fake alcohol with blurred vision, headache or vomiting (methanol)',
    example: '喝了散装白酒后眼睛看不清',
  },
  {
    id: 'poisoning.carbon_monoxide',
    category: 'poisoning',
    all: ['CO_SOURCE', 'CO_SYMPTOM'],
    means: 'charcoal, coal stove or gas with headache, nausea, dizziness or collapse',
    example: '家里烧炭取暖，全家头晕想吐',
  },
  {
    id: 'poisoning.chemical_fumes',
    category: 'poisoning',
    all: ['CHEMICAL_MIX', ['BREATH_ANY', 'CHEST_SYMPTOM', 'SMOKE_SIGN', 'DIZZY']],
    means: 'mixed bleach with acid cleaner and now coughing or short of breath',
    example: '把84和洁厕灵混在一起，闻了以后咳得厉害',
  },
  {
    id: 'poisoning.named',
    category: 'poisoning',
    all: ['POISON_NAMED'],
    means: 'says someone is poisoned (煤气中毒了, 农药中毒)',
    example: '家里煤气中毒了',
  },

  // ---- heart -------------------------------------------------------------------------------------------
  {
    id: 'aortic.tearing',
    category: 'aortic',
    all: ['TEARING_TRUNK'],
    means: 'sudden tearing or ripping chest, back or belly pain',
    example: '背上突然像刀割开一样痛',
  },
  {
    id: 'aortic.sudden_back',
    category: 'aortic',
    all: ['BACK_SEVERE', 'SUDDEN', ['SWEAT', 'MIGRATING', 'PALE']],
    means: 'sudden severe back pain that moves down or comes with sweating or pallor',
    example: '后背中间突然剧痛往下走到腰',
  },
  {
    id: 'clot.after_risk',
    category: 'clot',
    all: [
      'CLOT_RISK',
      ['BREATH_SEVERE', 'BREATH_ANY'],
      ['SUDDEN', 'CHEST_PAIN', 'HEMOPTYSIS', 'HEART_RATE_EXTREME'],
    ],
    means:
      'after surgery, a long trip, bed rest or a swollen leg: sudden breathlessness with chest pain or blood',
    example: '长途飞机下来突然喘不上气',
  },
  {
    id: 'clot.haemoptysis',
    category: 'clot',
    all: ['CLOT_RISK', 'HEMOPTYSIS', ['SUDDEN', 'CHEST_PAIN']],
    means: 'after surgery or immobility: coughing blood with chest pain',
    example: '做完手术第三天，突然胸痛咳血',
  },
  {
    id: 'cardiac.crushing',
    category: 'cardiac',
    all: ['CHEST_CRUSHING'],
    means: 'severe, crushing or squeezing chest pain',
    example: '胸口像被大石头压着',
  },
  {
    id: 'cardiac.chest_plus',
    category: 'cardiac',
    all: ['CHEST_SYMPTOM', ['SWEAT', 'BREATH_SEVERE', 'BREATH_ANY', 'RADIATING', 'DOOM', 'PALE']],
    means: 'chest pain, pressure or tightness with sweating, breathlessness, radiation, pallor or dread',
    example: '胸口压着疼还出汗',
  },
  {
    id: 'cardiac.chest_lasting',
    category: 'cardiac',
    all: ['CHEST_SYMPTOM', 'DURATION'],
    means: 'chest pain lasting minutes or not relieved',
    example: '胸口疼了快半个钟头了',
  },
  {
    id: 'cardiac.named',
    category: 'cardiac',
    all: ['CARDIAC_NAMED'],
    means: 'suspected heart attack, or no pulse / heart stopped',
    example: '我老公好像心梗了',
  },
  {
    id: 'arrhythmia.rate_faint',
    category: 'arrhythmia',
    all: ['HEART_RATE_EXTREME', 'NEAR_FAINT'],
    means: 'very fast, very slow or chaotic heartbeat with dizziness, blackout or fainting',
    example: '心跳快得数不过来，眼前发黑',
  },

  // ---- brain -------------------------------------------------------------------------------------------
  {
    id: 'diabetes.hypo_or_dka',
    category: 'diabetes',
    all: ['DIABETIC', ['HYPO_STRONG', 'CONFUSED', 'UNRESPONSIVE', 'FAINT', 'SEIZURE']],
    means: 'diabetic and confused, drowsy, fitting, or vomiting with deep fast breathing / fruity breath',
    example: '打了胰岛素没吃饭，人迷迷糊糊',
  },
  {
    id: 'diabetes.sweat_shake',
    category: 'diabetes',
    all: ['DIABETIC', 'SWEAT', 'HYPO_SWEAT_SHAKE'],
    means: 'diabetic, sweating and shaking (hypoglycaemia)',
    example: '我爸糖尿病，一身冷汗手抖',
  },
  {
    id: 'diabetes.glucose_extreme',
    category: 'diabetes',
    all: ['GLUCOSE_EXTREME', ['HYPO_STRONG', 'HYPO_SWEAT_SHAKE', 'SWEAT', 'VOMIT', 'DIZZY']],
    means: 'glucose reading below 4 (or unreadably high) with symptoms',
    example: '血糖2.1，浑身发抖冒汗',
  },
  {
    id: 'stroke.face',
    category: 'stroke',
    all: ['FACE_DROOP', ['ONSET', 'SPEECH', 'ONE_SIDE_WEAK']],
    means: 'face droop, sudden or with another FAST sign',
    example: '我妈吃着饭嘴突然歪了',
  },
  {
    id: 'stroke.arm',
    category: 'stroke',
    all: ['ONE_SIDE_WEAK', ['ONSET', 'SPEECH', 'FACE_DROOP']],
    means: 'one-sided weakness or numbness, sudden or with another FAST sign',
    example: '外公早上起来左边胳膊腿都没劲',
  },
  {
    id: 'stroke.speech',
    category: 'stroke',
    all: ['SPEECH', ['ONSET', 'ONE_SIDE_WEAK', 'FACE_DROOP', 'CONFUSED']],
    means: 'slurred speech, sudden or with another sign',
    example: '说话突然大舌头',
  },
  {
    id: 'stroke.hemi',
    category: 'stroke',
    all: ['HEMI_WEAK'],
    means: 'weakness or numbness of a whole side (arm and leg, half the body)',
    example: '奶奶一侧手脚发麻',
  },
  {
    id: 'stroke.named',
    category: 'stroke',
    all: ['STROKE_NAMED'],
    means: 'suspected stroke (是不是中风了)',
    example: '我爸是不是中风了',
  },
  {
    id: 'eye.vision_loss',
    category: 'eye',
    all: ['VISION_LOSS', 'SUDDEN'],
    none: ['PREGNANT'],
    means: 'sudden loss of vision in one or both eyes',
    example: '一只眼睛突然什么都看不见了',
  },
  {
    id: 'thunderclap.explosive',
    category: 'thunderclap_headache',
    all: ['HEAD_EXPLODE'],
    means: 'headache like an explosion or a blow to the head',
    example: '头像炸开一样疼',
  },
  {
    id: 'thunderclap.exploding',
    category: 'thunderclap_headache',
    all: ['HEAD_PAIN', 'EXPLODING'],
    none: ['HEAD_HIT'],
    means: 'headache described as exploding or like a blow (in the next clause too)',
    example: '突然剧烈头痛，像要炸开一样',
  },
  {
    id: 'thunderclap.worst',
    category: 'thunderclap_headache',
    all: ['HEAD_PAIN', 'WORST_EVER'],
    means: 'the worst headache of their life',
    example: '这辈子最痛的一次头痛',
  },
  {
    id: 'thunderclap.sudden_severe',
    category: 'thunderclap_headache',
    all: ['HEAD_PAIN', 'SUDDEN', 'SEVERE', ['VOMIT', 'STIFF_NECK', 'VISION_LOSS']],
    none: ['HEAD_HIT'],
    means: 'sudden severe headache with vomiting, stiff neck or vision change',
    example: '突然后脑勺剧痛，一直呕吐',
  },
  {
    id: 'head_injury.red_flag',
    category: 'head_injury',
    all: ['HEAD_HIT', ['HEAD_RED_FLAG', 'CONFUSED', 'LETHARGIC', 'FAINT', 'SEIZURE', 'UNRESPONSIVE']],
    means: 'head hit with vomiting, drowsiness, confusion, fainting, fits or fluid from ear/nose',
    example: '摔了后脑勺，一直想吐',
  },
  {
    id: 'major_trauma.high_fall',
    category: 'major_trauma',
    all: ['HIGH_FALL'],
    means: 'fell from the third floor or higher, a roof or scaffolding',
    example: '朋友从四楼阳台摔下去了',
  },
  {
    id: 'major_trauma.mechanism',
    category: 'major_trauma',
    all: ['MECHANISM', 'INJURY_SIGN'],
    means:
      'fall from height, road accident or crush, with deformity, paralysis, pain of neck/back/belly or bleeding',
    example: '骑车被撞，腿变形了',
  },

  // ---- airway and breathing ----------------------------------------------------------------------------
  {
    id: 'choking.blocked',
    category: 'choking',
    all: ['AIRWAY_STUCK', 'AIRWAY_BLOCKED'],
    means: 'something stuck in the throat and cannot cough, speak or breathe, or turning blue',
    example: '孩子吃葡萄卡住了，咳不出来',
  },
  {
    id: 'choking.choked',
    category: 'choking',
    all: ['CHOKED'],
    none: ['FISHBONE'],
    means: 'choking on food or an object (噎住, 卡住喉咙), not a fish bone',
    example: '孩子被果冻噎住了',
  },
  {
    id: 'anaphylaxis.airway',
    category: 'anaphylaxis',
    all: ['ALLERGEN', 'AIRWAY_SWELL'],
    means: 'after food, a drug, an injection or a sting: throat, tongue or lips swelling, throat tight',
    example: '吃完芒果嘴唇和喉咙都肿了',
  },
  {
    id: 'anaphylaxis.face_swelling',
    category: 'anaphylaxis',
    all: ['FACE_SWELL_AFTER', ['ALLERGEN', 'AIRWAY_TIGHT', 'SYSTEMIC', 'SUDDEN', 'HIVES_WIDE']],
    means: 'lips, tongue or face swelling soon after eating, a drug or a sting, with another sign',
    example: '刚吃了一口腰果，嘴巴和舌头马上肿了',
  },
  {
    id: 'anaphylaxis.throat_tight',
    category: 'anaphylaxis',
    all: ['AIRWAY_TIGHT', ['ALLERGEN', 'HIVES_WIDE', 'FACE_SWELL_AFTER']],
    means: 'throat tight or blocked after an allergen or with hives',
    example: '吃了头孢以后喉咙很紧',
  },
  {
    id: 'anaphylaxis.hives_systemic',
    category: 'anaphylaxis',
    all: ['ALLERGEN', 'HIVES_WIDE', 'SYSTEMIC'],
    means: 'after an exposure: widespread hives with dizziness, wheeze or breathlessness',
    example: '被马蜂蜇了以后全身起包，人开始发晕',
  },
  {
    id: 'anaphylaxis.hives_breathing',
    category: 'anaphylaxis',
    all: ['HIVES_WIDE', ['BREATH_SEVERE', 'BREATH_ANY']],
    means: 'widespread hives with breathing trouble',
    example: '全身起疹子，还喘',
  },
  {
    id: 'breathing.severe',
    category: 'breathing',
    all: ['BREATH_SEVERE'],
    means: 'cannot breathe, cannot speak in sentences, breathing very hard',
    example: '喘得说不出完整的话',
  },
  {
    id: 'breathing.blue',
    category: 'breathing',
    all: ['BLUE', ['BREATH_ANY', 'AIRWAY_STUCK']],
    means: 'lips or face blue with breathing trouble',
    example: '孩子喘，嘴唇发紫',
  },
  {
    id: 'breathing.retractions',
    category: 'breathing',
    all: ['RETRACTIONS'],
    means: 'chest sucking in with each breath (a child working hard to breathe)',
    example: '娃喘气的时候肋骨下面一凹一凹的',
  },
  {
    id: 'breathing.asthma_unrelieved',
    category: 'breathing',
    all: ['ASTHMA_UNRELIEVED'],
    means: 'asthma not relieved by the inhaler',
    example: '哮喘发作，喷了药也不管用',
  },

  // ---- consciousness and fits --------------------------------------------------------------------------
  {
    id: 'seizure.fit',
    category: 'seizure',
    all: ['SEIZURE'],
    means: 'a fit happening (抽搐, 抽风, 口吐白沫, 两眼上翻), not a twitching eyelid or a leg cramp',
    example: '抽了好几分钟还不停',
  },
  {
    id: 'heat.stroke',
    category: 'heat',
    all: ['HEAT_EXPOSURE', ['CONFUSED', 'FAINT', 'UNRESPONSIVE', 'SEIZURE', 'HOT_BODY']],
    none: ['MECHANISM'],
    means: 'after heat or sun: confused, collapsed, fitting or very hot',
    example: '晒了一天人都糊涂了',
  },
  {
    id: 'unconscious.unresponsive',
    category: 'unconscious',
    all: [['UNRESPONSIVE', 'FAINT']],
    means: 'cannot be woken, not responding, collapsed or fainted',
    example: '叫他没反应',
  },

  // ---- bleeding and belly ------------------------------------------------------------------------------
  {
    id: 'bleeding.heavy',
    category: 'bleeding',
    all: ['BLEED_HEAVY'],
    none: ['MENSES'],
    means:
      'bleeding that will not stop, spurting, or large amounts (also vomiting or coughing lots of blood)',
    example: '切菜切到手，血一直往外冒，按了十分钟都止不住',
  },
  {
    id: 'bleeding.haematemesis',
    category: 'bleeding',
    all: ['HAEMATEMESIS'],
    means: 'vomiting blood',
    example: '我爸一直在呕血',
  },
  {
    id: 'bleeding.gi_dizzy',
    category: 'bleeding',
    all: ['GI_OR_LUNG_BLEED', ['DIZZY', 'FAINT', 'PALE', 'HEAVY']],
    means: 'vomiting blood, blood or black tarry stool, with dizziness, pallor or in quantity',
    example: '黑便还头晕',
  },
  {
    id: 'bleeding.vomit_blood',
    category: 'bleeding',
    all: ['GI_OR_LUNG_BLEED', 'SUDDEN'],
    means: 'vomiting or coughing blood that has just started',
    example: '我爸刚才吐血了',
  },
  {
    id: 'acute_abdomen.severe',
    category: 'acute_abdomen',
    all: ['BELLY_PAIN', 'SEVERE', ['VOMIT', 'FAINT', 'WORSENING', 'FEVER', 'SWEAT', 'PALE']],
    means: 'severe abdominal pain with vomiting, fainting, fever, sweating or getting worse',
    example: '肚子疼得直不起腰，越来越重',
  },
  {
    id: 'acute_abdomen.worsening',
    category: 'acute_abdomen',
    all: ['BELLY_PAIN', 'WORSENING', ['VOMIT', 'FAINT', 'FEVER']],
    means: 'abdominal pain getting worse with vomiting, fever or fainting',
    example: '右下腹痛了一晚上越来越厉害，还发烧呕吐',
  },
  {
    id: 'acute_abdomen.rigid',
    category: 'acute_abdomen',
    all: [['BELLY_PAIN', 'SEVERE'], 'BELLY_RIGID'],
    means: 'rigid belly, or pain on touch / will not let anyone touch it',
    example: '肚子硬得像木板，一碰就疼得叫',
  },
  {
    id: 'acute_abdomen.distended',
    category: 'acute_abdomen',
    all: ['BELLY_DISTENDED', ['VOMIT', 'BELLY_RIGID', 'SEVERE']],
    means: 'belly blown up with vomiting or pain on touch',
    example: '孩子肚子胀得老大，一摸就哭，还一直吐',
  },
  {
    id: 'acute_abdomen.obstruction',
    category: 'acute_abdomen',
    all: ['OBSTRUCTION', 'VOMIT'],
    means: 'no wind or stool with vomiting (bowel obstruction)',
    example: '两天没排气，一直吐',
  },
  {
    id: 'testicular.torsion',
    category: 'testicular',
    all: ['TESTIS_PAIN', ['SUDDEN', 'SEVERE', 'VOMIT', 'SWELL']],
    means: 'sudden or severe testicular pain, or swelling',
    example: '蛋蛋突然疼肿',
  },
  {
    id: 'testicular.vague',
    category: 'testicular',
    all: ['MALE_GENITAL_VAGUE', 'ONE_SIDE_SWELL', 'SUDDEN'],
    means: "sudden pain 'down there' with one side swollen (a boy describing torsion)",
    example: '孩子说下面突然很疼，一边肿起来了',
  },
  {
    id: 'eye.chemical',
    category: 'eye',
    all: ['EYE_CHEMICAL'],
    means: 'chemical (lime, cleaner, acid, alkali) in the eye',
    example: '石灰溅进眼睛',
  },
  {
    id: 'eye.injury',
    category: 'eye',
    all: ['EYE_INJURY'],
    means: 'something stuck in or exploded into the eye, or the eye bleeding',
    example: '一根铁丝扎进眼球了',
  },
  {
    id: 'eye.pain_vomit',
    category: 'eye',
    all: ['EYE_PAIN_SEVERE', 'EYE_GLAUCOMA_SIGN'],
    means: 'severe eye pain with haloes, blurred vision, headache or vomiting (acute glaucoma)',
    example: '眼睛胀痛得厉害，看灯有彩虹圈',
  },

  // ---- bites, burns ------------------------------------------------------------------------------------
  {
    id: 'bites.snake',
    category: 'bites_stings',
    all: ['SNAKE_BITE'],
    means: 'bitten by a snake',
    example: '被蛇咬了一口',
  },
  {
    id: 'bites.scorpion',
    category: 'bites_stings',
    all: ['SCORPION'],
    means: 'stung by a scorpion',
    example: '被蝎子蛰了',
  },
  {
    id: 'bites.many_stings',
    category: 'bites_stings',
    all: ['MANY_STINGS'],
    means: 'many wasp or bee stings',
    example: '孩子被一群马蜂蜇了',
  },
  {
    id: 'bites.unknown_spreading',
    category: 'bites_stings',
    all: ['FANG_MARKS', 'SPREADING'],
    means: 'a bite with fang marks and swelling spreading or numbness',
    example: '脚背两个小洞，肿到小腿了',
  },
  {
    id: 'burns.large',
    category: 'burns',
    all: ['BURN_LARGE'],
    means: 'large-area burn or scald',
    example: '孩子被开水烫了，一大片都起泡了',
  },
  {
    id: 'burns.face_airway',
    category: 'burns',
    all: ['BURN_FACE_AIRWAY'],
    means: 'burn to the face, mouth or nose (airway at risk)',
    example: '脸被热油溅到了，鼻毛都焦了',
  },
  {
    id: 'burns.smoke',
    category: 'burns',
    all: [
      ['SMOKE', 'FIRE'],
      ['SMOKE', 'SMOKE_SIGN'],
    ],
    means: 'breathed in smoke in a fire',
    example: '火灾里吸了很多烟',
  },
  {
    id: 'burns.electrical',
    category: 'burns',
    all: ['ELECTRIC'],
    means: 'electric shock',
    example: '工人触电了',
  },
  {
    id: 'burns.chemical',
    category: 'burns',
    all: ['CHEMICAL_BURN'],
    means: 'acid or alkali on the skin',
    example: '硫酸泼到胳膊上了',
  },

  // ---- fever -------------------------------------------------------------------------------------------
  {
    id: 'infection.meningitis_sepsis',
    category: 'infection',
    all: ['FEVER', ['NONBLANCHING_RASH', 'STIFF_NECK', 'CONFUSED', 'SEPSIS_SIGN']],
    means:
      'fever with a rash that does not fade, stiff neck, confusion, or cold hands / mottled skin / low pressure',
    example: '发烧还起了压不褪的红点',
  },
  {
    id: 'infection.child_lethargic',
    category: 'infection',
    all: ['CHILD', 'FEVER', ['LETHARGIC', 'FAST_BREATH']],
    means: 'a child with fever who is listless, floppy, hard to wake or breathing fast',
    example: '孩子发烧39度，精神很差，一直睡',
  },
  {
    id: 'infection.rash_child',
    category: 'infection',
    all: ['NONBLANCHING_RASH', ['CHILD', 'LETHARGIC']],
    means: 'a child with a rash that does not fade when pressed',
    example: '孩子身上出了紫红色的点点，按下去不褪色',
  },
];
