/**
 * Emergency triage rules, as data.
 *
 * Every regular expression here runs over NORMALISED text (see normalise.ts): simplified Chinese, half-width,
 * lower-case, no whitespace or punctuation. So write "胸口剧痛", never "胸口 剧痛" or "胸口劇痛".
 *
 * Matching model (implemented in triage.ts):
 *   - A rule fires when ANY of its `patterns` matches.
 *   - A pattern is either one regex, or `{ allOf: [...] }` where every regex must match somewhere in the text
 *     (symptom combinations such as chest pain + cold sweat).
 *   - Each individual match is discarded when it is directly negated (NEGATION_PREFIX, "没有胸痛") or marked
 *     as past experience by a trailing 过 (PAST_ASPECT_SUFFIX, "胸痛过").
 *   - Whole-message CONTEXT_GUARDS (general knowledge question, past history, fiction) suppress rules unless
 *     the message also carries a "happening now" signal. A rule may opt out of a guard via `skipGuards`.
 *   - Rules are checked in array order and the first hit wins, so more specific categories come first.
 *
 * Answers are templates: `{emergency}` and `{crisis}` are replaced with the configured phone numbers.
 */

export type TriageCategory =
  | 'self_harm'
  | 'high_fever_infant'
  | 'pregnancy_bleeding'
  | 'anaphylaxis'
  | 'poisoning'
  | 'cardiac'
  | 'stroke'
  | 'breathing'
  | 'unconscious'
  | 'seizure'
  | 'bleeding';

export type GuardId = 'general_question' | 'past_history' | 'fiction' | 'in_care';

/** Which configured number an action dials. */
export type NumberRef = 'emergency' | 'crisis';

export interface RuleAction {
  type: 'call';
  number: NumberRef;
  /** May contain `{emergency}` / `{crisis}` placeholders. */
  label: string;
}

export interface RuleAnswer {
  /** Chinese guidance; may contain `{emergency}` / `{crisis}` placeholders. */
  message: string;
  actions: readonly RuleAction[];
}

export type RulePattern = RegExp | { readonly allOf: readonly RegExp[] };

export interface TriageRule {
  category: TriageCategory;
  level: 'emergency';
  patterns: readonly RulePattern[];
  /** Context guards this rule ignores (the per-match past-aspect check follows `past_history`). */
  skipGuards?: readonly GuardId[];
  answer: RuleAnswer;
}

export interface ContextGuard {
  id: GuardId;
  /** The guard suppresses matching when `when` matches the whole text... */
  when: RegExp;
  /** ...unless `unless` also matches (a signal that something is happening now). */
  unless: RegExp;
}

export const DEFAULT_EMERGENCY_NUMBER = '120';
/** National psychological assistance hotline (全国统一心理援助热线). */
export const DEFAULT_CRISIS_LINE = '12356';

// ---------------------------------------------------------------------------------------------------------
// Per-match modifiers
// ---------------------------------------------------------------------------------------------------------

/**
 * Tested against the few characters immediately before a match. A negator directly in front (optionally with
 * a light verb such as 出现/感到/想过) cancels that match: 没有胸痛, 不想死, 无呼吸困难, 从来没想过自杀.
 * A-not-A questions (是不是/会不会/有没有) are questions, not negations, hence the look-behind.
 */
export const NEGATION_PREFIX =
  /(?<![会是要能有可])(?:没有?|无|未|不是|不|别|并非|否认|从没有?|从来没有?|从来不|从不|从未|不再)(?:再|有|出现|感到|感觉|觉得|发生|明显|会|要|想过|想|打算)?$/;

/** Tested against the characters right after a match: 胸痛过 / 抽搐过 describe past experience. */
export const PAST_ASPECT_SUFFIX = /^过(?![去来多度量敏])/;

// ---------------------------------------------------------------------------------------------------------
// Context guards
// ---------------------------------------------------------------------------------------------------------

/** Signals that something is going on right now; these keep a rule alive despite a guard. */
const NOW =
  '突然|忽然|正在|刚才|刚刚|此刻|马上|救命|快来|快救|快不行|又|还在|仍然|依然|最近|今天|今早|今晚|昨晚|半夜|' +
  '一直|越来越|现在(?!(?:已经|都|也|基本)?(?:好|没事|恢复|正常|缓解|控制))|' +
  '目前(?!(?:已经|都|也|基本)?(?:好|没事|恢复|正常|缓解|控制))|怎么办|该怎么|咋办';

/** Signals that the message is about the writer or someone with them, not a topic. */
const PERSONAL = `我|俺|咱|本人|自己|老公|老婆|媳妇|妻子|丈夫|宝宝|孩子|小孩|儿子|女儿|闺女|爸|妈|爷爷|奶奶|外公|外婆|姥|家人|朋友|同事|室友|他|她|\\d+(?:周|天|个月|岁|小时|分钟)|${NOW}`;

