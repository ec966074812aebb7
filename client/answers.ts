// A chat answer belongs to the server, not to the connection (API.md, "Answers that survive the
// phone"). This follows one to its end through cuts — WeChat cuts a backgrounded mini-program's
// requests ("request:fail interrupted"), wx.request times out, mobile networks drop — by asking for
// the rest (GET …/stream?after=<characters already received>) with bounded exponential backoff;
// follows again when the page shows (resumeAnswers), and stops an answer on the server (stop).
// The offset is the client's own count of what it received, checked against every event's id, so a
// resumed stream neither repeats nor skips a character.

import type { ChatStreamOptions, ChatStreamResult } from './chat.js';
import { ApiError, ChatStreamError, ERROR_STATUS } from './errors.js';
import type { CallOptions } from './http.js';
import { createSseParser, type SseEvent, utf8Decoder } from './sse.js';
import { abortedError, createAbort, onAbort, type ResponseHead, type Transport } from './transport.js';
import type {
  AnswerStreamQuery,
  ChatDone,
  ChatErrorData,
  ChatEvent,
  ChatMeta,
  Message,
  Triage,
} from './types.js';

// ---- public types ------------------------------------------------------------------------------

/** How a cut answer stream is picked up again. */
export type ResumeOptions = {
  /** Tries in a row without receiving anything before giving up (default 6). */
  retries?: number;
  /** The wait before the first try (default 500 ms); doubled for each further one… */
  initialDelayMs?: number;
  /** …up to this (default 8 000 ms). */
  maxDelayMs?: number;
  /**
   * Nothing received for this long (the server pings every 15 s) means the connection is dead: it is
   * dropped and the stream resumed. Default 45 000 ms; 0 turns it off.
   */
  stallMs?: number;
  /** `resumeAnswers()` reconnects a stream that received nothing for this long (default 20 000 ms). */
  staleMs?: number;
};

export const RESUME_DEFAULTS: Readonly<Required<ResumeOptions>> = {
  retries: 6,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  stallMs: 45_000,
  staleMs: 20_000,
};

/** Where an answer's stream stands; `onState` hears every change. `offset`: characters received. */
export type AnswerState =
  | { state: 'connecting' }
  /** Its events arrive (the first time, or again after a resume). */
  | { state: 'streaming'; offset: number }
  /** The stream was cut; the `attempt`-th try to resume starts after `delayMs`. */
  | { state: 'waiting'; attempt: number; delayMs: number; offset: number; error: ApiError }
  /** Asking for the rest: GET …/stream?after=offset. */
  | { state: 'resuming'; attempt: number; offset: number }
  /** Given up after the tries (the promise rejected); `resume()` / `resumeAnswers()` try again. */
  | { state: 'interrupted'; offset: number; error: ChatStreamError }
  | { state: 'done'; result: ChatStreamResult }
  /** Ended for good: an `error` event, a refusal, an abort. */
  | { state: 'failed'; error: unknown };

export type AnswerStateName = AnswerState['state'];

/** Control over an answer being followed; the promise itself resolves at `done`. */
export interface AnswerControl {
  /** The ids, once `meta` arrived (at once for `followAnswer`). */
  readonly meta: ChatMeta | undefined;
  /** The answer's text received so far (after `replace`, the replacement). */
  readonly text: string;
  /** Characters of the answer the client has: where a resume starts. */
  readonly offset: number;
  readonly state: AnswerStateName;
  /**
   * Stops the answer on the server (POST …/stop): the stream then ends with `done` and
   * `finishReason: "stopped"`. Answers the stored message, or null if the request was refused
   * before the answer existed.
   */
  stop(o?: CallOptions): Promise<Message | null>;
  /**
   * For `onShow`: a stream waiting to resume tries now; one given up (`interrupted`) starts again
   * (answering a new promise); one silent for longer than `staleMs` is reconnected. Otherwise answers
   * the current promise.
   */
  resume(): Promise<ChatStreamResult>;
}

/** A chat stream: await it for the result; its methods control it meanwhile. */
export type ChatAnswer = Promise<ChatStreamResult> & AnswerControl;

