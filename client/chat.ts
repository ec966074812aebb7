// Asking (/text-chat, /vision-chat): one JSON answer with `{ stream: false }`, else the event
// stream, followed to its end through cuts (answers.ts).
import type { AnswerState, ChatAnswer, ResumeOptions } from './answers.js';
import { type Caller, type CallOptions, signalOf } from './http.js';
import type {
  ChatEvent,
  ChatMeta,
  ChatResult,
  TextChatRequest,
  Triage,
  Usage,
  VisionChatRequest,
} from './types.js';

export type ChatStreamOptions = CallOptions & {
  stream?: true;
  /**
   * Each event as it arrives: `meta`, `triage`?, `delta`*, then `done` or `error`. On `replace`, show
   * `data.text` instead of everything shown of this answer (later deltas append to it).
   */
  onEvent?: (event: ChatEvent) => void;
  /** Comment lines (`: ping` keeps an idle stream alive). */
  onComment?: (text: string) => void;
  /** A retry with the same key and body replays the stored answer (kept 24 h). */
  idempotencyKey?: string;
  /** Progress of the stream: resuming after a cut, given up, done (see AnswerState). */
  onState?: (state: AnswerState) => void;
  /** Overrides the client's `resume` for this answer. */
  resume?: ResumeOptions | false;
};

export type ChatJsonOptions = CallOptions & { stream: false; idempotencyKey?: string };

/** A chat stream that ended with `done`. */
export type ChatStreamResult = ChatMeta & {
  /** The whole answer: every delta joined (after a `replace`, its text and what followed). */
  text: string;
  triage?: Triage;
  finishReason: string;
  usage: Usage;
  disclaimer?: string;
  requestId: string;
};

/** One chat request to `path` (text, vision, regenerate): JSON or the followed stream. */
export interface ChatSend {
  (path: string, body: object, o: ChatJsonOptions): Promise<ChatResult>;
  (path: string, body: object, o?: ChatStreamOptions): ChatAnswer;
}

export interface ChatCalls {
  /**
   * With `{ stream: false }` one JSON answer; otherwise the event stream, resolved at `done`, resumed
   * by itself when cut; its `stop()` stops the answer.
   */
  textChat(body: TextChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  textChat(body: TextChatRequest, o?: ChatStreamOptions): ChatAnswer;
  visionChat(body: VisionChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  visionChat(body: VisionChatRequest, o?: ChatStreamOptions): ChatAnswer;
}

/** What createClient lends: authenticated calls, and the answers that follow streams. */
export type ChatDeps = {
  call: Caller;
  answers: { start(path: string, body: object, o: ChatStreamOptions): ChatAnswer };
};

export function chatSender({ call, answers }: ChatDeps): ChatSend {
  function chat(path: string, body: object, o: ChatJsonOptions): Promise<ChatResult>;
  function chat(path: string, body: object, o?: ChatStreamOptions): ChatAnswer;
  function chat(
    path: string,
    body: object,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    if (o?.stream === false) {
      return call.json<ChatResult>({
        method: 'POST',
        path,
        query: { stream: 'false' },
        body,
        ...signalOf(o),
        ...(o.idempotencyKey ? { headers: { 'idempotency-key': o.idempotencyKey } } : {}),
      });
    }
    return answers.start(path, body, o ?? {});
  }
  return chat;
}

export function createChat(chat: ChatSend): ChatCalls {
  function textChat(body: TextChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  function textChat(body: TextChatRequest, o?: ChatStreamOptions): ChatAnswer;
  function textChat(
    body: TextChatRequest,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    return o?.stream === false ? chat('/text-chat', body, o) : chat('/text-chat', body, o);
  }

  function visionChat(body: VisionChatRequest, o: ChatJsonOptions): Promise<ChatResult>;
  function visionChat(body: VisionChatRequest, o?: ChatStreamOptions): ChatAnswer;
  function visionChat(
    body: VisionChatRequest,
    o?: ChatJsonOptions | ChatStreamOptions,
  ): Promise<ChatResult> | ChatAnswer {
    return o?.stream === false ? chat('/vision-chat', body, o) : chat('/vision-chat', body, o);
  }

  return { textChat, visionChat };
}
