// A new conversation's title, from its first question by a local rule: instant, so naming never
// delays the first token, and no second model call sees the question.
import { DEFAULT_TITLE } from '../conversations/service.js';

export const TITLE_MAX_CHARS = 16;

// Punctuation, symbols (emoji included) and whitespace say nothing in a 16-character title.
const NOISE = /[\p{P}\p{S}\p{Z}\p{C}]+/gu;

export function titleFromQuestion(question: string): string {
  const chars = Array.from(question.normalize('NFKC').replace(NOISE, ''));
  if (chars.length === 0) return DEFAULT_TITLE;
  return chars.slice(0, TITLE_MAX_CHARS).join('');
}
