// AI-generated content labels (《人工智能生成合成内容标识办法》, in force 2025-09-01, and the
// mandatory standard GB 45438-2025). The visible label is `aiGenerated` + the disclaimer; the
// implicit one is the metadata object of Annex E, carried by every assistant message in the API
// and in the export. Built when read, so it always names the message's current text.
import { createHmac } from 'node:crypto';
import { type Config, getConfig } from '../config/index.js';
import type { Aigc } from '../conversations/schemas.js';

/** Annex E's field names, exactly (the standard's metadata keys, not our naming style): AigcSchema. */
export type { Aigc };

export type AigcCodes = { producer: string; propagator: string; key: Buffer };

/** What the mini-program and the export show beside every AI answer. */
export const AI_LABEL = '本内容由人工智能生成';

// Local runs only: production refuses to start without AIGC_PROVIDER_CODE and JWT_SECRET.
const DEV_CODE = 'LOCAL-DEV-UNFILED';
const DEV_SECRET = 'dev-only-aigc-label-secret';

const byConfig = new WeakMap<Config, AigcCodes>();

export function aigcCodes(config: Config): AigcCodes {
  let codes = byConfig.get(config);
  if (!codes) {
    const [producer = DEV_CODE, propagator = producer] = config.AIGC_PROVIDER_CODE ?? [];
    // A key of its own derived from the service secret, so a label digest never doubles as a token key.
    const key = createHmac('sha256', config.JWT_SECRET ?? DEV_SECRET)
      .update('aigc-label-v1')
      .digest();
    codes = { producer, propagator, key };
    byConfig.set(config, codes);
  }
  return codes;
}

/**
 * The process configuration's codes, for callers without a runtime at hand (a deployed function's
 * runtime is built from the same configuration); callers with one pass aigcCodes(rt.config).
 */
export function processAigcCodes(): AigcCodes {
  return aigcCodes(getConfig());
}

function digest(codes: AigcCodes, id: string, content: string): string {
  const mac = createHmac('sha256', codes.key)
    .update(`1\n${codes.producer}\n${id}\n`)
    .update(content)
    .digest('base64url');
  return `hs256:${mac}`;
}

/**
 * The implicit label of a message, or null when it is not AI-generated. GB 45438-2025 Annex E's
 * Label only says that content is ("1"), possibly is ("2") or is suspected to be ("3") AI-generated;
 * it has no value for "not AI-generated". The fixed emergency guidance (written from first-aid
 * sources, no model asked), the content-security notice (a `blocked` answer) and an answer that
 * failed before any text are not generated content, so they carry no label rather than a false one.
 */
export function aigcLabel(
  m: { id: string; role: string; aiGenerated: boolean; content: string; status: string },
  codes: AigcCodes,
): Aigc | null {
  // A blocked answer's stored text is always the fixed notice, never the model's words.
  if (m.role !== 'assistant' || !m.aiGenerated || m.status === 'blocked') return null;
  return {
    Label: '1',
    ContentProducer: codes.producer,
    ProduceID: m.id,
    ReservedCode1: digest(codes, m.id, m.content),
    ContentPropagator: codes.propagator,
    PropagateID: m.id,
    ReservedCode2: '',
  };
}

/** True when a label (from an export, say) was issued by this service for exactly this text. */
export function verifyAigc(label: Aigc, content: string, codes: AigcCodes): boolean {
  return (
    label.Label === '1' &&
    label.ContentProducer === codes.producer &&
    label.ReservedCode1 === digest(codes, label.ProduceID, content)
  );
}
