// Splits the model's layers into contiguous stages.
// `parameters` balances trainable-parameter counts (DeepSpeed's default); `profile` balances
// measured per-layer costs. Both minimise the largest stage cost over all contiguous splits
// (exact dynamic programme; models have tens of layers, so O(stages × layers²) is nothing).

export interface StageRange {
  /** First layer index of the stage (inclusive). */
  from: number;
  /** One past the last layer index. */
  to: number;
}

/** Layer counts per stage → layer ranges. */
export function rangesFromSizes(sizes: number[]): StageRange[] {
  let from = 0;
  return sizes.map((size) => {
    const range = { from, to: from + size };
    from += size;
    return range;
  });
}

/**
 * Chooses `stages` contiguous, non-empty groups of layers minimising the maximum group cost.
 * `nonLastFactor` > 1 charges non-last stages for recomputing their forward in the backward pass
 * (≈ 1.3 measured on cpu; shared/notes/tfjs.md §6), so the last stage may take more layers.
 * Ties prefer earlier cuts, so the result is deterministic.
 */
export function balancePartition(costs: number[], stages: number, nonLastFactor = 1): number[] {
  const n = costs.length;
  if (stages < 1 || stages > n) throw new RangeError(`cannot split ${n} layers into ${stages} stages`);
  const prefix = [0];
  for (const cost of costs) prefix.push(prefix[prefix.length - 1]! + cost);
  const groupCost = (from: number, to: number, last: boolean) => (prefix[to]! - prefix[from]!) * (last ? 1 : nonLastFactor);
  // best[s][i]: minimal max cost of splitting layers [0, i) into s stages (none of them last).
  const best: number[][] = [...Array(stages + 1)].map(() => new Array<number>(n + 1).fill(Infinity));
  const cut: number[][] = [...Array(stages + 1)].map(() => new Array<number>(n + 1).fill(0));
  best[0]![0] = 0;
  for (let s = 1; s <= stages; s++) {
    const last = s === stages;
    for (let i = s; i <= n; i++) {
      if (last && i !== n) continue;
      for (let j = s - 1; j < i; j++) {
        const value = Math.max(best[s - 1]![j]!, groupCost(j, i, last));
        if (value < best[s]![i]!) {
          best[s]![i] = value;
          cut[s]![i] = j;
        }
      }
    }
  }
  const sizes: number[] = [];
  for (let s = stages, i = n; s > 0; s--) {
    const j = cut[s]![i]!;
    sizes.unshift(i - j);
    i = j;
  }
  return sizes;
}

/** Parameter-free layers (activation, dropout, flatten) still cost a little, so they spread out. */
export function parameterCosts(parameterCounts: number[]): number[] {
  return parameterCounts.map((count) => count + 1);
}
