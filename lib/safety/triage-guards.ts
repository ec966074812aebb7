/**
 * Context guards: what makes an alarming word NOT an emergency happening now. All patterns run over
 * normalised text (normalise.ts); "|" separates clauses.
 *
 * How they apply (triage.ts):
 *   - IDIOMS are cut out before anything else (累死了, 笑死, 想死你了, 气得吐血, 压力大到喘不过气…).
 *   - NEGATION_PREFIX / PAST_ASPECT_SUFFIX discard a single match (没有胸痛, 抽搐过).
 *   - past / media / hypothetical cues open a frame: the clause with the cue and the clauses after it are
 *     guarded, until a clause says it is happening now (NOW). A recurrence (又, 再次) anywhere lifts the past.
 *   - a resolved cue (好了, 没事了, 止住了) guards its clause and every clause before it, unless a later
 *     clause says it came back.
 *   - a knowledge cue (有哪些, 怎么预防, 挂什么科…) guards the whole message unless the message also says it
 *     is happening now or to the writer (NOW, FIRST_PERSON_EVENT).
 * A rule can ignore a guard (rules for swallowed batteries ignore "resolved": looking fine is not safe).
 */

export type GuardId = 'past' | 'resolved' | 'media' | 'hypothetical' | 'knowledge' | 'in_care' | 'negated';

/** Hyperbole and idioms, cut out (replaced by a clause boundary) before matching. */
export const IDIOMS: readonly RegExp[] = [
  /(?:累|笑|气|饿|急|热|冷|冻|困|烦|吓|忙|渴|馋|丑|美|帅|穷|闷|无聊|尴尬)死(?:我|人|了|我了|啦|掉)*/g,
  /想死(?:你|您|他|她|你们|我)了?/g,
  /心都碎了|心碎了?|心好痛(?=[^|]{0,4}(?:剧|分手|失恋))/g,
  /要命的是/g,
  /(?:难|贵|烦|累|丑|忙|冷|热|吵|挤|慢|多)得要命/g,
  /狗血淋头|肝肠寸断|撕心裂肺|脚趾抠地|被掏空|我会谢|头大/g,
  /(?:快|要)(?:挂|累趴|疯)了/g,
  /(?:唠叨|压力|工作|生活|房贷|学习|作业|考试|忙|累|烦|逼|压|加班|老板|领导)[^|]{0,6}?(?:窒息|喘不过气|透不过气|吐血)/g,
  /(?:气|累|忙|烦|虐|坑|难|惨)(?:得|的|到)吐血|吐血(?:推荐|整理|分享|安利|总结|甩卖|价|收藏)/g,
  /血压都(?:上来|高)了|心脏受不了|(?:笑|乐)得肚子疼|当场(?:昏倒|晕倒|晕过去|去世|死亡|裂开|暴毙)/g,
  /哈哈+|hhh+|233+/g,
  /(?:真是|简直)(?:要|快)?窒息了?/g,
  /(?:吓|气|激动|惊|难|累|烦|愁|急)得[^|]{0,3}(?:心脏骤停|心梗|心脏病|窒息|吐血)/g,
  /头都(?:要|快)?(?:炸|大)了/g,
  /想死的心都有|笑得[^|]{0,3}(?:喘不上气|喘不过气|肚子疼|岔气)/g,
  /(?:感动|激动|气|吓|惊讶|震惊|高兴|开心)得说不出话/g,
];

/** A negator directly before a match cancels it (没有胸痛, 不想死, 从来没想过伤害自己). A-not-A questions are not negations. */
export const NEGATION_PREFIX =
  /(?<![会是要能有可])(?:没有?|无|未|不是|不|别|并非|否认|从没有?|从来没有?|从来不|从不|从未|不再|并没有?|也没有?|也不|都没有?|都不|还没有?|没再)(?:再|有|出现|感到|感觉|觉得|发生|明显|会|要|想过|想|打算|什么)?(?:出|冒|流|发|起)?$/;

/** How many characters before a match the negator may start ("从来没有想过" is 6). */
export const NEGATION_WINDOW = 8;

/** Directly after a match, 过 marks past experience (胸痛过, 抽搐过), unless it is 过来/过去/过敏… */
export const PAST_ASPECT_SUFFIX = /^过(?![去来多度量敏])/;

