/**
 * Medical safety layer: emergency triage before the AI is called, and the system prompt / disclaimer used
 * when it is. Pure code, no I/O.
 */
export { normaliseText, toSimplified } from './normalise.js';
export {
  AI_DISCLAIMER,
  buildSystemPrompt,
  type HealthProfile,
  SYSTEM_PROMPT,
  type SystemPromptOptions,
} from './prompt.js';
export {
  resolveNumbers,
  type TriageAction,
  type TriageOptions,
  type TriageResult,
  triage,
} from './triage.js';
export {
  CONTEXT_GUARDS,
  type ContextGuard,
  DEFAULT_CRISIS_LINE,
  DEFAULT_EMERGENCY_NUMBER,
  type GuardId,
  NEGATION_PREFIX,
  PAST_ASPECT_SUFFIX,
  type RuleAction,
  type RuleAnswer,
  type RulePattern,
  TRIAGE_RULES,
  type TriageCategory,
  type TriageRule,
} from './triage-rules.js';
