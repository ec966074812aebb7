// Answers being written, and how a reader follows one from any offset. The writer of an answer
// keeps its events in process (LiveAnswer) for followers on the same instance, and appends them to
// the answer bus (Redis) for followers elsewhere; a finished answer is read from its row. Whatever
// the source, a Cursor turns events into what a client that already has `after` characters needs:
// no gap, no repeat.
import type { AnswerEvent } from './bus.js';

/** Why the writer was told to end early. */
export type StopReason = 'stopped' | 'shutdown';

/** One answer being written by this process. */
export class LiveAnswer {
  readonly events: AnswerEvent[] = [];
  ended = false;
  /** Aborted with a StopReason: a stop request or a shutdown. */
  readonly stop = new AbortController();
  private waiters: (() => void)[] = [];

  push(e: AnswerEvent): void {
    if (this.ended) return;
    this.events.push(e);
    if (e.t === 'done' || e.t === 'error') this.ended = true;
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** Resolves at the next event (or at once when ended). */
  next(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
}

/** The answers this runtime is writing, by assistant message id. */
export class LiveAnswers {
  private readonly live = new Map<string, LiveAnswer>();

  open(id: string): LiveAnswer {
    const a = new LiveAnswer();
    this.live.set(id, a);
    return a;
  }
  get(id: string): LiveAnswer | undefined {
    return this.live.get(id);
  }
  forget(id: string): void {
    this.live.delete(id);
  }
  get size(): number {
    return this.live.size;
  }
  /** Ends every answer being written (shutdown): each stores what it has. */
  stopAll(reason: StopReason): void {
    for (const a of this.live.values()) a.stop.abort(reason);
  }
}

/** Where a follower's events go, with the SSE `id` (the answer's offset after the event). */
export interface EventSink {
  send(event: 'triage' | 'delta' | 'replace' | 'done' | 'error', data: unknown, id: number): Promise<void>;
}

/** Sends each event's part the client lacks; `after` is what it already has. */
export class Cursor {
  private offset = 0;
  constructor(private sent: number) {}

  /** How much of the answer's text the events applied so far hold. */
  get position(): number {
    return this.offset;
  }

  /** True once the answer ended. */
  async apply(e: AnswerEvent, sink: EventSink): Promise<boolean> {
    switch (e.t) {
      case 'delta': {
        const start = this.offset;
        this.offset += e.text.length;
        if (this.offset <= this.sent) return false;
        const text = e.text.slice(Math.max(0, this.sent - start));
        this.sent = this.offset;
        await sink.send('delta', { text }, this.sent);
        return false;
      }
      case 'triage':
        await sink.send('triage', e.triage, this.sent);
        return false;
      case 'replace':
        // Whatever the client had (the old text, or this text already), it now has exactly this.
        this.offset = e.text.length;
        this.sent = this.offset;
        await sink.send('replace', { text: e.text }, this.sent);
        return false;
      case 'done':
        await sink.send('done', e.done, this.sent);
        return true;
      case 'error':
        await sink.send('error', e.error, this.sent);
        return true;
    }
  }
}