export const CONTEXT_GUARDS: readonly ContextGuard[] = [
  {
    // "胸痛一般是什么原因？" / "中风有哪些早期症状？" — asking about a condition, not having it.
    id: 'general_question',
    when: new RegExp(
      '一般|通常|常见|哪些|什么原因|原因是什么|的原因|什么引起|怎么引起|引起的|是什么病|什么是|是什么意思|' +
        '(?:症状|表现|征兆|前兆|信号)(?:有)?(?:哪些|是什么|有什么)|什么(?:症状|表现)|早期症状|' +
        '预防|注意什么|注意事项|要注意|科普|区别|怎么判断|如何判断|如何识别|怎么识别|遗传|能治好|' +
        '能根治|治愈率|后遗症|危害|发病率|为什么会',
    ),
    unless: new RegExp(PERSONAL),
  },
  {
    // "我爸去年胸痛过，现在好了" — history, not a current event.
    id: 'past_history',
    when: new RegExp(
      // (?<!晕|昏…)过去: 晕过去 is "passed out", not "in the past".
      '去年|前年|以前|之前|曾经|(?<![晕昏倒死])过去|上次|上回|小时候|年轻时|' +
        '\\d+年前|[几一二三四五六七八九十两]+年前|(?:\\d+|[几一二三四五六七八九十两]+)个月前|上个?月|' +
        '病史|既往|多年|好几年|常年|长期|后遗症|出院|康复|好了|没事了|恢复了|痊愈|治好',
    ),
    unless: new RegExp(NOW),
  },
  {
    // "电视剧里女主昏迷了三年" — a story, not a patient.
    id: 'fiction',
    when: /电视剧|剧里|剧中|这部剧|那部剧|电影里|电影中|小说|动漫|动画片|漫画|剧情|综艺|游戏里|女主|男主|主角|演员|拍戏/,
    unless: /突然|正在|刚才|刚刚|此刻|马上|救命|怎么办|我(?:现在|突然|正在)/,
  },
  {
    // "我爸昏迷三天了，医生说要手术" — already with doctors; telling them to call 120 is noise.
    id: 'in_care',
    when: /住院|icu|重症监护|监护室|抢救室|医生说|医生让|术后|手术后/,
    unless: /突然|忽然|刚才|刚刚|此刻|救命|又(?:开始|出现|发作|犯)|快不行/,
  },
];

// ---------------------------------------------------------------------------------------------------------
// Shared term fragments (regex source strings)
// ---------------------------------------------------------------------------------------------------------

const re = (...alternatives: string[]): RegExp => new RegExp(alternatives.join('|'));

const CHEST = '(?:胸口|胸部|胸前区|胸前|前胸|心口|心前区|心脏|胸)';
const CHEST_MOD = '(?:突然|忽然|一阵阵?|阵阵|持续|一直|很|特别|非常|好)*';
const CHEST_PAIN = `${CHEST}(?:突然|一阵阵?|持续|剧烈|很|特别|非常|好|有点|有些)?(?:的)?(?:疼|痛|绞痛|刺痛)|胸痛`;
const CHEST_TIGHT = `${CHEST}(?:突然|很|特别|非常|好|有点|有些)?(?:闷|发闷|憋|发紧|紧|压得慌|压着|堵)|胸闷`;
const CHEST_ANY = `${CHEST_PAIN}|${CHEST_TIGHT}`;
const SWEAT = '(?:出|冒|直冒|流|满头|一身|浑身)?(?:冷汗|大汗|虚汗)|出汗|冒汗';
const SHORT_OF_BREATH =
  '气短|气促|气急|喘不上气|喘不过气|上不来气|透不过气|吸不上气|呼吸困难|呼吸急促|憋气|喘得厉害';
const RADIATING =
  '(?:左|两|双)?(?:胳膊|手臂|臂|肩膀?|后背|背部?|下巴|下颌|牙齿?|脖子|颈部?)(?:也|都|一起|连着|跟着)?(?:疼|痛|发麻|麻|酸痛)|放射|牵扯|扩散到|窜到';
const DOOM = '濒死|要死了|快死了|快不行了';

