// Learning rate as a pure function of the optimizer step (0-based).

export interface LearningRateSchedule {
  type: 'constant' | 'warmupCosine';
  warmupSteps: number;
  minLearningRate: number;
}

/**
 * `constant`: the base rate. `warmupCosine`: linear warm-up from base/warmupSteps to the base rate
 * over `warmupSteps` steps, then cosine decay to `minLearningRate` at the last step.
 */
export function learningRateAt(step: number, base: number, schedule: LearningRateSchedule, totalSteps: number): number {
  if (schedule.type === 'constant') return base;
  const warmup = schedule.warmupSteps;
  if (step < warmup) return (base * (step + 1)) / warmup;
  const decaySteps = Math.max(1, totalSteps - warmup - 1);
  const progress = Math.min(1, (step - warmup) / decaySteps);
  return schedule.minLearningRate + 0.5 * (base - schedule.minLearningRate) * (1 + Math.cos(Math.PI * progress));
}
