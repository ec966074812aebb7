/**
 * What the user reads when triage fires: one short guidance per situation of the emergency protocol — call
 * first, then what to do now and what NOT to do until help arrives. Short enough to read on a phone in a panic.
 *
 * `{emergency}`, `{crisis}` and `{police}` are replaced with the configured numbers (120 / 12356 / 110).
 *
 * Sources (wording is ours, the steps follow them; to be reviewed by a clinician before release):
 *   RC   中国红十字会总会《救护》救护员培训教材（心肺复苏、气道异物梗阻、止血包扎、烧烫伤、骨折固定、中毒、咬蜇伤、中暑）
 *   NHC  国家卫生健康委员会《中国公民健康素养——基本知识与技能》及卫健委健康科普（一氧化碳中毒、急救电话、心理援助热线12356）
 *   STR  中国卒中学会“中风120”识别口诀
 *   CP   中华医学会急诊医学分会《急性胸痛急诊诊疗专家共识》
 *   AD   《主动脉夹层诊断与治疗规范中国专家共识》
 *   PT   《中国急诊预检分诊专家共识》（2018）
 *   FS   《儿童热性惊厥诊断治疗与管理专家共识》
 *   GI   《急性上消化道出血急诊诊治流程专家共识》
 *   TOX  《急性中毒诊断与治疗中国专家共识》（2016）；《急性百草枯中毒诊治专家共识》
 *   FB   《中国儿童消化道异物管理指南》（纽扣电池、多枚磁铁、尖锐异物）
 *   SN   《2018年中国蛇伤救治专家共识》
 *   HS   《中国热射病诊断与治疗专家共识》
 *   DM   《中国2型糖尿病防治指南》（低血糖、糖尿病酮症酸中毒）
 *   NB   国家卫生健康委《新生儿访视技术规范》/《0～6岁儿童健康管理技术规范》（新生儿危险征象）
 *   OB   国家卫生健康委孕产期保健相关规范（异位妊娠、子痫前期、胎动减少、产后出血）
 *   PE   《肺血栓栓塞症诊治与预防指南》
 *   DV   《中华人民共和国反家庭暴力法》（报警求助 110）
 */

/** The situations of the protocol, in the protocol's order. */
export const TRIAGE_CATEGORIES = [
  'cardiac',
  'aortic',
  'arrhythmia',
  'stroke',
  'thunderclap_headache',
  'head_injury',
  'major_trauma',
  'breathing',
  'choking',
  'anaphylaxis',
  'unconscious',
  'seizure',
  'bleeding',
  'acute_abdomen',
  'testicular',
  'eye',
  'poisoning',
  'overdose',
  'ingestion',
  'bites_stings',
  'burns',
  'heat',
  'diabetes',
  'infection',
  'infant',
  'pregnancy',
  'clot',
  'self_harm',
  'violence',
] as const;

export type TriageCategory = (typeof TRIAGE_CATEGORIES)[number];

/** Which configured number an action dials. */
export type NumberRef = 'emergency' | 'crisis' | 'police';

export interface RuleAction {
  type: 'call';
  number: NumberRef;
  /** May contain `{emergency}` / `{crisis}` / `{police}`. */
  label: string;
}

export interface Guidance {
  /** Short title shown first. */
  title: string;
  /** What to do now, in order. */
  doNow: readonly string[];
  /** What not to do until help arrives. */
  dont: readonly string[];
  actions: readonly RuleAction[];
  /** Keys of the sources listed in this file's header. */
  sources: readonly string[];
}

export const CALL_EMERGENCY: RuleAction = {
  type: 'call',
  number: 'emergency',
  label: '拨打{emergency}急救电话',
};
export const CALL_CRISIS: RuleAction = { type: 'call', number: 'crisis', label: '拨打{crisis}心理援助热线' };
export const CALL_POLICE: RuleAction = { type: 'call', number: 'police', label: '拨打{police}报警' };

const CPR =
  '如果叫不醒、没有正常呼吸，立即胸外按压（胸部正中，用力快压，每分钟100～120次），有AED尽快使用，可按{emergency}调度员指导做';
