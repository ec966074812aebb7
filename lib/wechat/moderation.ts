// WeChat content security on a model answer while it streams (《生成式人工智能服务管理暂行办法》
// Art. 14: stop illegal content as it is generated, not after it was shown). One StreamModerator per
// answer: push() each delta as it is sent; windows of the growing text go to msgSecCheck in the
// background, so checking never delays the stream; the first risky window fires onRisky (and
// resolves `risky`) at once; finish() checks the tail and waits for every check.
//
// Windows: the first ends at `firstWindow` characters, each next one starts `overlap` characters
// before the previous one ended and is `windowSize` long; the tail (whatever no window reached) is
// checked by finish(). Consecutive windows share exactly `overlap` characters, so any phrase of at
// most overlap + 1 characters lies whole inside one window: take the last window starting at or
// before the phrase's first character; the phrase starts before the next window does, i.e. more
// than `overlap` characters before this window ends, so it ends inside it.
//
// Defaults: overlap 100 ≥ the longest phrase we must catch whole (banned terms and slogans are a
// few characters; a Chinese sentence rarely passes 60), and it gives the classifier a sentence of
// context on each side of a boundary. A first window of 150 characters flags a risky opening after
// the first sentence or two rather than after a whole window; 600-character windows (msgSecCheck
// takes at most 2,500) keep the calls to about one per 500 new characters: four for a
// 1,500-character answer. At most `maxInFlight` checks run at once per answer; windows waiting for a
// slot are merged into one check (up to 2,500 characters) when WeChat is slow.
//
// A WeChat outage fails open for the answer (the reader is not left without an answer because a
// checker is down): it is counted (moderationCounters(), per process) and logged once per answer,
// with the error code and counts, never the text.
//
// Wiring into a chat answer: moderationGuard(rt, openid, BLOCKED_NOTICE, { requestId }) is an
// answer guard for lib/chat's writer (in place of finalContentCheck, which checks only the end).
// Without the writer: one createStreamModerator per answer; push(delta) right after each delta is
// sent; on risky abort the model request, send `event: replace` { text: notice }, store the answer
// `blocked` with the notice as its content (never the model's text), end with `done`
// { finishReason: "blocked" }; otherwise await finish() before storing the answer (a late 'risky'
// is handled the same way); stop() when the answer ends early (client gone, model error).
import { errorFields } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { type ContentScene, checkPieceOrThrow, contentCheckEnabled, MAX_CHARS } from './content.js';
import { WechatApiError } from './token.js';

export type StreamModeratorOptions = {
  /** Characters per window after the first (≤ 2,500). Default 600. */
  windowSize?: number;
  /** Characters each window repeats from the one before: the longest phrase caught whole. Default 100. */
  overlap?: number;
  /** Where the first window ends, so a risky opening is caught early. Default 150. */
  firstWindow?: number;
  /** Checks of this answer open at once. Default 2. */
  maxInFlight?: number;
  /** msg_sec_check scene; a chat answer is a comment (2). */
  scene?: ContentScene;
  /** Called once, as soon as a window is risky. */
  onRisky?: () => void;
  /** For the outage log line. */
  requestId?: string;
};

export type ModerationResult = {
  verdict: 'pass' | 'risky';
  /** Windows WeChat answered. */
  checked: number;
  /** Windows WeChat could not be asked about (failed open). */
  unavailable: number;
};

export interface StreamModerator {
  /** False when content security is off (no WeChat configured, or WECHAT_CONTENT_CHECK=false). */
  readonly enabled: boolean;
  /** Appends a delta of the answer; synchronous, never waits for a check. */
  push(delta: string): void;
  /** Resolves when a window is found risky (never rejects; stays pending while all is well). */
  readonly risky: Promise<void>;
  readonly isRisky: boolean;
  /** Checks what no window reached, then waits for every check: the answer's verdict. */
  finish(): Promise<ModerationResult>;
  /** The answer was abandoned (client gone, model failed): no further checks are started. */
  stop(): void;
}

type Range = { start: number; end: number };

const counters = { windows: 0, risky: 0, unavailable: 0, answersUnchecked: 0 };

/** Per-process counts since start: windows checked, risky verdicts, windows and answers left unchecked. */
export function moderationCounters(): Readonly<typeof counters> {
  return { ...counters };
}

