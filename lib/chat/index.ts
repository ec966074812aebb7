// The chat engine's public surface, for the text-chat and vision-chat functions.
export {
  type ChatOutcome,
  type ChatRequest,
  type ChatResult,
  type ChatSink,
  type ChatTurn,
  type DoneEvent,
  type ErrorEvent,
  type MetaEvent,
  prepareChat,
  type RunChatOptions,
  replayChat,
  runChat,
  silentSink,
} from './engine.js';
export { type ChatRouteInput, respondChat, SSE_PING_MS, sseSink } from './http.js';
export { IDEMPOTENCY_KEY } from './idempotency.js';
export { ChatResultSchema, ChatStreamSchema, IdempotencyHeaders, StreamQuery } from './schemas.js';
