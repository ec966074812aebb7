// The chat engine's pure rules: titles, token estimates, the history window, request hashes, days.
import { describe, expect, it } from 'vitest';
import type { HistoryRow } from '../../lib/chat/history.js';
import { alternate, buildModelMessages, historyWindow, questionMessage } from '../../lib/chat/history.js';
import { requestHash } from '../../lib/chat/idempotency.js';
import { titleFromQuestion } from '../../lib/chat/title.js';
import { shanghaiDate } from '../../lib/chat/usage.js';
import { estimateMessageTokens, estimateTokens, MESSAGE_OVERHEAD_TOKENS } from '../../lib/llm/tokens.js';

describe('titles', () => {
  it('strips punctuation and whitespace and keeps 16 characters', () => {
    expect(titleFromQuestion('  我最近总是头疼，晚上睡不着觉，怎么办？需要吃药吗？')).toBe(
      '我最近总是头疼晚上睡不着觉怎么办',
    );
    expect(titleFromQuestion('Hi! 😀 a b')).toBe('Hiab');
    expect(titleFromQuestion('？？？ 。。。')).toBe('新对话');
    expect(Array.from(titleFromQuestion('头'.repeat(40)))).toHaveLength(16);
  });
});

describe('token estimate', () => {
  it('counts CJK as one token a character and other text as four characters a token', () => {
    expect(estimateTokens('头疼怎么办')).toBe(5);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('头疼 abc，')).toBe(2 + 1 + 1);
    expect(estimateTokens('')).toBe(0);
    expect(estimateMessageTokens({ role: 'user', content: '头疼' })).toBe(2 + MESSAGE_OVERHEAD_TOKENS);
  });
});

describe('history window', () => {
  const row = (role: 'user' | 'assistant', content: string, status: HistoryRow['status'] = 'complete') => ({
    role,
    content,
    status,
  });
  // Each costs 10 + 4 = 14 tokens.
  const ten = (c: string) => c.repeat(10);

  it('keeps the newest messages that fit, drops the oldest, and stays contiguous', () => {
    const newestFirst = [
      row('assistant', ten('四')),
      row('user', ten('三')),
      row('assistant', ten('二')),
      row('user', ten('一')),
    ];
    expect(historyWindow(newestFirst, 14 * 4).map((m) => m.content)).toEqual([
      ten('一'),
      ten('二'),
      ten('三'),
      ten('四'),
    ]);
    // Room for three: the oldest (a question) goes, and the window may not open on an answer.
    expect(historyWindow(newestFirst, 14 * 3).map((m) => m.content)).toEqual([ten('三'), ten('四')]);
    expect(historyWindow(newestFirst, 13)).toEqual([]);
  });

  it('skips failed, blocked and empty answers', () => {
    const newestFirst = [
      row('assistant', '', 'error'),
      row('user', '再问'),
      row('assistant', '部分', 'incomplete'),
      row('assistant', '拒绝', 'blocked'),
      row('assistant', '   ', 'complete'),
      row('user', '问题'),
    ];
    expect(historyWindow(newestFirst, 1000)).toEqual([
      { role: 'user', content: '问题' },
      { role: 'assistant', content: '部分' },
      { role: 'user', content: '再问' },
    ]);
  });

  it('joins neighbours with the same role and puts the system prompt first', () => {
    const msgs = buildModelMessages({
      systemPrompt: 'SYS',
      history: [{ role: 'user', content: '没回答的问题' }],
      question: questionMessage('新问题'),
    });
    expect(msgs).toEqual([
      { role: 'system', content: 'SYS' },
      { role: 'user', content: '没回答的问题\n\n新问题' },
    ]);
    const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AA' } };
    expect(alternate([{ role: 'user', content: 'a' }, questionMessage('b', [image])])).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: '\n\n' },
          image,
          { type: 'text', text: 'b' },
        ],
      },
    ]);
  });
});

describe('idempotency hash and usage day', () => {
  it('hashes bodies independent of key order', () => {
    expect(requestHash({ a: 1, b: '头' })).toBe(requestHash({ b: '头', a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
    expect(requestHash({ a: 1, c: undefined })).toBe(requestHash({ a: 1 }));
  });

  it('counts the Asia/Shanghai day', () => {
    expect(shanghaiDate(new Date('2026-11-25T15:59:59Z'))).toBe('2026-11-25');
    expect(shanghaiDate(new Date('2026-11-25T16:00:00Z'))).toBe('2026-11-26');
  });
});
