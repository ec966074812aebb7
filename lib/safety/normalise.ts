/**
 * Text normalisation for the triage matcher.
 *
 * The rules are written once, in simplified Chinese, half-width, without spaces or punctuation. Everything a
 * user might type is folded onto that form here so the rules never have to spell out variants.
 */

/**
 * Traditional → simplified pairs, limited to characters that appear in the triage rules and guards (plus a
 * few common neighbours and variant forms such as 螫/蜇 → 蛰). A full OpenCC table is deliberately not bundled:
 * only characters the rules look at can change a triage outcome. Space-separated two-character tokens, each
 * "traditional then simplified", so a pair can be read and edited on its own.
 */
const TRADITIONAL_PAIRS =
  '業业 東东 兩两 嚴严 喪丧 個个 為为 麼么 麽么 義义 烏乌 書书 產产 親亲 從从 們们 ' +
  '價价 會会 傳传 傷伤 體体 側侧 兒儿 寫写 農农 凍冻 幾几 劃划 剛刚 劑剂 劇剧 辦办 ' +
  '動动 勁劲 區区 單单 賣卖 臥卧 厲厉 壓压 廁厕 雙双 發发 髮发 隻只 號号 後后 嚇吓 ' +
  '聽听 嘔呕 員员 嗆呛 週周 嚨咙 啞哑 喚唤 噴喷 囪囟 團团 堅坚 聲声 備备 復复 複复 ' +
  '頭头 婦妇 媽妈 嬰婴 寶宝 宮宫 對对 尋寻 爾尔 歲岁 乾干 幹干 並并 應应 開开 異异 ' +
  '張张 強强 徵征 懷怀 總总 驚惊 癒愈 戲戏 撲扑 擴扩 搖摇 敵敌 斷断 無无 時时 顯显 ' +
  '暈晕 機机 殺杀 條条 來来 棗枣 樣样 橋桥 樓楼 殘残 氣气 沒没 洩泄 潔洁 渾浑 湧涌 ' +
  '溫温 遊游 滿满 灘滩 瀕濒 滅灭 靈灵 點点 煩烦 燒烧 熱热 爺爷 牽牵 狀状 現现 電电 ' +
  '畫画 暢畅 瘡疮 瘋疯 癇痫 癱瘫 癲癫 著着 竄窜 緊紧 紅红 紐纽 紺绀 經经 結结 絞绞 ' +
  '續续 綿绵 綜综 緩缓 膚肤 腫肿 膠胶 臟脏 髒脏 腦脑 腳脚 脫脱 臉脸 藝艺 薦荐 蕁荨 ' +
  '藥药 蘿萝 虛虚 蟲虫 蝦虾 蟄蛰 螫蛰 蜇蛰 見见 視视 覺觉 認认 讓让 講讲 識识 話话 ' +
  '該该 語语 誤误 說说 費费 軌轨 軟软 輕轻 輩辈 輸输 邊边 達达 過过 還还 這这 進进 ' +
  '連连 遲迟 遺遗 鬱郁 醯酰 裡里 裏里 針针 鈍钝 鐘钟 鐵铁 銀银 長长 門门 悶闷 閨闺 ' +
  '陽阳 陰阴 陣阵 險险 難难 項项 預预 頸颈 頜颌 風风 馬马 驟骤 魚鱼 鮮鲜 黃黄 齒齿 ' +
  '齦龈 痠酸 醫医 嗎吗 請请 謝谢 維维 衝冲 處处 錯错 幫帮 聯联 係系 繫系 療疗 護护 ' +
  '診诊 術术 檢检 驗验 報报 問问 題题 帶带 給给 盡尽';

const TRADITIONAL_TO_SIMPLIFIED: ReadonlyMap<string, string> = buildMap();

function buildMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (const token of TRADITIONAL_PAIRS.split(/\s+/)) {
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
 * NFKC (full-width → half-width, ℃ → °c, compatibility ideographs), lower-case, traditional → simplified,
 * then drop whitespace, punctuation, symbols and emoji. A dot is kept only between digits so "39.5度" survives.
 */
export function normaliseText(text: string): string {
  const folded = toSimplified(text.normalize('NFKC').toLowerCase());
  return folded.replace(/[^\p{L}\p{N}.]+/gu, '').replace(/(?<!\d)\.|\.(?!\d)/g, '');
}