export type FollowAnswerOptions = Omit<ChatStreamOptions, 'stream' | 'idempotencyKey'> & {
  /** What the page already shows of the answer (e.g. the stored message's content); it goes on from its end. */
  text?: string;
  /** Or only how many characters (UTF-16 code units) it has; default `text.length`, else 0. */
  after?: number;
};

export interface AnswerCalls {
  /**
   * Follows an answer from `after` (a stored message with status `streaming`, e.g. after the
   * mini-program was restarted): `meta`, `triage`?, the deltas from there on, `done`. The result's
   * `text` is `o.text` joined to what arrived.
   */
  followAnswer(conversationId: string, messageId: string, o?: FollowAnswerOptions): ChatAnswer;
  /** POST …/stop: the message as stored (a finished answer is answered as it is). */
  stopAnswer(conversationId: string, messageId: string, o?: CallOptions): Promise<Message>;
  /**
   * Call from the page's `onShow`: every answer this client follows and has not finished resumes
   * now (see `AnswerControl.resume`). Answers their promises (rejections already handled).
   */
  resumeAnswers(): Promise<ChatStreamResult>[];
}

// ---- wire helpers ------------------------------------------------------------------------------

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A chat event from the wire, or undefined for events this client does not know (newer servers). */
export function toChatEvent(e: SseEvent): ChatEvent | undefined {
  const data = parseJson(e.data);
  if (!isRecord(data)) return undefined;
  // The payloads are the server's; their shapes are checked against the contract by the tests.
  switch (e.event) {
    case 'meta':
      return { event: 'meta', data: data as ChatMeta };
    case 'triage':
      return { event: 'triage', data: data as Triage };
    case 'delta':
      return typeof data.text === 'string' ? { event: 'delta', data: { text: data.text } } : undefined;
    case 'replace':
      return typeof data.text === 'string' ? { event: 'replace', data: { text: data.text } } : undefined;
    case 'done':
      return { event: 'done', data: data as ChatDone };
    case 'error':
      return { event: 'error', data: data as ChatErrorData };
    default:
      return undefined;
  }
}

function decodeAll(chunks: (Uint8Array | ArrayBuffer)[]): string {
  const d = utf8Decoder();
  let text = '';
  for (const c of chunks) text += d.decode(c instanceof Uint8Array ? c : new Uint8Array(c), true);
  return text + d.decode(new Uint8Array(0), false);
}

const isEventStream = (headers: Record<string, string>) =>
  (headers['content-type'] ?? '').toLowerCase().startsWith('text/event-stream');

/** Answers worth asking again for (the server or a proxy was busy or down for a moment). */
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

const seg = (id: string) => encodeURIComponent(id);

const interrupted = (message: string, requestId = '') =>
  new ApiError({ status: 0, code: 'STREAM_INTERRUPTED', message, requestId });

// ---- one answer --------------------------------------------------------------------------------

/** What createClient lends the answers. */
export type AnswerDeps = {
  /** `…/api/v1`. */
  base: string;
  transport: Transport;
  /** Runs `send` with the access token, refreshing once on a 401. */
  authed<T>(send: (token: string | undefined) => Promise<T>): Promise<T>;
  /** The ApiError of an HTTP error answer. */
  errorFrom(status: number, headers: Record<string, string>, text: string): ApiError;
  stopAnswer(conversationId: string, messageId: string, o?: CallOptions): Promise<Message>;
  /** The client's defaults; `false`: a cut stream is an error, as before resuming existed. */
  resume?: ResumeOptions | false;
};

type Ids = { conversationId: string; messageId: string };
type Request = { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; body?: string };
/** How one request ended: the answer's end arrived, or it was cut and may be resumed. */
type AttemptEnd = { kind: 'ended' } | { kind: 'cut'; error: ApiError; now: boolean };

/** The open request of an answer, for the watchdog and for `resume()`. */
type Live = { lastData: number; cut(error: ApiError, now: boolean): void };

