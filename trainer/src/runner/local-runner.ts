// `pipetrain train`: runs every stage of a job as a process on this machine, connected over
// loopback, supervises them (restarting from checkpoints), and reports progress and a summary.
import { resolve } from 'node:path';
import { loadTextClassification } from '../data/text-classification-data.ts';
import { loadJobData } from '../data/load.ts';
import { describeTokenizer, readTokenDataMeta, withDataVocabulary } from '../data/token-data.ts';
import { loadSftData, withSftVocabulary, type SftData } from '../data/sft-data.ts';
import type { TokenMeta } from '../data/token-shards.ts';
import type { TokenizerSpec } from '../data/tokenizer.ts';
import type { PipelineJob } from '../api/schema.ts';
import type { StageToSupervisor } from '../stage/protocol.ts';
import { describeBackend, initBackend } from '../tf/backend.ts';
import { tiedCopyMismatches, weightsDigest, type WeightBytes } from '../train/digest.ts';
import { evaluate } from './evaluate.ts';
import { profileLayerCosts } from '../model/profile.ts';
import { planPartition } from './partition-plan.ts';
import { prepareTokenData } from './prepare-data.ts';
import type { ProgressReporter } from './progress-output.ts';
import { InterruptedError, Supervisor } from './supervisor.ts';
import { createSupervisorMetrics, type SupervisorMetrics } from './supervisor-metrics.ts';

export interface RunSummary {
  status: 'Succeeded' | 'Failed';
  steps: number;
  loss?: number;
  valAccuracy?: number;
  valLoss?: number;
  /** Language models: exp(valLoss), and throughput in tokens. */
  perplexity?: number;
  tokensPerSecond?: number;
  samplesPerSecond: number;
  weightsSha256?: string;
  /** Language models: text sampled from the final weights (see RunOptions.sampleTokens). */
  sample?: string;
  /** Pipeline restarts after failures, and the steps they made us compute again. */
  restarts: number;
  lostSteps: number;
  /** Step of the checkpoint this run resumed from (0: started fresh). */
  resumedFrom: number;
  stages: number;
  partition: number[];
  backend: string;
  durationSeconds: number;
  error?: string;
  /** True when SIGINT/SIGTERM stopped the run. */
  interrupted?: boolean;
}

export interface RunOptions {
  job: PipelineJob;
  baseDir: string;
  reporter: ProgressReporter;
  /** Show the stages' info-level log lines, not only warnings and errors. */
  verbose?: boolean;
  /** Every stage's step report (the benchmark reads the per-stage timings). */
  onStageStep?: (message: StageToSupervisor & { type: 'step' }) => void;
  /** Supervisor metrics (restarts, recovery); created when not given. */
  metrics?: SupervisorMetrics;
  /** Seconds without any message from a stage before it counts as stalled. Default 30. */
  stallTimeoutSeconds?: number;
  /** Language models: tokens sampled from the final weights for the summary (0: none). Default 0. */
  sampleTokens?: number;
}

