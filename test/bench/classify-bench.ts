// `npm run bench -- classify`: what pretraining is worth, measured. The Moby Dick char GPT
// (examples/moby-dick-gpt.yaml) is pretrained for PRETRAIN_STEPS, then examples/spam-classify.yaml
// fine-tunes its body with a classificationHead on SpamAssassin, and
// examples/spam-classify-scratch.yaml trains the same model from its seeded initialisation, for
// the same steps on the same data. Both validation accuracies are printed side by side.
// Sizes come from the environment so a small run checks the machinery:
//   PIPETRAIN_BENCH_CLASSIFY_PRETRAIN_STEPS (default 2000, the example's), _STEPS (default 300),
//   _PER_CLASS (messages of each class; default all), _BACKEND (default the examples' auto),
//   _EVAL_SAMPLES (the pretraining's validation windows; default the example's 480),
//   _STAGES (pipeline stages of all three runs; default the examples' 4).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipelineJobFile } from '../../trainer/src/api/load.ts';
import { runLocal, type RunSummary } from '../../trainer/src/runner/local-runner.ts';
import type { ProgressReporter } from '../../trainer/src/runner/progress-output.ts';
import { writeSpamAssassinJsonl } from './spam-assassin-jsonl.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;
const quiet: ProgressReporter = { step: () => undefined, info: () => undefined, warn: () => undefined, close: () => undefined };

export interface ClassifyBenchOptions {
  pretrainSteps: number;
  steps: number;
  perClass?: number;
  evalSamples?: number;
  stages?: number;
  backend?: string;
}

export interface ClassifyBenchResult {
  options: ClassifyBenchOptions;
  messages: { ham: number; spam: number };
  pretrained: RunSummary;
  fineTuned: RunSummary;
  scratch: RunSummary;
}

export function classifyBenchOptions(env = process.env): ClassifyBenchOptions {
  const number = (name: string, fallback?: number) => {
    const raw = env[`PIPETRAIN_BENCH_CLASSIFY_${name}`];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`PIPETRAIN_BENCH_CLASSIFY_${name}: a positive integer, got ${raw}`);
    return value;
  };
  const perClass = number('PER_CLASS');
  const evalSamples = number('EVAL_SAMPLES');
  const stages = number('STAGES');
  const backend = env.PIPETRAIN_BENCH_CLASSIFY_BACKEND;
  return { pretrainSteps: number('PRETRAIN_STEPS', 2000)!, steps: number('STEPS', 300)!, ...(perClass ? { perClass } : {}), ...(evalSamples ? { evalSamples } : {}), ...(stages ? { stages } : {}), ...(backend ? { backend } : {}) };
}

async function train(file: string, overrides: string[]): Promise<RunSummary> {
  const loaded = await loadPipelineJobFile(join(EXAMPLES, file), overrides);
  if (!loaded.ok) throw new Error(`examples/${file}: ${loaded.problems.map((p) => p.message).join('; ')}`);
  // A loaded machine can leave a stage silent for longer than the default 30 s (a long evaluation).
  const summary = await runLocal({ job: loaded.job, baseDir: EXAMPLES, reporter: quiet, stallTimeoutSeconds: 600 });
  if (summary.status !== 'Succeeded') throw new Error(`examples/${file}: ${summary.error}`);
  return summary;
}

/** The example's warm-up, shortened for a short run (it must not exceed the steps). */
function warmup(exampleSteps: number, steps: number): string {
  return `spec.training.learningRateSchedule.warmupSteps=${Math.min(exampleSteps, Math.max(1, Math.floor(steps / 15)))}`;
}

export async function runClassifyBench(options: ClassifyBenchOptions): Promise<ClassifyBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'pipetrain-classify-bench-'));
  try {
    const backend = [...(options.backend ? [`spec.training.backend=${options.backend}`] : []), ...(options.stages ? [`spec.pipeline.stages=${options.stages}`] : [])];
    const body = join(root, 'moby-dick-gpt');
    const pretrained = await train('moby-dick-gpt.yaml', [
      `spec.training.steps=${options.pretrainSteps}`, `spec.checkpoint.path=${body}`, `spec.checkpoint.everySteps=${options.pretrainSteps}`,
      `spec.training.evalEverySteps=${options.pretrainSteps}`, warmup(100, options.pretrainSteps), ...backend,
      ...(options.evalSamples ? [`spec.training.evalSamples=${options.evalSamples}`] : []),
    ]);
    const texts = join(root, 'spam-assassin.jsonl');
    const messages = await writeSpamAssassinJsonl(texts, options.perClass);
    const shared = [`spec.data.dataset.path=${texts}`, `spec.training.steps=${options.steps}`, `spec.training.evalEverySteps=${options.steps}`, warmup(20, options.steps), 'spec.checkpoint=null', ...backend];
    const fineTuned = await train('spam-classify.yaml', [...shared, `spec.model.from.checkpoint.path=${body}`]);
    const scratch = await train('spam-classify-scratch.yaml', shared);
    return { options, messages, pretrained, fineTuned, scratch };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function formatClassifyBench(result: ClassifyBenchResult): string {
  const { options, messages } = result;
  const percent = (value: number | undefined) => (value === undefined ? '–' : `${(100 * value).toFixed(1)} %`);
  const row = (name: string, run: RunSummary) => `| ${name} | ${run.steps} | ${percent(run.valAccuracy)} | ${run.valLoss?.toFixed(4) ?? '–'} | ${run.durationSeconds.toFixed(1)} |`;
  return [
    `Pretraining: ${options.pretrainSteps} steps of examples/moby-dick-gpt.yaml (final validation loss ${result.pretrained.valLoss?.toFixed(4) ?? '–'}); ${messages.ham} ham and ${messages.spam} spam messages, ${options.steps} steps each, backend ${result.fineTuned.backend}.`,
    '',
    '| job | steps | validation accuracy | validation loss | seconds |',
    '|---|---|---|---|---|',
    row('spam-classify (from the pretrained body)', result.fineTuned),
    row('spam-classify-scratch (from scratch)', result.scratch),
  ].join('\n');
}
