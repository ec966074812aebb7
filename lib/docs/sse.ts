// The chat stream's events, for the OpenAPI description (OpenAPI has no native SSE schema).
export const SSE_EVENTS_DESCRIPTION = `## Chat stream events (text/event-stream)

| event | data |
|---|---|
| \`meta\` | \`{ conversationId, userMessageId, assistantMessageId }\` — always first |
| \`triage\` | \`{ level: "emergency", category, message, actions: [{ type: "call", number, label }] }\` — only on warning signs |
| \`delta\` | \`{ text }\` — any number |
| \`replace\` | \`{ text }\` — everything shown of this answer is replaced by \`text\` (content security refused it: the stream then ends with \`done\` \`finishReason: "blocked"\`) |
| \`done\` | \`{ assistantMessageId, finishReason, usage: { promptTokens, completionTokens }, disclaimer? }\` |
| \`error\` | \`{ code: "UPSTREAM_ERROR" \\| "UPSTREAM_TIMEOUT" \\| …, message }\` |

Exactly one of \`done\` or \`error\` ends the stream. Comment lines (\`: ping\`) keep an idle stream alive.`;
