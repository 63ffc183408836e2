// Checkpoint writes: throughput against a plain sequential write of the same bytes to the same
// disk, and the training step time while a checkpoint is being written, both in one run.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointWriter, type StageSnapshot } from '../../trainer/src/checkpoint/index.ts';
import { loadJobData } from '../../trainer/src/data/load.ts';
import { modelLayerCount } from '../../trainer/src/model/expand.ts';
import type { PipelineJobSpec } from '../../trainer/src/api/schema.ts';
import { initBackend } from '../../trainer/src/tf/backend.ts';
import { runStep } from '../../trainer/src/train/executor.ts';
import { createStageSession } from '../../trainer/src/train/stage-session.ts';

const MiB = 1024 * 1024;

export interface CheckpointBenchResult {
  bytes: number;
  checkpointBytesPerSecond: number;
  plainBytesPerSecond: number;
  throughputRatio: number;
  stepSecondsWithout: number;
  stepSecondsDuringWrite: number;
  stepTimeRatio: number;
}

/** A one-stage snapshot of `layers` layers, `bytesPerLayer` of float32 each. */
function bigSnapshot(layers: number, bytesPerLayer: number, step: number): StageSnapshot {
  const values = bytesPerLayer / 4;
  return {
    jobName: 'bench', step, stage: 0, stages: 1, partition: [layers],
    layers: Array.from({ length: layers }, (_, i) => ({
      layerIndex: i, weights: [{ name: `layer${i}/kernel`, shape: [values], data: Float32Array.from({ length: values }, (_, j) => Math.sin(i + j)) }], slots: [],
    })),
    optimizer: { type: 'sgd', scalars: {} }, data: { epoch: 0, offset: step }, backend: 'bench', seed: 1, specHash: 'b'.repeat(64),
  };
}

async function plainWrite(dir: string, bytes: number): Promise<number> {
  const chunk = new Uint8Array(4 * MiB).fill(7);
  const t0 = performance.now();
  const file = await open(join(dir, 'plain.bin'), 'w');
  for (let written = 0; written < bytes; written += chunk.length) await file.write(chunk);
  await file.sync();
  await file.close();
  return (performance.now() - t0) / 1000;
}

async function median(times: number[]): Promise<number> {
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

export async function runCheckpointBench(spec: PipelineJobSpec, options = { layers: 8, bytesPerLayer: 8 * MiB, repetitions: 3 }): Promise<CheckpointBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-ckpt-bench-'));
  const bytes = options.layers * options.bytesPerLayer;
  try {
    const checkpointTimes: number[] = [];
    const plainTimes: number[] = [];
    for (let rep = 0; rep < options.repetitions; rep++) {
      const writer = new CheckpointWriter(join(dir, `ckpt-${rep}`));
      const result = await writer.save(bigSnapshot(options.layers, options.bytesPerLayer, rep + 1));
      if (!result.ok) throw new Error(result.error);
      checkpointTimes.push(result.info.seconds);
      plainTimes.push(await plainWrite(dir, bytes));
    }
    const { without, during } = await stepTimes(spec, dir, options);
    const checkpointBytesPerSecond = bytes / (await median(checkpointTimes));
    const plainBytesPerSecond = bytes / (await median(plainTimes));
    return {
      bytes, checkpointBytesPerSecond, plainBytesPerSecond, throughputRatio: checkpointBytesPerSecond / plainBytesPerSecond,
      stepSecondsWithout: without, stepSecondsDuringWrite: during, stepTimeRatio: during / without,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Median step time of a one-stage session, alone and while a big checkpoint is being written. */
async function stepTimes(spec: PipelineJobSpec, dir: string, options: { layers: number; bytesPerLayer: number }) {
  await initBackend(spec.training.backend);
  const data = await loadJobData(spec);
  const partition = [modelLayerCount(spec.model.layers)];
  const session = createStageSession({ spec, stage: 0, partition, data });
  const step = async (n: number) => (await runStep(session.runtime, n, 0.001)).wallSeconds;
  for (let n = 0; n < 3; n++) await step(n); // warm-up
  // Alternate: a few steps alone, then steps while a write runs, so drift hits both sides alike.
  const without: number[] = [];
  const during: number[] = [];
  const writer = new CheckpointWriter(join(dir, 'during'));
  for (let rep = 0; rep < 3; rep++) {
    for (let n = 0; n < 5; n++) without.push(await step(n));
    const write = writer.save(bigSnapshot(options.layers, options.bytesPerLayer, rep + 1));
    let done = false;
    void write.then(() => (done = true));
    for (let n = 0; !done && n < 200; n++) during.push(await step(n));
    await write;
  }
  session.dispose();
  return { without: await median(without), during: await median(during) };
}

export function formatCheckpointBench(r: CheckpointBenchResult): string {
  const mib = (x: number) => `${(x / MiB).toFixed(0)} MiB/s`;
  return [
    `Checkpoint write of ${(r.bytes / MiB).toFixed(0)} MiB (median of 3) vs a plain sequential write + fsync of the same bytes`,
    '| | checkpoint | plain write | ratio |',
    '|---|---|---|---|',
    `| throughput | ${mib(r.checkpointBytesPerSecond)} | ${mib(r.plainBytesPerSecond)} | ${r.throughputRatio.toFixed(2)} |`,
    `| training step (median) | ${(r.stepSecondsDuringWrite * 1000).toFixed(1)} ms during a write | ${(r.stepSecondsWithout * 1000).toFixed(1)} ms without | ${r.stepTimeRatio.toFixed(2)} |`,
  ].join('\n');
}