/** Happening now: lifts past, hypothetical and knowledge guards. 现在 counts only when not followed by "fine". */
export const NOW =
  /现在(?!(?:已经|都|也|基本|差不多)?(?:好|没事|恢复|正常|缓解|没有?什么|不(?:疼|痛|晕)))|刚才|刚刚|正在|此刻|这会儿|今天|今晚|今早|昨晚|昨天晚上|半夜|凌晨|还在|越来越|救命|快来|马上|赶紧|一直/;

/** It came back: lifts the past and resolved guards for the whole message. */
export const RECURRENCE = /又(?:开始|出现|发作|犯|有|来|在|想)|再次|又(?!是)|复发/;

/** The writer (or someone with them) has it: lifts the knowledge guard together with an event marker. */
export const FIRST_PERSON_EVENT =
  /被[^|]{0,8}了|(?:我|咱|我家|家里|我们)[^|]{0,12}(?:了|着|在)|(?:我|我的)(?:爸|妈|老公|老婆|孩子|宝宝|儿子|女儿|爷爷|奶奶|外公|外婆|姥姥|姥爷|老人|家人)[^|]{0,10}(?:了|着)/;

export const PAST_CUE =
  /去年|前年|以前|之前|曾经|上次|上回|上个?月|上周|上星期|上礼拜|前几天|前阵子|前段时间|小时候|年轻(?:的)?时|大学时|读书时|\d+年前|几年前|年前|那次|病史|既往|后来/;

export const MEDIA_CUE =
  /电视剧|剧里|剧中|这部剧|那部剧|电影|影片|小说|动漫|动画|漫画|剧情|综艺|游戏里|游戏中|女主|男主|女二|男二|主角|演员|拍戏|编剧|新闻|报道|微博|抖音|快手|短视频|视频里|朋友圈|纪录片|播客|书里|书上|文章|公众号|网上说|帖子|恐怖片|看到有人|看到一个|听说有|(?:看|刷)(?:到|了)?(?:一个|个|条)?视频|视频里|刷到|电视上|电视里|广播/;

export const HYPOTHETICAL_CUE = /如果|假如|万一|要是|假设|哪天|有一天|以后(?:如果|万一|要是|会不会)|将来/;

/** Asking ahead of time (提前了解, 下周去露营): guards the whole message unless it is happening now. */
export const PREPARING_CUE = /提前了解|以防|准备去|出门前|去露营|下周|下个月|出发前|备着/;

export const RESOLVED_CUE =
  /就好了|(?:^|已经|都|全|基本|慢慢|病)好了(?!一?点|些)|好多了|没事了|恢复了|恢复得|痊愈|康复|就正常了|正常了|(?<!不|没)止住了|缓解了|消了|出院|抢救过来|看过医生|去医院(?:看|查)过|拉出来了|后来就/;

export const KNOWLEDGE_CUE =
  /有哪些|哪些|(?:是|有)什么(?:病|原因|意思|症状|表现|区别|危害|后果)|什么是|怎么回事|怎么预防|如何预防|预防|前兆|早期症状|(?:有)?什么(?:表现|症状|危险|危害|后果|区别)|会怎么样|怎么判断|如何判断|怎么识别|挂什么科|看什么科|哪个科|多少算|会(?:不会)?传染|要不要涂|急救药|怎么做急救|(?:该|应该|要)怎么(?:做|处理|急救|救)|原因|为什么会?|会有[^|]{0,8}吗|怎么帮助|注意什么|要注意|哪个电话|什么电话|一般|通常|了解一下|科普|吃多少|吃几片|多大年龄|容易得|怎么护理|有关系吗|(?:的时候|时)[^|]{0,8}(?:该|应该|怎么|能不能|可以|要不要)|身边(?:的)?人|会不会(?!是)|都是[^|]{0,8}吗|热线|电话号码|是多少|方法|步骤|流程|技巧|多久(?:会|能|可以)|多长时间(?:会|能)/;

/** Already with doctors (住院, 医生说): telling them to call 120 is noise, unless something new happens now. */
export const IN_CARE_CUE = /住院|icu|重症监护|监护室|抢救室|医生说|医生让|在医院/;
export const IN_CARE_UNLESS = /突然|忽然|刚才|刚刚|此刻|救命|又(?:开始|出现|发作|犯)|快不行/;

/** A clause answered "no" by the next one (被蛇咬了？没有，是…): the question is negated. */
export const NEGATING_ANSWER = /^(?:没有|没|不是|并没有|不)(?:$|啦|的|是)/;