class AnswerRun {
  meta: ChatMeta | undefined;
  triage: Triage | undefined;
  /** Text received; `prefix` characters before it are the page's (followAnswer with `after` only). */
  text = '';
  prefix = 0;
  state: AnswerStateName = 'connecting';
  promise: Promise<ChatStreamResult>;
  private ids: Ids | undefined;
  private done: ChatDone | undefined;
  private failure: ChatErrorData | undefined;
  private requestId = '';
  /** Counts what moved the answer on: a try that advanced it resets the tries in a row. */
  private progress = 0;
  private live: Live | undefined;
  private wake: (() => void) | undefined;
  /** This round ended by running out of tries (then `resume()` may start another). */
  private gaveUp = false;
  private readonly policy: Required<ResumeOptions> | undefined;
  private idsKnown: (ids: Ids | undefined) => void = () => {};
  private readonly idsReady: Promise<Ids | undefined>;

  constructor(
    private readonly d: AnswerDeps,
    private readonly o: ChatStreamOptions & { resume?: ResumeOptions | false },
    private readonly first: Request | undefined,
    follow: (Ids & { text: string; after: number }) | undefined,
    private readonly settled: (run: AnswerRun, finished: boolean) => void,
  ) {
    // The call's options over the client's; `false` at the call turns it off, an object at the call on.
    const r = o.resume ?? d.resume;
    this.policy = r === false ? undefined : { ...RESUME_DEFAULTS, ...(d.resume || {}), ...(o.resume || {}) };
    this.idsReady = new Promise((resolve) => {
      this.idsKnown = resolve;
    });
    if (follow) {
      this.ids = { conversationId: follow.conversationId, messageId: follow.messageId };
      this.text = follow.text;
      this.prefix = follow.after - follow.text.length;
      this.idsKnown(this.ids);
    }
    this.promise = this.run();
  }

  get offset(): number {
    return this.prefix + this.text.length;
  }

  async stop(o?: CallOptions): Promise<Message | null> {
    const ids = this.ids ?? (await this.idsReady);
    if (!ids) return null;
    const message = await this.d.stopAnswer(ids.conversationId, ids.messageId, o);
    // Waiting to resume: fetch the end (the rest of what was written, then done) now.
    this.wake?.();
    return message;
  }

  resume(): Promise<ChatStreamResult> {
    if (this.state === 'interrupted') {
      this.promise = this.run();
    } else if (this.state === 'waiting') {
      this.wake?.();
    } else if (this.state === 'streaming' && this.live && this.policy) {
      const silent = Date.now() - this.live.lastData;
      if (silent >= this.policy.staleMs)
        this.live.cut(interrupted(`nothing received for ${silent} ms`), true);
    }
    return this.promise;
  }

  private setState(s: AnswerState): void {
    this.state = s.state;
    try {
      this.o.onState?.(s);
    } catch {
      // A progress display that fails must not end the answer.
    }
  }

  private partial() {
    const meta = this.meta ?? {
      conversationId: this.ids?.conversationId ?? '',
      userMessageId: '',
      assistantMessageId: this.ids?.messageId ?? '',
    };
    return { ...meta, text: this.text };
  }

  /** A final error: after the ids are known it carries what had arrived. */
  private final(err: unknown): unknown {
    if (err instanceof ChatStreamError || !(err instanceof ApiError) || !this.ids) return err;
    const { status, code, message, requestId, details, retryAfter } = err;
    return new ChatStreamError(
      {
        status,
        code,
        message,
        requestId: requestId || this.requestId,
        ...(details ? { details } : {}),
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      },
      this.partial(),
    );
  }

  private async run(): Promise<ChatStreamResult> {
    this.gaveUp = false;
    try {
      const result = await this.follow();
      this.setState({ state: 'done', result });
      this.settled(this, true);
      return result;
    } catch (err) {
      const error = this.final(err);
      const gaveUp = this.gaveUp && error instanceof ChatStreamError;
      if (gaveUp) this.setState({ state: 'interrupted', offset: this.offset, error });
      else this.setState({ state: 'failed', error });
      if (!this.ids) this.idsKnown(undefined);
      this.settled(this, !gaveUp);
      throw error;
    }
  }

