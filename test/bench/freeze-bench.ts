// What freezing saves: ms per step of the same job with its first stage frozen and not, in one
// run, alternated (A B A B) so that drift of a shared machine hits both alike. Real stage
// processes (runLocal); the first steps of each run are not timed (JIT, first-use allocations).
import { runLocal } from '../../trainer/src/runner/local-runner.ts';
import { createProgressReporter } from '../../trainer/src/runner/progress-output.ts';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';

export interface FreezeRun {
  frozen: boolean;
  /** Mean wall milliseconds per step, on the last stage (a step ends there). */
  msPerStep: number;
  /** Mean milliseconds per step each stage spent in backward (recompute + gradients). */
  backwardMs: number[];
  /** Mean milliseconds per step each stage spent computing (forward, backward, optimizer). */
  computeMs: number[];
}

interface Totals { wall: number; compute: number; backward: number; steps: number }

/** `job` with its first stage frozen: spec.training.freeze.layers = the first stage's layer count. */
export function withFrozenFirstStage(job: PipelineJob, firstStageLayers: number): PipelineJob {
  return { ...job, spec: { ...job.spec, training: { ...job.spec.training, freeze: { layers: firstStageLayers } } } };
}

export async function runFreezeRun(job: PipelineJob, frozen: boolean, warmupSteps: number): Promise<FreezeRun> {
  const partition = job.spec.pipeline.partition;
  if (!partition) throw new Error('the freeze bench needs spec.pipeline.partition, so that both runs cut the model alike');
  const totals = new Map<number, Totals>();
  const summary = await runLocal({
    job: frozen ? withFrozenFirstStage(job, partition[0]!) : job,
    baseDir: process.cwd(),
    reporter: createProgressReporter({ format: 'text', everySteps: 1_000_000, quiet: true }),
    onStageStep: (m) => {
      if (m.step < warmupSteps) return;
      const t = totals.get(m.stage) ?? { wall: 0, compute: 0, backward: 0, steps: 0 };
      totals.set(m.stage, { wall: t.wall + m.wallSeconds, compute: t.compute + m.computeSeconds, backward: t.backward + m.backwardSeconds, steps: t.steps + 1 });
    },
  });
  if (summary.status !== 'Succeeded') throw new Error(`freeze bench job failed: ${summary.error}`);
  const perStage = partition.map((_, stage) => totals.get(stage)!);
  const ms = (seconds: number, t: Totals) => (seconds / t.steps) * 1000;
  return {
    frozen,
    msPerStep: ms(perStage.at(-1)!.wall, perStage.at(-1)!),
    backwardMs: perStage.map((t) => ms(t.backward, t)),
    computeMs: perStage.map((t) => ms(t.compute, t)),
  };
}

/** Runs not frozen, frozen, not frozen, frozen. */
export async function runFreezeBench(job: PipelineJob, warmupSteps: number, rounds = 2): Promise<FreezeRun[]> {
  const runs: FreezeRun[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const frozen of [false, true]) runs.push(await runFreezeRun(job, frozen, warmupSteps));
  }
  return runs;
}

export function formatFreezeBench(runs: FreezeRun[]): string {
  const stages = runs[0]?.backwardMs.length ?? 0;
  const stageColumns = [...Array(stages).keys()];
  const lines = [
    `| first stage | ms/step | ${stageColumns.map((s) => `stage ${s} backward ms`).join(' | ')} | ${stageColumns.map((s) => `stage ${s} compute ms`).join(' | ')} |`,
    `|---|---:|${stageColumns.map(() => '---:').join('|')}|${stageColumns.map(() => '---:').join('|')}|`,
    ...runs.map((run) => `| ${run.frozen ? 'frozen' : 'trains'} | ${run.msPerStep.toFixed(1)} | ${run.backwardMs.map((v) => v.toFixed(1)).join(' | ')} | ${run.computeMs.map((v) => v.toFixed(1)).join(' | ')} |`),
  ];
  const mean = (frozen: boolean) => {
    const chosen = runs.filter((run) => run.frozen === frozen);
    return chosen.reduce((sum, run) => sum + run.msPerStep, 0) / chosen.length;
  };
  const saving = 1 - mean(true) / mean(false);
  // Each round's pair ran back to back: its ratio is less exposed to a shared machine's drift than the means.
  const rounds = runs.flatMap((run, i) => (run.frozen && i > 0 && !runs[i - 1]!.frozen ? [1 - run.msPerStep / runs[i - 1]!.msPerStep] : []));
  lines.push('', `Frozen first stage: ${mean(true).toFixed(1)} ms/step against ${mean(false).toFixed(1)} ms/step, ${(saving * 100).toFixed(0)}% less (per round: ${rounds.map((r) => `${(r * 100).toFixed(0)}%`).join(', ')}).`);
  return lines.join('\n');
}
