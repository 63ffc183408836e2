// Pipeline efficiency: each stage's measured compute time over wall time, against the simulator's
// ideal for the measured action costs, for real stage processes on this machine.
import { buildPrograms, simulate } from '../../trainer/src/schedule/index.ts';
import { runLocal } from '../../trainer/src/runner/local-runner.ts';
import { createProgressReporter } from '../../trainer/src/runner/progress-output.ts';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';

export interface StageEfficiency {
  stage: number;
  /** Measured compute seconds / wall seconds over the timed steps. */
  measured: number;
  /** The simulator's busy / makespan for the measured mean F, B and OPT costs. */
  ideal: number;
  ratio: number;
}

export interface PipelineBenchResult {
  stages: number;
  microBatches: number;
  schedule: string;
  timedSteps: number;
  perStage: StageEfficiency[];
}

interface Totals { wall: number; compute: number; forward: number; backward: number; optimizer: number; steps: number }

/** Trains `job` locally; the first `warmupSteps` steps are not timed (JIT, first-use allocations). */
export async function runPipelineBench(job: PipelineJob, warmupSteps: number): Promise<PipelineBenchResult> {
  const { schedule, microBatches } = job.spec.pipeline;
  const totals = new Map<number, Totals>();
  const summary = await runLocal({
    job,
    baseDir: process.cwd(),
    reporter: createProgressReporter({ format: 'text', everySteps: 1_000_000, quiet: true }),
    onStageStep: (m) => {
      if (m.step < warmupSteps) return;
      const t = totals.get(m.stage) ?? { wall: 0, compute: 0, forward: 0, backward: 0, optimizer: 0, steps: 0 };
      totals.set(m.stage, {
        wall: t.wall + m.wallSeconds, compute: t.compute + m.computeSeconds, forward: t.forward + m.forwardSeconds,
        backward: t.backward + m.backwardSeconds, optimizer: t.optimizer + m.optimizerSeconds, steps: t.steps + 1,
      });
    },
  });
  if (summary.status !== 'Succeeded') throw new Error(`benchmark job failed: ${summary.error}`);
  const stages = summary.partition.length;
  const perStage = [...Array(stages).keys()].map((stage) => totals.get(stage)!);
  // Mean cost of one F and one B per micro-batch, and of the optimizer step, per stage.
  const costs = {
    forward: perStage.map((t) => t.forward / t.steps / microBatches),
    backward: perStage.map((t) => t.backward / t.steps / microBatches),
    optimizer: perStage.map((t) => t.optimizer / t.steps),
  };
  const ideal = simulate(buildPrograms(schedule, stages, microBatches), costs);
  return {
    stages, microBatches, schedule, timedSteps: perStage[0]!.steps,
    perStage: perStage.map((t, stage) => {
      const measured = t.compute / t.wall;
      const idealShare = ideal.busy[stage]! / ideal.makespan;
      return { stage, measured, ideal: idealShare, ratio: measured / idealShare };
    }),
  };
}

export function formatPipelineBench(r: PipelineBenchResult): string {
  const rows = r.perStage.map((s) => `| ${s.stage} | ${s.measured.toFixed(3)} | ${s.ideal.toFixed(3)} | ${s.ratio.toFixed(3)} |`);
  return [
    `Pipeline efficiency: ${r.stages} stages, ${r.schedule}, ${r.microBatches} micro-batches, ${r.timedSteps} timed steps`,
    '| stage | compute / wall (measured) | busy / makespan (simulated ideal) | ratio |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
