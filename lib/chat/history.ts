// What the model sees: the system prompt, the newest earlier messages that fit the history budget,
// then the new question.
import type { Message } from '../db/schema.js';
import { estimateMessageTokens } from '../llm/tokens.js';
import type { ChatMessage, ImagePart, TextPart } from '../llm/types.js';

export type HistoryRow = Pick<Message, 'role' | 'content' | 'status'>;

/** Earlier rows worth showing the model: no failed or empty answers, nothing a safety check refused. */
function usable(row: HistoryRow): boolean {
  if (row.status === 'blocked' || row.status === 'error') return false;
  return row.content.trim().length > 0;
}

/**
 * `newestFirst` are earlier messages, newest first. Walks back from the newest and stops at the
 * first message that no longer fits `budget` tokens, so the window is contiguous: newest kept,
 * oldest dropped. Earlier images are not sent again (their text is).
 */
export function historyWindow(newestFirst: readonly HistoryRow[], budget: number): ChatMessage[] {
  const kept: ChatMessage[] = [];
  let used = 0;
  for (const row of newestFirst) {
    if (!usable(row)) continue;
    const m: ChatMessage = { role: row.role, content: row.content };
    const cost = estimateMessageTokens(m);
    if (used + cost > budget) break;
    used += cost;
    kept.push(m);
  }
  kept.reverse();
  // A window opening on an answer has lost its question; several providers also require that the
  // first message after the system prompt is the user's.
  while (kept[0]?.role === 'assistant') kept.shift();
  return kept;
}

export function questionMessage(content: string, images: readonly ImagePart[] = []): ChatMessage {
  if (images.length === 0) return { role: 'user', content };
  const parts: (TextPart | ImagePart)[] = [...images, { type: 'text', text: content }];
  return { role: 'user', content: parts };
}

/**
 * Joins neighbours with the same role (a question whose answer failed, then the next question):
 * some providers (DeepSeek's reasoner among them) refuse two user messages in a row.
 */
export function alternate(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const prev = out.at(-1);
    if (prev && prev.role === m.role && m.role !== 'system' && prev.role !== 'system') {
      out[out.length - 1] = merge(prev, m);
    } else {
      out.push(m);
    }
  }
  return out;
}

function partsOf(m: ChatMessage): (TextPart | ImagePart)[] {
  return typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
}

function merge(a: ChatMessage, b: ChatMessage): ChatMessage {
  if (a.role === 'assistant' && b.role === 'assistant') {
    return { role: 'assistant', content: `${a.content}\n\n${b.content}` };
  }
  if (typeof a.content === 'string' && typeof b.content === 'string') {
    return { role: 'user', content: `${a.content}\n\n${b.content}` };
  }
  return { role: 'user', content: [...partsOf(a), { type: 'text', text: '\n\n' }, ...partsOf(b)] };
}

export function buildModelMessages(opts: {
  systemPrompt: string;
  history: readonly ChatMessage[];
  question: ChatMessage;
}): ChatMessage[] {
  return [{ role: 'system', content: opts.systemPrompt }, ...alternate([...opts.history, opts.question])];
}