export async function runLocal(options: RunOptions): Promise<RunSummary> {
  const { reporter } = options;
  let { job } = options;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let base = { stages: 0, partition: [] as number[], backend: job.spec.training.backend as string };
  let supervisor: Supervisor | undefined;
  try {
    const backend = await initBackend(job.spec.training.backend);
    // One line: what was picked and why each earlier choice was skipped; a warning when a native
    // backend is set up but broken (it falls back instead of failing), a note otherwise.
    if (backend.skipped.some((s) => s.broken)) reporter.warn(describeBackend(backend));
    else reporter.info(describeBackend(backend));
    await prepareTokenData(job.spec, options.baseDir, reporter);
    // A tokens dataset: meta.json settles the vocabulary (and refuses a mismatch) before anything starts.
    const tokens = job.spec.data.dataset.type === 'tokens' ? await readTokenDataMeta(job.spec, options.baseDir) : undefined;
    if (tokens) job = { ...job, spec: withDataVocabulary(job.spec, tokens.meta) };
    // Demonstrations (sft): read once here too, so a bad line fails before any stage starts, and the tokenizer settles the vocabulary.
    const sft = job.spec.data.dataset.type === 'sft' ? await loadSftData(job.spec, options.baseDir) : undefined;
    if (sft) {
      job = { ...job, spec: withSftVocabulary(job.spec, sft) };
      if (sft.skipped.count > 0) reporter.warn(skippedWarning(sft));
    }
    // Labelled texts: likewise read once, and the tokenizer settles the vocabulary.
    const texts = job.spec.data.dataset.type === 'textClassification' ? await loadTextClassification(job.spec, options.baseDir) : undefined;
    if (texts) job = { ...job, spec: texts.spec };
    const plan = planPartition(job.spec, profileLayerCosts);
    base = { stages: plan.sizes.length, partition: plan.sizes, backend: backend.choice };
    const data = tokens || sft ? undefined : (texts?.data ?? await loadJobData(job.spec, options.baseDir));
    reporter.info(`Training ${job.metadata.name}`, {
      stages: plan.sizes.length, partition: plan.sizes.join('+'), how: plan.reason, schedule: job.spec.pipeline.schedule,
      microBatches: job.spec.pipeline.microBatches, backend: backend.choice,
      ...(data ? { trainSamples: data.train.count, validationSamples: data.validation.count } : sft ? sftFields(sft) : dataFields(tokens!.meta)),
    });
    const checkpointPath = job.spec.checkpoint?.path;
    supervisor = new Supervisor({
      job, baseDir: options.baseDir, partition: plan.sizes, reporter, verbose: options.verbose, onStageStep: options.onStageStep,
      metrics: options.metrics ?? createSupervisorMetrics(job.metadata.name),
      checkpointDir: checkpointPath ? resolve(options.baseDir, checkpointPath) : undefined,
      stallTimeoutMs: (options.stallTimeoutSeconds ?? 30) * 1000,
    });
    const result = await supervisor.run();
    const mismatched = tiedCopyMismatches(result.weights);
    if (mismatched.length > 0) throw new Error(`the tied copies of ${mismatched.join(', ')} differ from the originals after training: the stages did not apply the same update`);
    const measured = data
      ? evaluationOf(evaluate(job.spec, result.weights, data.validation))
      : await languageModelResults(job, tokens?.meta.tokenizer ?? sft!.tokenizer, result.weights, result.valLoss, result.samplesPerSecond, options.sampleTokens ?? 0);
    return {
      status: 'Succeeded', ...base, steps: result.steps, loss: result.loss, ...measured,
      samplesPerSecond: result.samplesPerSecond, weightsSha256: weightsDigest(result.weights), durationSeconds: elapsed(),
      restarts: result.restarts, lostSteps: result.lostSteps, resumedFrom: result.resumedFrom,
    };
  } catch (error) {
    return {
      status: 'Failed', ...base, steps: supervisor?.stepsDone ?? 0, samplesPerSecond: 0, durationSeconds: elapsed(),
      restarts: supervisor?.restarts ?? 0, lostSteps: supervisor?.lostSteps ?? 0, resumedFrom: 0, error: (error as Error).message,
      interrupted: error instanceof InterruptedError,
    };
  }
}


function evaluationOf(evaluation: { accuracy?: number; loss?: number }): Pick<RunSummary, 'valAccuracy' | 'valLoss'> {
  return { valAccuracy: evaluation.accuracy, valLoss: evaluation.loss };
}

function dataFields(meta: TokenMeta): Record<string, unknown> {
  return { trainTokens: meta.splits.train.tokens, validationTokens: meta.splits.val.tokens, vocabulary: meta.vocabSize, tokenizer: describeTokenizer(meta) };
}

function sftFields(sft: SftData): Record<string, unknown> {
  return { trainDemonstrations: sft.train.count, validationDemonstrations: sft.validation.count, vocabulary: sft.vocabSize, tokenizer: describeTokenizer(sft) };
}

/** The counted warning for demonstrations the window cut to no completion token (skipped, not trained on). */
export function skippedWarning(sft: Pick<SftData, 'file' | 'skipped' | 'train' | 'validation'>): string {
  const { count, lines } = sft.skipped;
  const more = count > lines.length ? ', ...' : '';
  return `${sft.file}: skipped ${count} of ${count + sft.train.count + sft.validation.count} demonstrations with no completion token within the window of ${sft.train.window} tokens (lines ${lines.join(', ')}${more}); shorten their prompts or widen spec.model.inputShape[0]`;
}

/** Validation loss (from the pipeline's last evaluation), perplexity, tokens/s and a sample of text. */
async function languageModelResults(job: PipelineJob, tokenizer: TokenizerSpec, weights: WeightBytes[], valLoss: number | undefined, samplesPerSecond: number, sampleTokens: number): Promise<Partial<RunSummary>> {
  const tokensPerSecond = samplesPerSecond * job.spec.model.inputShape[0]!;
  const results: Partial<RunSummary> = { valLoss, perplexity: valLoss === undefined ? undefined : Math.exp(valLoss), tokensPerSecond };
  if (sampleTokens === 0) return results;
  const [{ generate }, { trainedModel }, { loadTokenizer }] = await Promise.all([import('../generate/generate.ts'), import('../generate/trained-model.ts'), import('../data/tokenizer.ts')]);
  const model = trainedModel(job.spec.model, job.spec.training.seed, new Map(weights.map((w) => [w.name, w.data])), job.spec.training.lora);
  try {
    const options = { maxTokens: sampleTokens, temperature: 0.8, topK: 200, seed: job.spec.training.seed };
    // Start from a newline, as nanoGPT's sample.py does, unless a char vocabulary lacks one.
    const prompt = tokenizer.type === 'char' && !tokenizer.vocab.includes('\n') ? tokenizer.vocab[0]! : '\n';
    return { ...results, sample: generate(model, await loadTokenizer(tokenizer), prompt, options).text };
  } finally {
    model.dispose();
  }
}
