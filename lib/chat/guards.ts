// The guards that may replace an answer while it is written (lib/chat/writer.ts `AnswerGuard`):
// the model-judgement triage layer and WeChat content security. Both work through the writer's one
// `replace`: the model request is aborted, `replace` (with `triage` first for an emergency) goes to
// every follower, and the replacement is what is stored.
import type { Runtime } from '../runtime.js';
import { emergencyAnswer } from '../safety/index.js';
import type { AnswerGuard } from './writer.js';

/** The numbers every emergency answer offers (120, 12356, 110 unless configured). */
export const triageNumbers = (rt: Runtime) => ({
  emergencyNumber: rt.config.EMERGENCY_NUMBER,
  crisisLine: rt.config.CRISIS_LINE,
  policeNumber: rt.config.POLICE_NUMBER,
});

/**
 * Asks TRIAGE_MODEL, next to the answer, whether the question describes an emergency the rules did
 * not know. A verdict replaces the answer with that situation's guidance (`source: "model"`); no
 * verdict, a failure or slowness changes nothing and delays nothing. Off with TRIAGE_MODEL=off.
 */
export function modelTriage(rt: Runtime, question: string, requestId: string): AnswerGuard {
  return {
    start: async (signal) => {
      // Loaded with the first answer, not at import: the classifier brings its own schema.
      const { classifyEmergency, triageModel } = await import('../safety/classifier.js');
      const model = triageModel(rt.config);
      if (!model) return null;
      const verdict = await classifyEmergency(await rt.llm(), {
        text: question,
        model,
        signal,
        timeoutMs: rt.config.TRIAGE_TIMEOUT_MS,
        log: rt.log,
        requestId,
      });
      if (!verdict) return null;
      const t = emergencyAnswer(verdict.category, triageNumbers(rt));
      return { text: t.message, triage: { ...t, source: 'model' } };
    },
  };
}