  private async follow(): Promise<ChatStreamResult> {
    let failures = 0;
    for (;;) {
      if (this.o.signal?.aborted) throw abortedError();
      const ids = this.ids;
      const req = ids ? this.resumeRequest(ids) : this.first;
      if (!req) throw new TypeError('nothing to follow');
      if (ids && (failures > 0 || this.state !== 'connecting')) {
        this.setState({ state: 'resuming', attempt: failures, offset: this.offset });
      }
      const before = this.progress;
      const end = await this.d.authed((token) => this.attempt(req, token));
      if (end.kind === 'ended') return this.result();
      if (!this.policy) throw end.error;
      if (this.progress > before) failures = 0;
      if (end.now) continue;
      failures += 1;
      if (failures > this.policy.retries) {
        this.gaveUp = true;
        throw new ApiError({
          status: end.error.status,
          code: 'STREAM_INTERRUPTED',
          message: `answer stream cut; gave up after ${this.policy.retries} tries to resume (last: ${end.error.message})`,
          requestId: end.error.requestId || this.requestId,
        });
      }
      const backoff = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** (failures - 1));
      const delayMs = Math.max(backoff, (end.error.retryAfter ?? 0) * 1000);
      this.setState({ state: 'waiting', attempt: failures, delayMs, offset: this.offset, error: end.error });
      await this.sleep(delayMs);
    }
  }

  private result(): ChatStreamResult {
    const { meta, done, failure, triage } = this;
    if (failure || !done || !meta) {
      const f = failure ?? { code: 'INTERNAL' as const, message: 'the answer ended without done' };
      throw new ChatStreamError(
        { status: ERROR_STATUS[f.code] ?? 500, code: f.code, message: f.message, requestId: this.requestId },
        this.partial(),
      );
    }
    return {
      ...meta,
      text: this.text,
      ...(triage ? { triage } : {}),
      finishReason: done.finishReason,
      usage: done.usage,
      ...(done.disclaimer !== undefined ? { disclaimer: done.disclaimer } : {}),
      requestId: this.requestId,
    };
  }

  /** Waits `ms`, less if `resume()`/`stop()` wake it or the caller aborts. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let unlink = () => {};
      const done = () => {
        clearTimeout(timer);
        unlink();
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      unlink = onAbort(this.o.signal, done);
      this.wake = done;
    });
  }

  private resumeRequest(ids: Ids): Request {
    const query: Required<AnswerStreamQuery> = { after: this.offset };
    return {
      method: 'GET',
      url: `${this.d.base}/conversations/${seg(ids.conversationId)}/messages/${seg(ids.messageId)}/stream?after=${query.after}`,
      headers: { accept: 'text/event-stream' },
    };
  }

  /**
   * One event, checked against what the client has. Answers the event to hand to the app (a
   * resumed stream's repeated meta and triage are not), or 'gap' when text is missing before it.
   */
  private accept(ev: ChatEvent, rawId: string | undefined): ChatEvent | 'gap' | undefined {
    const id = rawId !== undefined && /^\d+$/.test(rawId) ? Number(rawId) : undefined;
    switch (ev.event) {
      case 'meta': {
        const known = this.ids;
        if (known && ev.data.assistantMessageId !== known.messageId) {
          throw new ApiError({
            status: 200,
            code: 'INVALID_RESPONSE',
            message: 'the stream is of another answer',
            requestId: this.requestId,
          });
        }
        if (this.meta) return undefined;
        this.meta = ev.data;
        this.ids = { conversationId: ev.data.conversationId, messageId: ev.data.assistantMessageId };
        this.idsKnown(this.ids);
        this.progress++;
        return ev;
      }
      case 'triage':
        if (this.triage && JSON.stringify(this.triage) === JSON.stringify(ev.data)) return undefined;
        this.triage = ev.data;
        this.progress++;
        return ev;
      case 'delta': {
        const t = ev.data.text;
        if (id === undefined) {
          this.text += t;
          this.progress++;
          return ev;
        }
        // The delta holds the answer's characters [id - length, id).
        const start = id - t.length;
        const at = this.offset;
        if (start > at) return 'gap';
        if (id <= at) return undefined;
        const fresh = t.slice(at - start);
        this.text += fresh;
        this.progress++;
        return fresh === t ? ev : { event: 'delta', data: { text: fresh } };
      }
      case 'replace':
        this.text = ev.data.text;
        this.prefix = 0;
        this.progress++;
        return ev;
      case 'done':
      case 'error':
        if (id !== undefined && id > this.offset) return 'gap';
        if (ev.event === 'done') this.done = ev.data;
        else this.failure = ev.data;
        this.progress++;
        return ev;
    }
  }

  /** One request; throws what is not worth resuming (a refusal, an abort, the app's own error). */
  private async attempt(req: Request, token: string | undefined): Promise<AttemptEnd> {
    const o = this.o;
    if (o.signal?.aborted) throw abortedError();
    const parser = createSseParser(o.onComment ? { onComment: o.onComment } : {});
    // Headers may come late or never (then the status comes at the end): chunks wait until we know
    // whether this is the event stream or an error envelope.
    const st: {
      mode?: 'sse' | 'body';
      held: (Uint8Array | ArrayBuffer)[];
      cut?: { error: ApiError; now: boolean };
      callbackError?: { error: unknown };
      protocolError?: { error: unknown };
    } = { held: [] };
    const inner = createAbort();
    const unlink = onAbort(o.signal, inner.abort);
    const live: Live = {
      lastData: Date.now(),
      cut: (error, now) => {
        st.cut ??= { error, now };
        inner.abort();
      },
    };
    this.live = live;
    const ended = () => this.done !== undefined || this.failure !== undefined;

    const handle = (raw: SseEvent) => {
      if (st.cut || st.callbackError || st.protocolError || ended()) return;
      const ev = toChatEvent(raw);
      if (!ev) return;
      let out: ChatEvent | 'gap' | undefined;
      try {
        out = this.accept(ev, raw.id);
      } catch (error) {
        st.protocolError = { error };
        inner.abort();
        return;
      }
      if (out === 'gap') return live.cut(interrupted('an event skipped part of the answer'), false);
      if (ev.event === 'meta') this.setState({ state: 'streaming', offset: this.offset });
      if (!out || !o.onEvent) return;
      try {
        o.onEvent(out);
      } catch (error) {
        // The app's handler failed: stop reading, and reject with its error.
        st.callbackError = { error };
        inner.abort();
      }
    };
    const take = (chunk: Uint8Array | ArrayBuffer) => {
      for (const e of parser.feed(chunk)) handle(e);
    };
    const decide = (head: ResponseHead) => {
      const sse = isEventStream(head.headers) && (head.status === undefined || head.status === 200);
      st.mode = sse ? 'sse' : 'body';
      if (sse) for (const c of st.held.splice(0)) take(c);
    };

    // A dead connection can stay silent without failing: after `stallMs` without a byte it is dropped.
    const stallMs = this.policy?.stallMs ?? 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      const idle = Date.now() - live.lastData;
      if (idle >= stallMs && this.ids) live.cut(interrupted(`nothing received for ${idle} ms`), false);
      else timer = setTimeout(check, Math.max(stallMs - idle, 1_000));
    };
    if (stallMs > 0) timer = setTimeout(check, stallMs);

    const headers: Record<string, string> = {
      ...req.headers,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    let end: ResponseHead & { status: number };
    try {
      end = await this.d.transport.stream(
        {
          method: req.method,
          url: req.url,
          headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: inner.signal,
        },
        {
          onHeaders: (head) => {
            if (st.mode === undefined) decide(head);
          },
          onChunk: (chunk) => {
            live.lastData = Date.now();
            if (st.mode === 'sse') take(chunk);
            else st.held.push(chunk);
          },
        },
      );
    } catch (err) {
      if (st.callbackError) throw st.callbackError.error;
      if (st.protocolError) throw st.protocolError.error;
      if (o.signal?.aborted) throw abortedError();
      if (ended()) return { kind: 'ended' };
      if (st.cut) return { kind: 'cut', ...st.cut };
      // Known ids: the answer goes on without us, so its rest can be asked for.
      if (err instanceof ApiError && this.ids) return { kind: 'cut', error: err, now: false };
      throw err;
    } finally {
      unlink();
      if (timer !== undefined) clearTimeout(timer);
      if (this.live === live) this.live = undefined;
    }
    if (st.mode === undefined) decide(end);
    if (st.callbackError) throw st.callbackError.error;
    if (st.protocolError) throw st.protocolError.error;
    const requestId = end.headers['x-request-id'] ?? '';
    if (requestId) this.requestId = requestId;
    if (st.mode !== 'sse') {
      const answer = decodeAll(st.held);
      if (end.status >= 400) {
        const error = this.d.errorFrom(end.status, end.headers, answer);
        if (req.method === 'GET' && RETRY_STATUSES.has(end.status)) return { kind: 'cut', error, now: false };
        throw error;
      }
      throw new ApiError({
        status: end.status,
        code: 'INVALID_RESPONSE',
        message: 'expected an event stream',
        requestId,
      });
    }
    parser.end();
    if (ended()) return { kind: 'ended' };
    if (st.cut) return { kind: 'cut', ...st.cut };
    if (!this.ids) {
      throw new ApiError({
        status: end.status,
        code: 'STREAM_INTERRUPTED',
        message: 'stream ended early',
        requestId,
      });
    }
    return { kind: 'cut', error: interrupted('stream ended before done', requestId), now: false };
  }
}