const LIMB = '(?:身体|身子|手脚|肢体|胳膊和腿|手和脚|上下肢|胳膊|手臂|手|腿|脚|脸)';
const WEAK = '(?:没有?力气?|无力|没劲|使不上劲|麻木|发麻|麻了|不能动|动不了|不听使唤|抬不起来?|没有?知觉)';
const MOTOR_WEAK = '(?:没有?力气?|无力|没劲|使不上劲|不能动|动不了|不听使唤|抬不起来?)';
const SPEECH =
  '(?:说话|讲话|言语|口齿|吐字)(?:突然|忽然|有点|有些|也|都|开始|变得)*(?:不清楚?|不清晰|含糊|含混|不利索|不流利|大舌头)|含糊不清|' +
  '舌头(?:发?僵|发?硬|不灵活|不听使唤)|(?<!嗓子|喉咙|哑了|哑得|疼得|痛得|紧张得|激动得|气得|累得|感动得|吓得|憋得)说不出话|不会说话了';
const ACUTE_OR_ELDER =
  '突然|忽然|一下子|刚才|刚刚|早上起来|醒来|睡醒|今天|嘴歪|口角歪|没力|无力|发麻|' +
  '老人|老爸|老妈|我爸|我妈|父亲|母亲|爷爷|奶奶|外公|外婆|姥姥|姥爷|老伴|老头|老太|公公|婆婆|岳父|岳母|大爷|大妈';
const STROKE_NAMES = '(?:中风|脑梗塞?|脑卒中|脑溢血|脑出血|脑血栓)';

const INFANT = '婴儿|宝宝|新生儿|孩子|小孩|小朋友|幼儿|娃|儿子|女儿|闺女';
const YOUNG_INFANT =
  '新生儿|满月|(?<![\\d十])(?:[1-3一二三两]|半)个?月(?:大|的宝宝|宝宝|婴儿|的婴儿|的孩子|的娃)|' +
  '(?<!\\d)(?:\\d{1,2}|[一二三四五六七八九十]+)(?:天|周)大|(?:宝宝|婴儿|孩子)(?:才|刚|刚满|满)?(?<!\\d)(?:[1-3一二三两]|半)个?月(?!\\d)';
const FEVER =
  '高烧|高热|发烧|发热|烧到|烧得|体温(?:到|达|有|是)?(?:3[89]|4[0-2])|(?<!\\d)(?:3[89]|4[0-2])(?:\\.\\d)?(?:度|c)';
const FEVER_DANGER =
  '抽搐|抽风|惊厥|抽筋|翻白眼|精神(?:很|特别|非常)?(?:差|不好|萎靡)|没精神|蔫|叫不醒|喊不醒|嗜睡|昏睡|一直睡|睡不醒|' +
  '反应(?:很)?(?:差|迟钝)|不吃奶|拒奶|(?:呼吸|喘气)(?:很|特别)?(?:急促|费力|快)|皮肤(?:发花|花斑)|囟门(?:鼓|凸)|哭声(?:微弱|小)|软绵绵|软塌塌';

const PREGNANT =
  '怀孕|(?<![备避])孕(?:\\d+|[一二三四五六七八九十两几]+)?(?:周|个月|早期|中期|晚期|妇|期|中)|妊娠|怀(?:了)?(?:宝宝|孩子|二胎|三胎)|有身孕|宫外孕|先兆流产';
const PREGNANCY_BLEED =
  '(?<!牙龈|牙|鼻子|鼻|鼻腔|眼睛|眼|眼底|皮下|痔疮|肛门|伤口|手指|刷牙)(?:出血|流血|见红)|(?:下面|下身|阴道)(?:出血|流血)|流了?(?:好多|很多|一些|点)?血';

const ALLERGY_CONTEXT =
  '过敏|(?:蜜|马|黄)?蜂蛰|被(?:蜜|马|黄)?蜂|蛰了|被虫子?(?:咬|蛰)|打完针|打了针|打针后|输液后|输完液|' +
  '(?:打|输|吃|用)(?:了|完)?(?:头孢|青霉素|阿莫西林|造影剂|疫苗)|' +
  '吃了?(?:海鲜|虾|螃蟹|蟹|花生|坚果|芒果|菠萝)';
const AIRWAY_OR_SHOCK =
  '(?:喉咙|嗓子眼?|喉头|咽喉)(?:突然|一下子|有点|有些|很|好|好像|感觉|开始|都|也|越来越)*(?:发紧|紧|肿|水肿|堵|像被掐住)|' +
  '(?:舌头|嘴唇|嘴|脸)(?:都|突然|一下子)?(?:肿起来|肿了|肿得)|呼吸困难|喘不上气|喘不过气|透不过气|上不来气|憋气|胸闷|' +
  '晕倒|晕过去|意识模糊|血压(?:下降|很低|掉)';
const BODY_RASH =
  '(?:全身|浑身|满身|身上)(?:都|突然|一下子)?(?:起|长|出|冒)(?:了)?(?:很多|好多|一片片?|大片)?(?:的)?(?:疹子|红疹|风团|荨麻疹|包|红点|疙瘩)|全身(?:发红|红肿)';

