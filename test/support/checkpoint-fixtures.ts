// Test fixtures for the checkpoint tests (not used by the store itself): deterministic snapshots
// of a small model, temporary folders removed after each test, and whole-checkpoint writing.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { tryCommit } from '../../trainer/src/checkpoint/commit.ts';
import { stageLayers } from '../../trainer/src/checkpoint/layout.ts';
import type { LayerState, StageSnapshot } from '../../trainer/src/checkpoint/types.ts';
import { CheckpointWriter } from '../../trainer/src/checkpoint/writer.ts';

export const SPEC_HASH = 'a'.repeat(64);

/** A temporary folder under os.tmpdir(), removed when the test ends. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pipetrain-ckpt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Float32 values from a seeded generator (mulberry32), with special values mixed in. */
export function values(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    out[i] = (((x ^ (x >>> 14)) >>> 0) / 2 ** 32 - 0.5) * 2 ** ((i % 11) - 5);
  }
  const specials = [-0, 1.401298464324817e-45, 3.4028234663852886e38, -Infinity, NaN];
  specials.forEach((v, i) => { if (i < length) out[length - 1 - i] = v; });
  return out;
}

/** Layer `index` of a 5-layer model: a [4+index, 3] kernel and a bias, with Adam slots; values depend on `step`. */
export function layerState(index: number, step: number): LayerState {
  const seed = step * 1000 + index * 10;
  const kernel = { name: `layer${index}_dense/kernel`, shape: [4 + index, 3], data: values((4 + index) * 3, seed) };
  const bias = { name: `layer${index}_dense/bias`, shape: [3], data: values(3, seed + 1) };
  const slots = [kernel, bias].flatMap((w, k) => [
    { name: `${w.name}/m`, shape: w.shape, data: values(w.data.length, seed + 2 + 2 * k) },
    { name: `${w.name}/v`, shape: w.shape, data: values(w.data.length, seed + 3 + 2 * k) },
  ]);
  return { layerIndex: index, weights: [kernel, bias], slots };
}

export function snapshot(step: number, stage: number, partition: number[], overrides: Partial<StageSnapshot> = {}): StageSnapshot {
  return {
    jobName: 'tiny',
    step,
    stage,
    stages: partition.length,
    partition,
    layers: stageLayers(partition, stage).map((i) => layerState(i, step)),
    optimizer: { type: 'adam', scalars: { beta1Power: 0.9 ** step, beta2Power: 0.999 ** step } },
    data: { epoch: Math.floor(step / 10), offset: step % 10 },
    backend: 'cpu',
    seed: 42,
    specHash: SPEC_HASH,
    ...overrides,
  };
}

/** Writes every stage's part of `step` (one writer per stage, as separate processes would) and commits it. */
export async function writeCheckpoint(dir: string, step: number, partition: number[], options: { commit?: boolean } = {}): Promise<void> {
  const results = await Promise.all(partition.map((_, stage) => new CheckpointWriter(dir).save(snapshot(step, stage, partition))));
  for (const result of results) if (!result.ok) throw new Error(result.error);
  if (options.commit !== false && !(await tryCommit(dir, step, partition.length))) throw new Error(`step ${step} did not commit`);
}

/** Bit patterns of a Float32Array, so NaN and -0 compare exactly. */
export function bits(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}
