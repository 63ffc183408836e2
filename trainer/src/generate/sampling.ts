// Choosing the next token from a model's logits: greedy at temperature 0, otherwise a softmax of
// logits/temperature over the top-k tokens, sampled with a seeded generator. Done in float64 in
// JavaScript on the read-back logits, so a seed gives the same text on every run.

export interface SamplingOptions {
  /** 0 picks the most likely token (ties: the lowest id); higher flattens the distribution. */
  temperature: number;
  /** Keep only the k most likely tokens; undefined keeps all. */
  topK?: number;
}

export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (options.temperature === 0) return argMax(logits);
  const candidates = topCandidates(logits, options.topK ?? logits.length);
  const scaled = candidates.map((id) => logits[id]! / options.temperature);
  const max = Math.max(...scaled);
  const weights = scaled.map((value) => Math.exp(value - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let threshold = random() * total;
  for (let i = 0; i < candidates.length; i++) {
    threshold -= weights[i]!;
    if (threshold < 0) return candidates[i]!;
  }
  return candidates[candidates.length - 1]!;
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Ids of the k largest logits, in id order (ties at the cut: lower ids first). */
function topCandidates(logits: ArrayLike<number>, k: number): number[] {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  if (k >= ids.length) return ids;
  const ranked = [...ids].sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, k);
  return ranked.sort((a, b) => a - b);
}