const TOXIN =
  '农药|敌敌畏|百草枯|草甘膦|除草剂|杀虫剂|老鼠药|鼠药|灭鼠药|毒鼠强|消毒液|84|八四|漂白水|漂白剂|洁厕灵|洗洁精|洗衣凝珠|' +
  '汽油|煤油|防冻液|甲醇|工业酒精|水银|干燥剂|纽扣电池|磁铁|毒蘑菇|野蘑菇|野生?菌子?|乌头|草乌';
const OVERDOSE_AMOUNT = '一整瓶|一瓶|整瓶|半瓶|一大把|一把|几十片|\\d{2,}片|一盒|整盒|一整盒|一板|一整板';
const RISKY_DRUG =
  '安眠药|安定|地西泮|降糖药|降压药|扑热息痛|对乙酰氨基酚|退烧药|止痛药|抗抑郁药|精神科的?药';

const SEIZURE_MINOR_SITE =
  '眼皮|眼睛|眼角|眼|嘴角|嘴唇|脸|面部|面肌|脸部|肌肉|腿|小腿|大腿|脚趾|脚底|手指|胳膊|胃|肚子|心|眉毛|太阳穴|肩膀|背';

// ---------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------

const CALL_EMERGENCY: RuleAction = { type: 'call', number: 'emergency', label: '拨打{emergency}急救电话' };
const CALL_CRISIS: RuleAction = { type: 'call', number: 'crisis', label: '拨打{crisis}心理援助热线' };

const lines = (...parts: string[]): string => parts.join('\n');

// ---------------------------------------------------------------------------------------------------------
// Rules (order = priority)
// ---------------------------------------------------------------------------------------------------------

