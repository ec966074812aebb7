// What an answer cost, from MODEL_PRICES (CNY per million tokens). Chinese providers bill prompt
// and completion tokens at different rates; a model without a price costs 0 (and is still counted).
import type { ModelPrices } from '../config/index.js';

/** Stored with 6 decimals (numeric(14, 6)): rounded here so the stored value is the one summed. */
export function costCny(
  prices: ModelPrices,
  model: string | null,
  usage: { promptTokens: number; completionTokens: number },
): number {
  const p = model ? prices[model] : undefined;
  if (!p) return 0;
  const yuan = (usage.promptTokens * p.input + usage.completionTokens * p.output) / 1_000_000;
  return Math.round(yuan * 1_000_000) / 1_000_000;
}
