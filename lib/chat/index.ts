// Chat's public surface: the flow that owns a turn, the writer, following and stopping an answer.
export type { AnswerEvent, DoneEvent, ErrorEvent } from './bus.js';
export { type ChatCtx, type ChatInput, type ChatStart, startChat } from './flow.js';
export { followAnswer, stopAnswer } from './follow.js';
export { respondChat, respondResume, SSE_PING_MS } from './http.js';
export { IDEMPOTENCY_KEY } from './idempotency.js';
export type { ChatOutcome, ChatResult, ChatTurn, MetaEvent } from './outcome.js';
export { ChatResultSchema, ChatStreamSchema, IdempotencyHeaders, StreamQuery } from './schemas.js';
export { BLOCKED_NOTICE, startAnswer } from './writer.js';