const RECOVERY = '有呼吸但叫不醒时，让其侧躺，保持气道通畅，防止呕吐物呛入';
const NOTHING_BY_MOUTH = '不要喂水、喂食或喂药';

export const GUIDANCE: Readonly<Record<TriageCategory, Guidance>> = {
  cardiac: {
    title: '胸痛胸闷伴出汗、气短或放射痛，可能是急性心肌梗死',
    doNow: [
      '立即拨打{emergency}，说清地址和“胸痛”',
      '马上停止活动，坐下或半躺，解开衣领',
      '打开家门，备好病历和正在吃的药',
      CPR,
    ],
    dont: ['不要自己开车或走路去医院', '不要用力、走动或爬楼', '是否吃阿司匹林、硝酸甘油，听调度员或医生的'],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'CP'],
  },
  aortic: {
    title: '突然撕裂样的胸背痛，可能是主动脉夹层，非常凶险',
    doNow: ['立即拨打{emergency}', '让病人平躺或半躺，保持绝对安静', '记下疼痛开始的时间'],
    dont: ['不要走动、用力或搬动病人', '不要按揉疼痛部位', NOTHING_BY_MOUTH],
    actions: [CALL_EMERGENCY],
    sources: ['AD', 'CP'],
  },
  arrhythmia: {
    title: '心跳过快或过慢，伴头晕、眼前发黑或晕倒，可能是严重心律失常',
    doNow: ['立即拨打{emergency}', '马上坐下或平躺，防止摔倒', '有人陪在身边，留意意识和呼吸', CPR],
    dont: ['不要自行开车去医院', '不要自己加吃或乱吃药'],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'PT'],
  },
  stroke: {
    title: '脸歪、一侧手脚无力、说话不清，可能是中风（脑卒中），争分夺秒',
    doNow: [
      '立即拨打{emergency}，说“可能中风”',
      '记下发病时间（或最后看起来正常的时间），告诉医生',
      '让病人躺下，头偏向一侧，松开衣领',
    ],
    dont: [`${NOTHING_BY_MOUTH}（包括降压药、偏方）`, '不要掐人中、摇晃或拍打', '不要等症状自己好转'],
    actions: [CALL_EMERGENCY],
    sources: ['STR', 'RC'],
  },
  thunderclap_headache: {
    title: '突发的、最剧烈的头痛，可能是脑出血（如蛛网膜下腔出血）',
    doNow: ['立即拨打{emergency}', '让病人平躺、保持安静，头偏向一侧防呕吐物呛入', '记下头痛开始的时间'],
    dont: ['不要自己吃止痛药后等着看', '不要走动、用力', NOTHING_BY_MOUTH],
    actions: [CALL_EMERGENCY],
    sources: ['PT', 'RC'],
  },
  head_injury: {
    title: '头部受伤后反复呕吐、嗜睡、糊涂或耳鼻流液，可能有颅内出血',
    doNow: [
      '立即拨打{emergency}',
      '让伤者躺着别动；可能伤到脖子时，不要随意搬动头颈',
      '有伤口出血用干净布压住',
      RECOVERY,
    ],
    dont: ['不要让伤者睡过去不管，要有人守着观察', '耳朵、鼻子流出的液体不要堵', NOTHING_BY_MOUTH],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'PT'],
  },
  major_trauma: {
    title: '高处坠落、车祸、挤压伤，可能有骨折、内脏或脊柱损伤',
    doNow: [
      '立即拨打{emergency}；在马路上先确保自身安全，开双闪、放警示牌',
      '大出血处用干净布直接用力按压',
      '让伤者保持原来的姿势不动，注意保暖',
    ],
    dont: [
      '不要随意搬动伤者，尤其是脖子和腰背痛、手脚没感觉时',
      '不要把变形的肢体掰直',
      '不要把扎进身体的东西拔出来',
      NOTHING_BY_MOUTH,
    ],
    actions: [CALL_EMERGENCY],
    sources: ['RC'],
  },
  breathing: {
    title: '严重呼吸困难、说不出整句话、嘴唇发紫，身体可能严重缺氧',
    doNow: [
      '立即拨打{emergency}',
      '让病人坐着、身体稍前倾，解开衣领，开窗通风',
      '有医生开的急救吸入药（如哮喘急救喷雾），按医嘱使用',
      CPR,
    ],
    dont: ['不要强迫病人平躺', '不要让病人走动'],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'PT'],
  },
  choking: {
    title: '东西卡住气道，咳不出、说不出、脸发紫，需要马上清除',
    doNow: [
      '让身边的人拨打{emergency}',
      '成人和1岁以上的孩子：站在身后，一手握拳抵在肚脐上方，另一手包住拳头，快速向内向上冲击，直到东西出来',
      '1岁以下婴儿：脸朝下趴在前臂上，拍背5次，再翻过来按压胸部5次，交替进行',
      '病人失去意识时，放平并开始心肺复苏',
    ],
    dont: ['不要用手指盲目去抠', '不要拍正在用力咳嗽的人的背，也不要喂水', '不要倒提孩子摇晃'],
    actions: [CALL_EMERGENCY],
    sources: ['RC'],
  },
  anaphylaxis: {
    title: '过敏后喉咙发紧、嘴唇舌头肿、喘或全身起疹伴头晕，可能是严重过敏反应',
    doNow: [
      '立即拨打{emergency}',
      '停止接触可疑的东西（停吃、停药停输液、远离蜂虫）',
      '医生给你开过肾上腺素笔的，立即按说明使用',
      '喘时坐着；头晕时平躺、抬高双腿',
    ],
    dont: ['不要突然站起或走动', '不要只吃抗过敏药就在家等', NOTHING_BY_MOUTH],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'PT'],
  },
  unconscious: {
    title: '叫不醒、没有反应，是危及生命的情况',
    doNow: ['立即拨打{emergency}', '拍双肩大声呼喊，看胸口有没有起伏', CPR, RECOVERY, '记下发生的时间和经过'],
    dont: [NOTHING_BY_MOUTH, '不要掐人中、用力摇晃', '不要离开病人'],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'NHC'],
  },
  seizure: {
    title: '正在抽搐：先保护安全；超过5分钟、反复发作或第一次发作要急救',
    doNow: [
      '拨打{emergency}',
      '移开周围的硬物，头下垫软物，解开衣领',
      '抽搐停止后让其侧躺，陪到完全清醒',
      '记下抽搐开始的时间和持续多久',
    ],
    dont: ['不要往嘴里塞任何东西（手指、毛巾、筷子）', '不要强行按住手脚，不要掐人中', NOTHING_BY_MOUTH],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'FS'],
  },
  bleeding: {
    title: '大量出血、血止不住，或大量吐血、便血、黑便伴头晕',
    doNow: [
      '立即拨打{emergency}',
      '外伤：用干净纱布或毛巾直接用力按压伤口，持续按压；渗透了就再加一层',
      '吐血、咯血：侧躺或头偏向一侧，防止呛入气道',
      '躺下保暖，少动',
    ],
    dont: ['不要揭开已经压住的纱布查看', '不要吃东西、喝水', '不要自己走去医院'],
    actions: [CALL_EMERGENCY],
    sources: ['RC', 'GI'],
  },
  acute_abdomen: {
    title: '剧烈腹痛越来越重、肚子发硬，或伴呕吐、晕倒，可能是急腹症',
    doNow: ['尽快拨打{emergency}或马上去急诊', '找一个最舒服的姿势躺着', '记下疼痛开始的时间和位置'],
    dont: ['不要吃止痛药（会掩盖病情）', '不要吃东西、喝水', '不要热敷或按揉肚子'],
    actions: [CALL_EMERGENCY],
    sources: ['PT'],
  },
  testicular: {
    title: '突然的睾丸剧痛或肿胀，可能是睾丸扭转，6小时内处理才能保住',
    doNow: ['马上去最近的医院急诊（泌尿外科），或拨打{emergency}', '路上平躺，少走动'],
    dont: ['不要等着看会不会好转', '不要热敷、按揉', '不要吃东西（可能需要手术）'],
    actions: [CALL_EMERGENCY],
    sources: ['PT'],
  },
  eye: {
    title: '化学品进眼、眼外伤，或突然看不见、眼睛剧痛伴呕吐，都要急诊',
    doNow: [
      '化学品进眼：立即用大量清水持续冲洗至少15分钟，边冲边转动眼球，冲完马上去医院',
      '异物扎进眼睛：用纸杯等罩住眼睛，不加压，尽快就医',
      '突然看不见或眼睛剧痛：立即拨打{emergency}或去眼科急诊',
    ],
    dont: ['不要揉眼睛', '不要拔出扎进眼里的东西', '不要自己乱滴眼药水'],
    actions: [CALL_EMERGENCY],
    sources: ['RC'],
  },
  poisoning: {
    title: '喝了农药、鼠药、洗涤剂，吃了野蘑菇，假酒或一氧化碳中毒',
    doNow: [
      '立即拨打{emergency}',
      '煤气/烧炭：马上开窗、关掉气源，把人带到空气新鲜的地方；不要开关电器、不用明火',
      '皮肤沾了农药：脱掉衣服，用大量清水冲洗',
      '带上药瓶、包装或剩下的东西去医院',
      RECOVERY,
    ],
    dont: [
      '不要自行催吐（洁厕灵、汽油等腐蚀性的更不能吐）',
      '不要喂牛奶、醋、蛋清等偏方',
      '没有症状也不要在家观察',
    ],
    actions: [CALL_EMERGENCY],
    sources: ['TOX', 'NHC', 'RC'],
  },
  overdose: {
    title: '一次吃了大量药、药和酒一起吃，或孩子吃了大人的药',
    doNow: [
      '立即拨打{emergency}',
      '带上药盒，记下吃了什么药、多少、什么时间',
      '有人陪着，留意意识和呼吸',
      RECOVERY,
    ],
    dont: ['不要自行催吐', '不要再喝酒或吃任何药', '暂时没症状也不要等'],
    actions: [CALL_EMERGENCY],
    sources: ['TOX'],
  },
  ingestion: {
    title: '吞了纽扣电池、多个磁铁或尖锐物，几小时内就可能烧穿或刺穿肠胃',
    doNow: ['马上去有儿科/消化内镜的医院急诊，或拨打{emergency}', '带上同样的电池或包装', '记下吞下的时间'],
    dont: ['不要催吐', '不要等拉出来', `${NOTHING_BY_MOUTH}，除非医生指导`],
    actions: [CALL_EMERGENCY],
    sources: ['FB'],
  },
  bites_stings: {
    title: '被蛇、蝎子咬伤，或被很多蜂蜇伤',
    doNow: [
      '立即拨打{emergency}，尽快去有抗蛇毒血清的医院',
      '保持安静、少动，把被咬的肢体放低，摘掉戒指手镯',
      '记住或拍下蛇的样子（不要去抓）',
    ],
    dont: ['不要切开伤口、不要用嘴吸', '不要冰敷、不要扎得过紧', '不要喝酒、不要跑'],
    actions: [CALL_EMERGENCY],
    sources: ['SN', 'RC'],
  },
  burns: {
    title: '大面积烧烫伤、脸和气道烧伤、触电、化学烧伤或吸入浓烟',
    doNow: [
      '立即拨打{emergency}；触电先断电（用干木棍挑开电线），再碰病人',
      '烫伤：用流动凉水冲15～20分钟，剪开衣物（粘住的不要撕）',
      '用干净布松松盖住伤处；吸入浓烟的移到空气新鲜处',
    ],
    dont: ['不要涂牙膏、酱油、草木灰等', '不要挑破水泡', '大面积烧伤不要长时间泡冰水'],
    actions: [CALL_EMERGENCY],
    sources: ['RC'],
  },
  heat: {
    title: '高温下体温很高、糊涂或晕倒，可能是热射病',
    doNow: [
      '立即拨打{emergency}',
      '马上搬到阴凉通风处，脱去多余衣物',
      '用凉水擦身、扇风，冰袋放在脖子、腋下、大腿根',
      RECOVERY,
    ],
    dont: ['意识不清时不要喂水', '不要用酒精擦身', '不要等“缓一缓”再送医'],
    actions: [CALL_EMERGENCY],
    sources: ['HS', 'RC'],
  },
  diabetes: {
    title: '糖尿病人出汗、手抖、糊涂或叫不醒（低血糖），或呕吐伴深快呼吸（酮症酸中毒）',
    doNow: ['拨打{emergency}', '还清醒、能吞咽：马上吃糖块或喝含糖饮料，15分钟后没好转立即送医', RECOVERY],
    dont: ['叫不醒或呛咳时不要往嘴里喂东西', '不要再打胰岛素或吃降糖药'],
    actions: [CALL_EMERGENCY],
    sources: ['DM', 'RC'],
  },
  infection: {
    title: '发烧伴脖子硬、压不褪的出血点、糊涂，或手脚冰凉、呼吸很快，可能是脑膜炎或脓毒症',
    doNow: ['立即拨打{emergency}或马上去急诊', '记下体温和症状开始的时间', '有人陪着，留意意识和呼吸'],
    dont: ['不要捂汗', '不要只吃退烧药在家观察'],
    actions: [CALL_EMERGENCY],
    sources: ['PT', 'NHC'],
  },
  infant: {
    title: '3个月以下宝宝发烧（≥38℃），或新生儿不吃奶、发软、发凉、发青、哭声弱',
    doNow: ['马上去医院儿科急诊，或拨打{emergency}', '记下体温、吃奶和尿量', '正常包裹，注意保暖但不要捂'],
    dont: ['不要自行喂退烧药或成人药', '不要捂汗、不要酒精擦身', '不要等到明天'],
    actions: [CALL_EMERGENCY],
    sources: ['NB', 'PT'],
  },
  pregnancy: {
    title: '怀孕期间（或月经推迟时）出血、剧烈腹痛、头痛眼花、抽搐、胎动消失、破水见脐带，或产后大出血',
    doNow: [
      '立即拨打{emergency}，或马上去有产科的医院',
      '平躺休息，少走动；破水见脐带时垫高臀部',
      '带上产检资料',
    ],
    dont: ['不要自行吃药（包括“保胎药”）', '不要自己开车', '不要等着看'],
    actions: [CALL_EMERGENCY],
    sources: ['OB', 'PT'],
  },
  clot: {
    title: '手术、长途旅行或久卧后突然气短、胸痛或咳血，可能是肺栓塞',
    doNow: ['立即拨打{emergency}', '坐下或半躺休息，保持安静', '告诉医生最近的手术、旅行或卧床'],
    dont: ['不要走动或用力', '不要按揉肿痛的腿'],
    actions: [CALL_EMERGENCY],
    sources: ['PE', 'PT'],
  },
  self_harm: {
    title: '你现在一定很难受，谢谢你说出来。你不需要一个人扛着',
    doNow: [
      '现在就拨打心理援助热线{crisis}，那里有人愿意听你说',
      '如果已经伤害了自己、吃了药，或觉得马上会做，请立即拨打{emergency}',
      '联系一位信任的人，请他现在过来陪你',
      '把药、刀具等东西交给别人或放远',
    ],
    dont: ['不要一个人待着', '不要喝酒'],
    actions: [CALL_CRISIS, CALL_EMERGENCY],
    sources: ['NHC'],
  },
  violence: {
    title: '你正处在危险中：先保护好自己',
    doNow: [
      '能安全打电话时立即拨打{police}报警；受了伤拨打{emergency}',
      '去有人的地方或锁门躲好，远离厨房等有刀具的地方',
      '联系信任的人或邻居来帮忙',
    ],
    dont: ['不要和施暴的人争执或激怒他', '不要独自返回危险的地方'],
    actions: [CALL_POLICE, CALL_EMERGENCY],
    sources: ['DV', 'RC'],
  },
};

/** The plain-text guidance: title, numbered steps, then the don'ts. */
export function guidanceText(g: Guidance): string {
  const steps = g.doNow.map((s, i) => `${i + 1}. ${s}`);
  return [`【紧急提示】${g.title}。`, '现在：', ...steps, `等待帮助时不要：${g.dont.join('；')}。`].join(
    '\n',
  );
}