export const TRIAGE_RULES: readonly TriageRule[] = [
  {
    // First, so someone who says they want to die AND took pills gets the caring message (which also says 120).
    category: 'self_harm',
    level: 'emergency',
    // History of self-harm is itself a risk factor, so a past mention still gets the crisis line.
    skipGuards: ['past_history', 'fiction', 'in_care'],
    patterns: [
      // 想死 but not "想死你了/想死我了" (= miss you so much).
      /想死(?![你我他她它您])|想去死/,
      /不想活|活不下去|活着(?:没有?|有什么)(?:意思|意义)|活着(?:好|太|真)累|没有?活下去的/,
      /自杀|轻生|寻死|割腕|自残|自伤|想不开|一了百了|死了算了|不如死了|死了就(?:好|解脱)/,
      /想(?:要|去)?(?:跳楼|跳河|跳桥|上吊|烧炭|卧轨)|(?:想|要|准备|打算)从[\u4e00-\u9fa5]{1,6}?跳下去|(?:划|割|伤害)(?:自己|手腕)/,
      /结束(?:自己的?|我的?)?(?:生命|一切)|了结(?:自己|生命)|从这个世界(?:上)?消失|写(?:好了)?遗书/,
    ],
    answer: {
      message: lines(
        '你现在一定很难受，谢谢你愿意说出来。你的感受很重要，你不需要一个人扛着。',
        '请现在就拨打心理援助热线 {crisis}，那里有专业的人愿意倾听你、陪你一起度过这段时间。',
        '如果你已经伤害了自己、吃了药，或者觉得自己马上可能会做出伤害自己的事，请立即拨打 {emergency}，或请身边的人陪你去最近的医院急诊。',
        '此刻你也可以：',
        '1. 联系一位你信任的家人或朋友，告诉他们你现在的状态，请他们来陪着你；',
        '2. 把刀具、药物等可能伤害自己的东西放远一些，或交给别人保管；',
        '3. 尽量待在有人的地方，不要一个人待着。',
        '你值得被帮助，最难熬的时刻是可以过去的。',
      ),
      actions: [CALL_CRISIS, CALL_EMERGENCY],
    },
  },
  {
    category: 'high_fever_infant',
    level: 'emergency',
    patterns: [
      { allOf: [re(INFANT), re(FEVER), re(FEVER_DANGER)] },
      { allOf: [re(YOUNG_INFANT), re(FEVER)] },
    ],
    answer: {
      message: lines(
        '【紧急提示】婴幼儿发烧同时出现抽搐、精神差、叫不醒、呼吸急促、拒奶，或3个月以下的小婴儿发烧（体温≥38℃），都需要立即就医。',
        '请立即拨打 {emergency} 或马上送医院儿科急诊，不要等待线上回复。',
        '等待或送医途中：',
        '1. 如果正在抽搐：让孩子侧躺，移开周围的硬物，不要往嘴里塞任何东西，不要强行按住或掐人中，记下抽搐持续的时间；',
        '2. 不要捂汗，不要用酒精擦身，可适当减少衣物帮助散热；',
        '3. 不要自行给孩子服用成人药物，退烧药是否使用、怎么使用请听从医生指导；',
        '4. 带上孩子的体温记录和近期用药情况。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'pregnancy_bleeding',
    level: 'emergency',
    patterns: [
      { allOf: [re(PREGNANT), re(PREGNANCY_BLEED)] },
      {
        allOf: [
          re(PREGNANT),
          /(?:肚子|腹部|小腹|下腹)(?:突然|一阵阵?)?(?:剧痛|剧烈疼痛|疼得(?:厉害|受不了|要命)|痛得(?:厉害|受不了|要命))|剧烈腹痛/,
        ],
      },
    ],
    answer: {
      message: lines(
        '【紧急提示】怀孕期间出现阴道出血（见红），尤其是出血量多、伴有明显腹痛或头晕，可能是流产、宫外孕破裂、胎盘问题等急症。',
        '请立即拨打 {emergency} 或尽快到有产科的医院急诊就诊，不要等待线上回复。',
        '等待或送医途中：',
        '1. 立即停止活动，平躺休息，尽量少走动；',
        '2. 不要自行服用任何药物（包括“保胎药”），除非医生指导；',
        '3. 留意出血量、颜色以及有没有组织物排出，方便医生评估；',
        '4. 带上产检资料（产检本、B超单等）；',
        '5. 如果出现头晕、心慌、面色苍白、出冷汗，说明可能失血较多，必须立即呼叫 {emergency}。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'anaphylaxis',
    level: 'emergency',
    patterns: [
      /过敏性休克|严重过敏反应|喉头水肿/,
      { allOf: [re(ALLERGY_CONTEXT), re(AIRWAY_OR_SHOCK)] },
      { allOf: [re(BODY_RASH), /喘|呼吸|憋|透不过气|喉咙|嗓子|胸闷/] },
    ],
    answer: {
      message: lines(
        '【紧急提示】过敏后出现喉咙发紧或肿胀、呼吸困难、全身起疹伴气喘、头晕甚至晕倒，可能是严重过敏反应（过敏性休克），可在几分钟内危及生命。',
        '请立即拨打 {emergency}，不要等待线上回复。',
        '等待救护车时：',
        '1. 立即停止接触可疑的过敏原（停止进食、停止用药或输液、远离蜂虫等）；',
        '2. 如果医生给你开过肾上腺素自动注射笔，请立即按说明使用；',
        '3. 呼吸困难时保持坐位；头晕、面色苍白时平躺并抬高双腿，不要突然站起或走动；',
        '4. 如果病人失去意识、没有正常呼吸，立即开始心肺复苏（胸外按压）。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'poisoning',
    level: 'emergency',
    patterns: [
      /误(?:服|食|吃|喝|吞)/,
      re(`(?:喝|吃|吞|服|咽)(?:了|下|进)?(?:去)?(?:点|一些|一口|几口|半瓶|一瓶|不少)?(?:的)?(?:${TOXIN})`),
      re(
        `(?:吃|服|吞)(?:了|下)?(?:${OVERDOSE_AMOUNT})(?:的)?[\\u4e00-\\u9fa5]{0,6}?(?:药|片|胶囊|丸|粒|素)`,
        `(?:吃|服|吞)(?:了|下)?(?:大量|过量)(?:的)?(?:${RISKY_DRUG})`,
      ),
      // A child getting into someone else's medicine / chemicals.
      {
        allOf: [
          /(?:孩子|宝宝|小孩|娃)(?:把|偷吃了?|偷喝了?|偷偷)(?:大人|家里|我|爷爷|奶奶|姥姥|姥爷|外婆|外公|爸爸|妈妈)的/,
          /药|消毒液|洗衣液|洗衣凝珠|电池|农药/,
        ],
      },
      // Carbon monoxide: a fuel source plus symptoms, even without the word 中毒.
      {
        allOf: [
          /烧炭|炭火|煤炉|蜂窝煤|煤气|燃气热水器|一氧化碳/,
          /头晕|头痛|头疼|恶心|呕吐|昏|叫不醒|没力气|乏力|站不稳/,
        ],
      },
      /(?:服药|吃药|用药|药物|药)过量|过量服(?:用|药)|药吃多了|吃多了药|吃了太多(?:的)?药/,
      /(?:一氧化碳|煤气|燃气|天然气|炭火|烧炭|沼气|有机磷|农药|药物|酒精)中毒|(?:煤气|天然气|燃气)泄漏/,
    ],
    answer: {
      message: lines(
        '【紧急提示】误服药物或毒物、服药过量、喝了农药，或一氧化碳（煤气）中毒都非常危险，即使暂时没有症状也可能迅速加重。',
        '请立即拨打 {emergency}，不要等待线上回复。',
        '等待救护车时：',
        '1. 煤气/一氧化碳中毒：立即开窗通风，把人转移到空气新鲜的地方，关闭气源，不要开关电器或使用明火；',
        '2. 不要自行催吐，也不要喂牛奶、醋、肥皂水等“解毒”偏方，除非急救人员指导；',
        '3. 保留药瓶、药盒、农药瓶或剩余的东西带去医院，告诉医生吃了什么、大概多少、什么时间；',
        '4. 农药沾到皮肤或衣服：脱掉污染的衣物，用大量清水冲洗皮肤；',
        '5. 如果病人昏迷，让其侧躺防止呕吐物呛入气道；没有正常呼吸时立即开始心肺复苏。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'cardiac',
    level: 'emergency',
    patterns: [
      re(
        `${CHEST}${CHEST_MOD}(?:剧痛|剧烈(?:的)?(?:疼|痛)|绞痛|(?:疼|痛)得(?:受不了|要命|厉害|不行|喘不)|像(?:被)?(?:压|石头|大石|刀))`,
        `${CHEST}${CHEST_MOD}(?:压榨|撕裂)[性样般]?(?:的)?(?:疼痛|疼|痛|感)`,
        '(?:剧烈|压榨[性样]?|撕裂[性样]?)(?:的)?(?:胸痛|胸口痛|胸口疼|胸部疼痛)|心绞痛(?:发作|持续)',
      ),
      { allOf: [re(CHEST_ANY), re(SWEAT)] },
      { allOf: [re(CHEST_PAIN), re(SHORT_OF_BREATH)] },
      { allOf: [re(CHEST_ANY), re(RADIATING)] },
      { allOf: [re(CHEST_ANY), re(DOOM)] },
      /(?:是不是|好像|可能|怀疑|疑似|像是?|怕是)(?:是|得了|犯了)?(?:心梗|心肌梗[死塞])|(?:心梗|心肌梗[死塞]|心脏病)(?:又|突然)?(?:发作|犯了|了)|急性心梗|突发心梗|心脏骤停|心跳骤停|心跳停(?:了|止)|心脏停跳/,
    ],
    answer: {
      message: lines(
        '【紧急提示】胸痛、胸闷伴出冷汗、气短，或疼痛向手臂、下巴、后背放射，可能是急性心肌梗死等危及生命的急症。',
        '请立即拨打 {emergency} 急救电话，不要等待线上回复，也不要自己开车或走路去医院。',
        '等待救护车时：',
        '1. 立即停止一切活动，坐下或半躺，保持安静，尽量不要走动；',
        '2. 解开衣领、腰带，保持通风；',
        '3. 是否服用阿司匹林、硝酸甘油等药物，请听从 {emergency} 调度员或医生的指导；',
        '4. 打开家门，备好病历和正在服用的药物，身边尽量有人陪同；',
        '5. 如果病人失去意识、没有正常呼吸，立即开始胸外按压（心肺复苏），附近有AED请尽快取用。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'stroke',
    level: 'emergency',
    patterns: [
      /(?:口角|嘴角|嘴巴?|口眼|一侧嘴角|半边嘴)(?:突然|有点|有些|好像|往一边|向一侧|向一边|一边)?(?:歪斜|歪|斜)|(?:突然|一下子)(?:半边)?脸(?:歪|斜)|突然面瘫|半边脸(?:突然)?(?:麻|没知觉|不能动|动不了)/,
      re(
        `(?:一侧|半边|单侧|半身|一边|半侧|左半边|右半边|左半身|右半身)(?:的)?${LIMB}?(?:突然|一下子|都|也)?${WEAK}`,
        `(?:左|右)(?:侧|边)?(?:的)?(?:手脚|肢体|胳膊和腿|手和脚|上下肢|半身)(?:突然|一下子|都|也)?${WEAK}`,
        `(?:突然|忽然|一下子)(?:的)?(?:手脚|肢体|胳膊|手臂|腿|一只手|一条腿)(?:都|也)?${MOTOR_WEAK}`,
        '半身不遂|偏瘫',
      ),
      { allOf: [re(SPEECH), re(ACUTE_OR_ELDER)] },
      /(?:突然|忽然|一下子)(?:一只眼睛?|一侧眼睛?|单眼|眼睛|两眼|双眼)?(?:看不清|看不见|失明|视物模糊|看东西模糊|看东西重影|重影)|(?:一只眼睛?|一侧眼睛?|单眼)(?:突然)?(?:看不清|看不见|失明)/,
      re(
        `(?:是不是|好像|可能|怀疑|疑似|像是?|怕是)(?:是|得了|犯了|发生了?)?${STROKE_NAMES}`,
        `${STROKE_NAMES}(?:了|发作)`,
        `(?:急性|突发)${STROKE_NAMES}`,
      ),
      // Thunderclap headache: possible subarachnoid haemorrhage.
      /(?:突然|突发|一下子)(?:剧烈|炸裂|爆炸)(?:样|般|性)?(?:的)?头(?:痛|疼)|(?:突然|突发)头(?:痛|疼)(?:欲裂|得像要炸开|得要炸了)|(?:这辈子|有生以来)最(?:剧烈|严重|厉害|痛|疼)的头(?:痛|疼)/,
    ],
    answer: {
      message: lines(
        '【紧急提示】口角歪斜、一侧肢体无力或麻木、说话含糊不清、突然看不清东西或突发剧烈头痛，可能是脑卒中（中风）的表现。中风救治争分夺秒。',
        '请立即拨打 {emergency}，不要等待线上回复，也不要等症状自己缓解。',
        '等待救护车时：',
        '1. 记下症状开始（或最后一次看起来正常）的时间，告诉医生，这对治疗非常关键；',
        '2. 让病人平躺或侧躺，头偏向一侧，防止呕吐物呛入气道；',
        '3. 不要给病人喂水、喂食或喂药（包括降压药和偏方），不要掐人中或用力摇晃；',
        '4. 松开衣领，保持呼吸通畅；如果病人失去意识、没有正常呼吸，立即开始心肺复苏。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'breathing',
    level: 'emergency',
    patterns: [
      /喘不上气|上不来气|吸不上气|吸不进气|(?<!压力|压力大|压力大得|压力大到|压得|压得我|忙得|累得|逼得|烦得|闷得)(?:喘不过气|透不过气)/,
      /(?:憋|喘)得(?:说不出话|喘不|脸都?(?:紫|青|发紫|发青))|(?<!有点|有些|轻微|稍微|稍|偶尔|一点|轻度)呼吸困难|呼吸(?:很|特别|非常|越来越)(?:急促|费力|困难)|呼吸窘迫|没法呼吸|无法呼吸|不能呼吸|呼吸不了/,
      /(?:嘴唇|嘴|脸|脸色|指甲|手指)(?:都|也|有点|开始|突然)?(?:发紫|青紫|发青|紫了|乌紫|紫绀)|窒息(?!感|式)/,
      /(?:被|让)(?:东西|食物|异物|鱼刺|果冻|糖|花生|枣核|骨头)?(?:噎住|卡住喉咙|卡住气管|呛住了?喘)|噎住了|卡住喉咙|异物卡喉/,
      { allOf: [/哮喘/, /(?:喷|吸|用)了?药(?:也|都|还是)?(?:没用|不管用|没效果|不缓解|缓解不了)|说不出话/] },
    ],
    answer: {
      message: lines(
        '【紧急提示】严重的呼吸困难、喘不上气、憋得说不出话、嘴唇或脸色发紫，说明身体可能严重缺氧，情况危急。',
        '请立即拨打 {emergency}，不要等待线上回复。',
        '等待救护车时：',
        '1. 让病人保持坐位或身体前倾等自己觉得最舒服的姿势，不要强迫平躺；',
        '2. 解开衣领、腰带，开窗通风，远离烟雾、粉尘等刺激物；',
        '3. 如果有医生开过的急救吸入药（如哮喘急救喷雾），可按医嘱使用；',
        '4. 如果是被食物或异物噎住、不能说话也不能咳嗽，立即使用海姆立克急救法（1岁以下婴儿用拍背和压胸的方法）；',
        '5. 如果病人失去意识、没有正常呼吸，立即开始心肺复苏。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'unconscious',
    level: 'emergency',
    patterns: [
      /昏迷|叫不醒|喊不醒|叫不应|喊不应|摇不醒|拍不醒|推不醒|弄不醒|醒不过来|不省人事|人事不省/,
      /(?<!手|脚|手指|脚趾|腿|胳膊|手臂|脸|嘴唇|舌头|半边)(?:失去|丧失)(?:了)?(?:意识|知觉)|意识(?:不清|模糊|丧失)|没有?意识(?!到)/,
      /(?<!差点|差一点|快要|快|要|几乎|险些|都快|感觉要|热得|累得)(?:晕|昏)(?:倒|过去|厥)|倒地不起|倒在地上(?:不动|起不来|没反应)/,
      /(?:叫|喊|拍|摇)(?:他|她|了|他们|半天|都|也|着)*没有?反应|没有?呼吸(?!困难|急促|不畅|道)|没有?心跳(?!加速|过快|过速|异常)/,
    ],
    answer: {
      message: lines(
        '【紧急提示】昏迷、叫不醒或失去意识是危及生命的情况。',
        '请立即拨打 {emergency}，不要等待线上回复。',
        '等待救护车时：',
        '1. 拍打病人双肩并大声呼喊，看有没有反应；看胸口有没有起伏，判断有没有正常呼吸；',
        '2. 如果没有反应且没有正常呼吸（或只有叹气样呼吸），立即开始胸外按压：双手掌根叠放在胸部正中，用力、快速地按压，每分钟100～120次，有AED尽快使用，也可以按 {emergency} 调度员的指导操作；',
        '3. 如果有正常呼吸，让病人侧躺（稳定侧卧位），保持气道通畅，防止呕吐物呛入；',
        '4. 不要喂水、喂食或喂药，不要掐人中或用力摇晃；记下发生的时间和经过，告诉医生。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'seizure',
    level: 'emergency',
    patterns: [
      re(
        `(?<!(?:${SEIZURE_MINOR_SITE})(?:一直|总是|经常|老是|有点|有些|偶尔|不停地?|老|总|会|在|有时|突然)?)抽搐`,
        '抽风(?!机)|惊厥|口吐白沫',
      ),
      /癫痫(?:又|突然|大)?发作|羊(?:癫|角)[疯风](?:发作|犯了|又犯)|(?:全身|浑身|四肢|手脚)(?:一直|不停地?)?(?:抽(?:个不停|起来|动)|抽了起来)/,
    ],
    answer: {
      message: lines(
        '【紧急提示】正在抽搐（抽风、癫痫发作）时，首先要保护好病人的安全。',
        '请立即拨打 {emergency}，不要等待线上回复。特别是抽搐超过5分钟、反复发作、发作后一直不清醒、呼吸困难、受了伤、是第一次抽搐或是孕妇时，必须尽快送医。',
        '等待救护车时：',
        '1. 移开周围的硬物和危险物品，在头下垫软物，不要强行按住病人的手脚；',
        '2. 不要往嘴里塞任何东西（包括手指、毛巾、筷子），不要喂水喂药，不要掐人中；',
        '3. 抽搐停止后，让病人侧躺，保持呼吸通畅，陪在身边直到完全清醒；',
        '4. 记下抽搐开始的时间和持续多久，告诉医生。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
  {
    category: 'bleeding',
    level: 'emergency',
    patterns: [
      /大出血|(?<!月经|例假|经期|痔疮|牙龈|刷牙)出血(?:量)?(?:很多|特别多|非常多|不止|很大|量大)|(?:血|出血|流血)(?:怎么也|一直|还是|都)?止不住|止不住(?:地)?(?:流|出)?血/,
      /流血不止|血流不止|血流如注|喷血|血(?:喷|涌)出来|血(?:一直|不停|还在|哗哗|汩汩)?(?:地)?往外(?:涌|冒|喷|流)|血流个不停|流了?(?:好多|很多|一大堆|一地|大量|一大滩)(?:的)?血/,
      /(?:一直|不停|大量|大口|好多|很多)(?:地|的)?(?:流血|出血|呕血|吐血|咯血|咳血|便血|拉血|尿血)/,
      /(?:呕|吐|咯|咳|拉|便)(?:了|出)?(?:好多|很多|一大口|大口|大量|一碗|一盆|半碗|一滩|一大滩)(?:的)?(?:鲜)?血/,
      /(?<!月经|例假|经期)(?:便血|拉血|呕血|咯血|咳血|吐血|尿血|出血|流血)(?:的)?量(?:很|特别|非常|比较)?(?:大|多)/,
      /呕血|(?<!气得?|气的)吐血(?!推荐|整理|分享|总结|安利|价|甩卖)|(?:咯血|咳血)不止/,
    ],
    answer: {
      message: lines(
        '【紧急提示】大量出血、血止不住，或大量呕血、便血、咯血，可能在短时间内危及生命。',
        '请立即拨打 {emergency}，不要等待线上回复。',
        '等待救护车时：',
        '1. 外伤出血：用干净的纱布、毛巾或衣物直接用力按压伤口，持续按压不要松开查看；渗透了就在上面再加一层，不要揭掉；',
        '2. 呕血、咯血：让病人侧躺或头偏向一侧，防止血液呛入气道，不要吃东西、不要喝水；',
        '3. 让病人躺下、注意保暖，保持安静，尽量少移动；',
        '4. 留意病人的意识和呼吸，如果出现面色苍白、手脚湿冷、意识模糊，要告诉急救人员。',
      ),
      actions: [CALL_EMERGENCY],
    },
  },
];
