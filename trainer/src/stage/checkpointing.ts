// A stage's side of checkpoints: resume from the newest committed one, save every N steps.
// Copying the weights out of the backend is the only part on the training path; the disk write
// runs in the background (CheckpointWriter) and the next save waits for the previous one.
// A tied weight is stored once, with the embedding (layer 0); the stage holding the lmHead's copy
// reads it, and its optimizer slots, from layer 0's file when it resumes.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointMismatchError, CheckpointWriter, discardStaleParts, latestRecordedSource, loadLatestCommitted, type LayerState, type Log, type StageSnapshot, type WriteResult } from '../checkpoint/index.ts';
import { MODEL_SOURCE_KINDS } from '../api/model-source-schema.ts';
import type { PipelineJob } from '../api/schema.ts';
import type { ModelDescription } from '../checkpoint/model-description.ts';
import type { TokenizerSpec } from '../data/tokenizer.ts';
import type { SftData } from '../data/sft-data.ts';
import type { TokenMeta } from '../data/token-shards.ts';
import type { StageSession } from '../train/stage-session.ts';
import type { WeightSourceIdentity } from '../import/weight-source.ts';

export interface StageCheckpointing {
  /** Loads the newest committed checkpoint into the session; returns the steps it had completed (0: none). */
  resume(): Promise<number>;
  /** Call after step `completedSteps` is done; starts a save when one is due. */
  afterStep(completedSteps: number): void;
  /** Saves the final state (if not saved yet) and waits for every write. */
  finish(completedSteps: number): Promise<void>;
}

export interface CheckpointingOptions {
  dir: string;
  job: PipelineJob;
  stage: number;
  partition: number[];
  session: StageSession;
  backend: string;
  log: Log;
  /** Stage 0 stores it in its manifest: what `pipetrain generate` rebuilds. */
  model?: ModelDescription;
  /** A tokens dataset's tokenizer and shard hashes (sft: its file's hash): part of the run's identity (runSpecHash). */
  tokenData?: TokenDataIdentity;
  /** spec.model.from's kind and checksum: a run started from other weights is another run (runSpecHash). */
  source?: WeightSourceIdentity;
  onWritten?(result: WriteResult): void;
}

/** What a tokens dataset adds to a run's identity: its tokenizer and the content of its shards. */
export interface TokenDataIdentity {
  tokenizer: TokenizerSpec;
  /** SHA-256 of every shard, train then val (meta.json). */
  shards: string[];
}

/** The identity of an sft dataset: its tokenizer and the SHA-256 of its demonstrations file. */
export function sftDataIdentity(data: Pick<SftData, 'tokenizer' | 'sha256'>): TokenDataIdentity {
  return { tokenizer: data.tokenizer, shards: [data.sha256] };
}

/** The identity of a tokens dataset as its meta.json records it. */
export function tokenDataIdentity(meta: TokenMeta): TokenDataIdentity {
  return { tokenizer: meta.tokenizer, shards: [...meta.splits.train.shards, ...meta.splits.val.shards].map((shard) => shard.sha256) };
}

/**
 * Identifies the run a checkpoint belongs to: what the operator's update rules call immutable
 * (model, data, training, micro-batches; api/crd-rules.ts), less what does not change a weight
 * (the backend, which only warns; the log and evaluation cadence; how a tokens folder is prepared,
 * since its content counts instead). It used to cover only the model, seed and optimizer kind, so a
 * job with other data or another learning rate resumed from a checkpoint of another job and ended
 * with weights no uninterrupted run gives (the checkpoint fuzzer's swap between jobs). A tokens
 * folder keeps its path when it is prepared again from other text: its shards' hashes tell those
 * runs apart. Jobs without token data hash as before. spec.model.from's path is part of the model;
 * the source's checksum (a commit record's, a model.json's and its weight files') is added, since
 * a folder keeps its path when its content changes.
 */
export function runSpecHash(job: PipelineJob, tokenData?: TokenDataIdentity, source?: WeightSourceIdentity): string {
  const { model, data, training, pipeline } = job.spec;
  const { backend: _backend, logEverySteps: _logEverySteps, evalEverySteps: _evalEverySteps, evalSamples: _evalSamples, ...trajectory } = training;
  const dataset = data.dataset.type === 'tokens' ? { ...data.dataset, prepare: undefined } : data.dataset;
  const run = { model, data: { ...data, dataset }, training: trajectory, microBatches: pipeline.microBatches, ...(tokenData ? { tokenData } : {}), ...(source ? { source } : {}) };
  return createHash('sha256').update(JSON.stringify(run)).digest('hex');
}

/**
 * The weight source the job's newest committed checkpoint says the run started from (its manifest,
 * StageSnapshot.source): a resume uses it for the run's identity instead of opening the source.
 * undefined when there is none (no checkpoint yet, or one written before sources were recorded).
 */
export async function recordedSourceIdentity(dir: string): Promise<WeightSourceIdentity | undefined> {
  const recorded = await latestRecordedSource(dir);
  const kind = MODEL_SOURCE_KINDS.find((k) => k === recorded?.kind);
  return recorded && kind ? { kind, checksum: recorded.checksum } : undefined;
}

