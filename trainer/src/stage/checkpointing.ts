// A stage's side of checkpoints: resume from the newest committed one, save every N steps.
// Copying the weights out of the backend is the only part on the training path; the disk write
// runs in the background (CheckpointWriter) and the next save waits for the previous one.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointWriter, loadLatestCommitted, type LayerState, type Log, type StageSnapshot, type WriteResult } from '../checkpoint/index.ts';
import type { PipelineJob } from '../api/schema.ts';
import type { StageSession } from '../train/stage-session.ts';

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
  onWritten?(result: WriteResult): void;
}

/** Identifies the model a checkpoint belongs to: layers, input, loss, seed and optimizer kind. */
export function modelSpecHash(job: PipelineJob): string {
  const { model, training } = job.spec;
  return createHash('sha256').update(JSON.stringify({ model, seed: training.seed, optimizer: training.optimizer.type })).digest('hex');
}

export function createStageCheckpointing(options: CheckpointingOptions): StageCheckpointing {
  const { dir, job, session, log } = options;
  const everySteps = job.spec.checkpoint?.everySteps ?? Number.POSITIVE_INFINITY;
  const writer = new CheckpointWriter(dir, { log, autoCommit: true, keep: job.spec.checkpoint?.keep });
  const specHash = modelSpecHash(job);
  let lastSaved = 0;
  // Writes run in order (the writer queues them), so waiting for the last one waits for all.
  let lastWrite: Promise<void> = Promise.resolve();

  const save = (completedSteps: number) => {
    lastSaved = completedSteps;
    lastWrite = writer.save(snapshot(options, completedSteps, specHash)).then((result) => options.onWritten?.(result));
  };

  return {
    async resume() {
      const layers = session.runtime.model.layers.map((layer) => layer.index);
      const loaded = await loadLatestCommitted(dir, { layers, specHash, log });
      if (!loaded) return 0;
      if (loaded.backend !== options.backend) {
        log('warn', 'Resumed from a checkpoint written on another backend: results will not be bit-identical', { checkpointBackend: loaded.backend, backend: options.backend });
      }
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
  const layers: LayerState[] = session.runtime.model.layers.map((layer) => ({
    layerIndex: layer.index,
    weights: layer.weights.map((w) => ({ name: w.name, shape: [...w.variable.shape], data: copy(w.variable) })),
    slots: [...slots.entries()]
      .filter(([name]) => layer.weights.some((w) => name.startsWith(`${w.name}/`)))
      .map(([name, t]) => ({ name, shape: [...t.shape], data: copy(t) })),
  }));
  return {
    jobName: job.metadata.name, step: completedSteps, stage: options.stage, stages: options.partition.length, partition: options.partition,
    layers, optimizer: { type: job.spec.training.optimizer.type, scalars: { ...scalars } }, data: session.plan.position(completedSteps),
    backend: options.backend, seed: job.spec.training.seed, specHash,
  };
}

function restore(session: StageSession, layers: Map<number, LayerState>, scalars: Record<string, number>): void {
  const slotValues = new Map<string, Float32Array>();
  for (const layer of session.runtime.model.layers) {
    const state = layers.get(layer.index);
    if (!state) throw new Error(`checkpoint has no state for layer ${layer.index}`);
    for (const w of layer.weights) {
      const record = state.weights.find((r) => r.name === w.name);
      if (!record || record.data.length !== w.variable.size) throw new Error(`checkpoint weight ${w.name} is missing or has the wrong size`);
      tf.tidy(() => w.variable.assign(tf.tensor(record.data, w.variable.shape)));
    }
    for (const slot of state.slots) slotValues.set(slot.name, slot.data);
  }
  session.runtime.optimizer.restore(slotValues, scalars);
}