export function createStreamModerator(
  rt: Runtime,
  openid: string,
  opts: StreamModeratorOptions = {},
): StreamModerator {
  const windowSize = opts.windowSize ?? 600;
  const overlap = opts.overlap ?? 100;
  const firstWindow = Math.min(opts.firstWindow ?? 150, windowSize);
  const maxInFlight = opts.maxInFlight ?? 2;
  if (!(windowSize <= MAX_CHARS && overlap >= 0 && overlap < firstWindow && maxInFlight >= 1)) {
    throw new RangeError('moderation windows: overlap < firstWindow ≤ windowSize ≤ 2,500, maxInFlight ≥ 1');
  }
  const enabled = contentCheckEnabled(rt);

  // Code points, so a window never cuts a character in half (msgSecCheck counts characters).
  const chars: string[] = [];
  let next: Range = { start: 0, end: firstWindow };
  /** End of the last window handed out; the tail starts `overlap` before it. */
  let coveredTo = 0;
  const queue: Range[] = [];
  const running = new Set<Promise<void>>();
  let stopped = false;
  let finishing: Promise<ModerationResult> | undefined;
  let flagged = false;
  let checked = 0;
  let unavailable = 0;
  let firstErrcode: number | undefined;
  let markRisky: () => void = () => {};
  const risky = new Promise<void>((resolve) => {
    markRisky = resolve;
  });

  const flag = () => {
    if (flagged) return;
    flagged = true;
    counters.risky++;
    markRisky();
    try {
      opts.onRisky?.();
    } catch (err) {
      rt.log.error({ requestId: opts.requestId, ...errorFields(err) }, 'moderation onRisky failed');
    }
  };

  const check = async (r: Range): Promise<void> => {
    const content = chars.slice(r.start, r.end).join('');
    if (content.trim() === '') return;
    try {
      const verdict = await checkPieceOrThrow(rt, { content, openid, scene: opts.scene ?? 2 });
      checked++;
      counters.windows++;
      if (verdict === 'risky') flag();
    } catch (err) {
      unavailable++;
      counters.unavailable++;
      if (unavailable === 1) firstErrcode = err instanceof WechatApiError ? err.errcode : undefined;
    }
  };

  /** Starts queued windows while slots are free, merging neighbours that fit in one check. */
  const pump = () => {
    while (!flagged && !stopped && running.size < maxInFlight && queue.length > 0) {
      const first = queue.shift() as Range;
      let end = first.end;
      while (queue[0] && queue[0].end - first.start <= MAX_CHARS) end = (queue.shift() as Range).end;
      const p: Promise<void> = check({ start: first.start, end }).finally(() => {
        running.delete(p);
        pump();
      });
      running.add(p);
    }
  };

  const enqueue = (r: Range) => {
    coveredTo = r.end;
    queue.push(r);
    pump();
  };

  const settle = async (): Promise<void> => {
    while (running.size > 0) await Promise.all([...running]);
  };

  return {
    enabled,
    risky,
    get isRisky() {
      return flagged;
    },
    push(delta) {
      if (!enabled || stopped || flagged || finishing || delta === '') return;
      for (const ch of delta) chars.push(ch);
      while (chars.length >= next.end) {
        enqueue(next);
        const start = next.end - overlap;
        next = { start, end: start + windowSize };
      }
    },
    finish() {
      finishing ??= (async () => {
        if (enabled && !stopped && !flagged && chars.length > coveredTo) {
          enqueue({ start: Math.max(0, coveredTo - overlap), end: chars.length });
        }
        await settle();
        if (unavailable > 0) {
          counters.answersUnchecked++;
          // Ids and counts only: the answer's text never reaches a log line.
          rt.log.warn(
            {
              requestId: opts.requestId,
              errcode: firstErrcode,
              windowsUnavailable: unavailable,
              windowsChecked: checked,
              unavailableTotal: counters.unavailable,
            },
            'wechat moderation unavailable; answer failed open',
          );
        }
        return { verdict: flagged ? 'risky' : 'pass', checked, unavailable };
      })();
      return finishing;
    },
    stop() {
      stopped = true;
      queue.length = 0;
    },
  };
}

/** What a chat answer guard sees (the shape of lib/chat's AnswerGuard, without depending on it). */
export type ModerationGuard = {
  start(signal: AbortSignal): Promise<{ text: string } | null>;
  delta(text: string, all: string): void;
  finish(all: string): Promise<{ text: string } | null>;
};

/**
 * The moderator as an answer guard: a risky window replaces the answer with `notice` at once
 * (the writer then aborts the model request); the tail is checked when the model finished. Null
 * when content security is off, like finalContentCheck.
 */
export function moderationGuard(
  rt: Runtime,
  openid: string,
  notice: string,
  opts: Omit<StreamModeratorOptions, 'onRisky'> = {},
): ModerationGuard | null {
  if (!contentCheckEnabled(rt)) return null;
  const m = createStreamModerator(rt, openid, opts);
  return {
    start: (signal) =>
      new Promise((resolve) => {
        void m.risky.then(() => resolve({ text: notice }));
        // The answer ended (stopped, failed, finished): no further checks; nothing to replace.
        signal.addEventListener('abort', () => {
          m.stop();
          resolve(null);
        });
      }),
    delta: (text) => m.push(text),
    finish: async () => ((await m.finish()).verdict === 'risky' ? { text: notice } : null),
  };
}