// ---- the client's answers ----------------------------------------------------------------------

/** Interrupted answers kept for `resumeAnswers()`; older ones are forgotten. */
const KEEP_INTERRUPTED = 8;

export function createAnswers(d: AnswerDeps) {
  const runs = new Set<AnswerRun>();

  const settled = (run: AnswerRun, finished: boolean) => {
    if (finished) {
      runs.delete(run);
      return;
    }
    const waiting = [...runs].filter((r) => r.state === 'interrupted');
    for (const old of waiting.slice(0, Math.max(0, waiting.length - KEEP_INTERRUPTED))) runs.delete(old);
  };

  const control = (run: AnswerRun): ChatAnswer => {
    const p = run.promise;
    Object.defineProperties(p, {
      meta: { get: () => run.meta },
      text: { get: () => run.text },
      offset: { get: () => run.offset },
      state: { get: () => run.state },
      stop: { value: (o?: CallOptions) => run.stop(o) },
      resume: { value: () => run.resume() },
    });
    // The properties were just defined: this is that object.
    return p as ChatAnswer;
  };

  const track = (run: AnswerRun): ChatAnswer => {
    runs.add(run);
    return control(run);
  };

  return {
    /** POST a chat request (text, vision, …) and follow its answer. */
    start(path: string, body: object, o: ChatStreamOptions): ChatAnswer {
      const first: Request = {
        method: 'POST',
        url: d.base + path,
        headers: {
          accept: 'text/event-stream',
          'content-type': 'application/json',
          ...(o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}),
        },
        body: JSON.stringify(body),
      };
      return track(new AnswerRun(d, o, first, undefined, settled));
    },

    follow(conversationId: string, messageId: string, o: FollowAnswerOptions = {}): ChatAnswer {
      const text = o.text ?? '';
      const after = o.after ?? text.length;
      if (!Number.isInteger(after) || after < text.length) {
        throw new TypeError('followAnswer: `after` must be a whole number, at least `text.length`');
      }
      return track(new AnswerRun(d, o, undefined, { conversationId, messageId, text, after }, settled));
    },

    resumeAll(): Promise<ChatStreamResult>[] {
      return [...runs].map((run) => {
        const p = run.resume();
        // The page follows these through onEvent/onState; an unawaited rejection is not an error here.
        p.catch(() => {});
        return p;
      });
    },
  };
}