export function createStageCheckpointing(options: CheckpointingOptions): StageCheckpointing {
  const { dir, job, session, log } = options;
  const everySteps = job.spec.checkpoint?.everySteps ?? Number.POSITIVE_INFINITY;
  const writer = new CheckpointWriter(dir, { log, autoCommit: true, keep: job.spec.checkpoint?.keep });
  const specHash = runSpecHash(job, options.tokenData, options.source);
  let lastSaved = 0;
  // Writes run in order (the writer queues them), so waiting for the last one waits for all.
  let lastWrite: Promise<void> = Promise.resolve();

  const save = (completedSteps: number) => {
    lastSaved = completedSteps;
    lastWrite = writer.save(snapshot(options, completedSteps, specHash)).then((result) => options.onWritten?.(result));
  };

  return {
    async resume() {
      const own = session.runtime.model.layers.map((layer) => layer.index);
      // The lmHead's stage also reads layer 0: the tied matrix is stored there, once.
      const layers = session.runtime.model.weights.some((w) => w.tiedCopy) && !own.includes(0) ? [...own, 0] : own;
      const loaded = await loadLatestCommitted(dir, { layers, specHash, log });
      const stale = await discardStaleParts(dir, loaded?.step ?? 0, options.stage, options.partition.length);
      if (stale.length > 0) log('info', 'Removed this stage\'s parts of uncommitted checkpoints; they are written again', { steps: stale });
      if (!loaded) return 0;
      if (loaded.backend !== options.backend) {
        log('warn', 'Resumed from a checkpoint written on another backend: results will not be bit-identical', { checkpointBackend: loaded.backend, backend: options.backend });
      }
      checkDataPosition(session, loaded.step, loaded.data, dir);
      restore(session, loaded.layers, loaded.optimizer.scalars);
      lastSaved = loaded.step;
      log('info', 'Resumed from checkpoint', { step: loaded.step, dir, writtenByStages: loaded.partition.length });
      return loaded.step;
    },
    afterStep(completedSteps) {
      if (completedSteps % everySteps === 0) save(completedSteps);
    },
    async finish(completedSteps) {
      if (completedSteps > lastSaved) save(completedSteps);
      await lastWrite;
      await writer.flush();
    },
  };
}

function snapshot(options: CheckpointingOptions, completedSteps: number, specHash: string): StageSnapshot {
  const { session, job } = options;
  const { slots, scalars } = session.runtime.optimizer.state();
  const copy = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
  const layers: LayerState[] = session.runtime.model.layers.map((layer) => {
    const stored = layer.weights.filter((w) => !w.tiedCopy);
    return {
      layerIndex: layer.index,
      weights: stored.map((w) => ({ name: w.name, shape: [...w.variable.shape], data: copy(w.variable) })),
      slots: [...slots.entries()]
        .filter(([name]) => stored.some((w) => name.startsWith(`${w.name}/`)))
        .map(([name, t]) => ({ name, shape: [...t.shape], data: copy(t) })),
    };
  });
  return {
    jobName: job.metadata.name, step: completedSteps, stage: options.stage, stages: options.partition.length, partition: options.partition,
    layers, optimizer: { type: job.spec.training.optimizer.type, scalars: { ...scalars } }, data: session.plan.position(completedSteps),
    backend: options.backend, seed: job.spec.training.seed, specHash, ...(options.stage === 0 && options.model ? { model: options.model } : {}),
    // Every stage's manifest records it (they must agree): a resume reads it from any.
    ...(options.source ? { source: options.source } : {}),
  };
}

/**
 * The data position saved with a checkpoint must be where this job's data puts that step: otherwise
 * the data changed since (another number of windows per epoch) and the run would go on with other
 * windows than an uninterrupted one.
 */
function checkDataPosition(session: StageSession, step: number, saved: { epoch: number; offset: number }, dir: string): void {
  const here = session.plan.position(step);
  if (here.epoch === saved.epoch && here.offset === saved.offset) return;
  throw new CheckpointMismatchError(
    `spec.data: checkpoint step ${step} in ${dir} was written at data position epoch ${saved.epoch}, step ${saved.offset} of the epoch, ` +
      `but with this job's data step ${step} is epoch ${here.epoch}, step ${here.offset}: the training data changed since; restore it, or train with --fresh`,
  );
}

function restore(session: StageSession, layers: Map<number, LayerState>, scalars: Record<string, number>): void {
  const slotValues = new Map<string, Float32Array>();
  for (const state of layers.values()) for (const slot of state.slots) slotValues.set(slot.name, slot.data);
  for (const layer of session.runtime.model.layers) {
    for (const w of layer.weights) {
      // A tied copy is restored from the embedding's record (layer 0), which has its name.
      const state = layers.get(w.tiedCopy ? 0 : layer.index);
      if (!state) throw new Error(`checkpoint has no state for layer ${w.tiedCopy ? 0 : layer.index}`);
      const record = state.weights.find((r) => r.name === w.name);
      if (!record || record.data.length !== w.variable.size) throw new Error(`checkpoint weight ${w.name} is missing or has the wrong size`);
      tf.tidy(() => w.variable.assign(tf.tensor(record.data, w.variable.shape)));
    }
  }
  session.runtime.optimizer.restore(slotValues, scalars);
}
