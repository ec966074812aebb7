// A deterministic token estimate, used where the provider gives no count: the history budget, and
// usage when a stream ends without its usage chunk. Chinese text is roughly one token a character
// with the tokenizers of Qwen, DeepSeek, GLM and GPT-4o; other text roughly four characters a token.
import type { ChatMessage } from './types.js';

// CJK ideographs and punctuation, kana, hangul and full-width forms.
const CJK = /[\u2E80-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF]/gu;
/** Role markers and separators each message costs on top of its text. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** A mid-sized image on Qwen-VL or GPT-4o high detail; only an estimate for quotas. */
export const IMAGE_TOKENS = 765;

export function estimateTokens(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = text.replace(CJK, '').length;
  return cjk + Math.ceil(rest / 4);
}

export function estimateMessageTokens(m: ChatMessage): number {
  if (typeof m.content === 'string') return MESSAGE_OVERHEAD_TOKENS + estimateTokens(m.content);
  let n = MESSAGE_OVERHEAD_TOKENS;
  for (const part of m.content) n += part.type === 'text' ? estimateTokens(part.text) : IMAGE_TOKENS;
  return n;
}

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + estimateMessageTokens(m), 0);
}
