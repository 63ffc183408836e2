// The whole MNIST example (`pipetrain train examples/mnist-mlp.yaml`: real stage processes on
// loopback) per backend: samples/s as the supervisor measures it, and each active stage's peak RSS
// and thread count. Backends take turns within each round (the machine is shared and noisy).
import { runLocal } from '../../trainer/src/runner/local-runner.ts';
import { createProgressReporter } from '../../trainer/src/runner/progress-output.ts';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { startStageSampler, type StageSample } from './stage-sampler.ts';

export interface ExampleRun {
  label: string;
  backend: string;
  stages: number;
  steps: number;
  /** TF_NUM_INTRAOP_THREADS the stages ran with (tensorflow only). */
  intraOpThreads?: string;
  samplesPerSecond: number;
  stageSamples: StageSample[];
}

export interface ExampleCase {
  label: string;
  backend: 'tensorflow' | 'wasm' | 'cpu';
  stages: number;
  steps: number;
  intraOpThreads?: string;
}

export async function runExampleCase(loadExample: (overrides: string[]) => Promise<PipelineJob>, c: ExampleCase, baseDir: string): Promise<ExampleRun> {
  const job = await loadExample([`spec.training.backend=${c.backend}`, `spec.pipeline.stages=${c.stages}`, 'spec.training.epochs=null', `spec.training.steps=${c.steps}`]);
  // Stage processes inherit this process's environment (stage-processes.ts).
  const previous = process.env.TF_NUM_INTRAOP_THREADS;
  if (c.intraOpThreads) process.env.TF_NUM_INTRAOP_THREADS = c.intraOpThreads;
  const sampler = startStageSampler(process.pid);
  try {
    const summary = await runLocal({ job, baseDir, reporter: createProgressReporter({ format: 'text', everySteps: 1e9, quiet: true }) });
    if (summary.status !== 'Succeeded') throw new Error(`${c.label}: training failed: ${summary.error}`);
    return { ...c, samplesPerSecond: summary.samplesPerSecond, stageSamples: sampler.stop(), intraOpThreads: c.backend === 'tensorflow' ? process.env.TF_NUM_INTRAOP_THREADS : undefined };
  } finally {
    sampler.stop();
    if (previous === undefined) delete process.env.TF_NUM_INTRAOP_THREADS;
    else process.env.TF_NUM_INTRAOP_THREADS = previous;
  }
}

/** Runs every case `rounds` times, the order reversed every other round. */
export async function runExampleBench(loadExample: (overrides: string[]) => Promise<PipelineJob>, cases: ExampleCase[], rounds: number, baseDir: string): Promise<ExampleRun[][]> {
  const byCase: ExampleRun[][] = cases.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...cases.keys()] : [...cases.keys()].reverse();
    for (const index of order) byCase[index]!.push(await runExampleCase(loadExample, cases[index]!, baseDir));
  }
  return byCase;
}

export function formatExampleBench(runs: ExampleRun[][], baseline: string): string {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const base = median(runs.find((r) => r[0]!.label === baseline)!.map((r) => r.samplesPerSecond));
  const mb = (bytes: number) => `${Math.round(bytes / 1e6)}`;
  const rows = runs.map((caseRuns) => {
    const first = caseRuns[0]!;
    const rate = median(caseRuns.map((r) => r.samplesPerSecond));
    const rss = first.stageSamples.map((s) => mb(Math.max(...caseRuns.map((r) => r.stageSamples[s.stage]?.peakRssBytes ?? 0)))).join(' / ');
    const threads = first.stageSamples.map((s) => String(Math.max(...caseRuns.map((r) => r.stageSamples[s.stage]?.threads ?? 0)))).join(' / ');
    return `| ${first.label} | ${first.stages} | ${first.steps} | ${caseRuns.map((r) => Math.round(r.samplesPerSecond)).join(' · ')} | ${(rate / base).toFixed(2)}× | ${rss} | ${threads} |`;
  });
  return [
    '| run | stages | steps | samples/s per round | vs ' + baseline + ' | peak RSS per stage (MB) | threads per stage |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
