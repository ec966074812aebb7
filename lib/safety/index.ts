/**
 * Medical safety layer: emergency triage before the AI is called, and the system prompt / disclaimer used
 * when it is. Pure code, no I/O (the model-judged classifier lives in classifier.ts and is imported apart).
 */
export { normaliseForTriage, normaliseText, toSimplified } from './normalise.js';
export {
  AI_DISCLAIMER,
  buildSystemPrompt,
  type HealthProfile,
  SYSTEM_PROMPT,
  type SystemPromptOptions,
} from './prompt.js';
export {
  DEFAULT_CRISIS_LINE,
  DEFAULT_EMERGENCY_NUMBER,
  DEFAULT_POLICE_NUMBER,
  emergencyAnswer,
  matchRule,
  resolveNumbers,
  type TriageAction,
  type TriageOptions,
  type TriageResult,
  triage,
} from './triage.js';
export type { GuardId } from './triage-guards.js';
export {
  GUIDANCE,
  type Guidance,
  guidanceText,
  type NumberRef,
  type RuleAction,
  type TriageCategory,
} from './triage-guidance.js';
export { type Concept, LEXICON } from './triage-lexicon.js';
export { TRIAGE_RULES, type TriageRule } from './triage-rules.js';
