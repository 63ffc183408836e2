// Up-front checks of a snapshot's structure (never of its tensor data, which would cost time
// proportional to the model). Each failure is a TypeError with one exact sentence.
import { stageLayers } from './layout.ts';
import type { StageSnapshot } from './types.ts';

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export function checkSnapshot(s: StageSnapshot): void {
  const fail = (message: string): never => {
    throw new TypeError(message);
  };
  if (typeof s.jobName !== 'string') fail('jobName must be a string.');
  if (!isCount(s.step) || s.step < 1) fail(`step must be an integer >= 1; got ${String(s.step)}.`);
  if (!isCount(s.stages) || s.stages < 1) fail(`stages must be an integer >= 1; got ${String(s.stages)}.`);
  if (!isCount(s.stage) || s.stage >= s.stages) fail(`stage must be an integer from 0 to ${s.stages - 1}; got ${String(s.stage)}.`);
  if (!Array.isArray(s.partition) || s.partition.length !== s.stages || !s.partition.every(isCount)) {
    fail(`partition must list ${s.stages} layer counts; got ${JSON.stringify(s.partition)}.`);
  }
  const expected = stageLayers(s.partition, s.stage);
  const got = s.layers.map((l) => l.layerIndex);
  if (got.join() !== expected.join()) fail(`stage ${s.stage} of partition [${s.partition.join(', ')}] holds layers [${expected.join(', ')}]; got [${got.join(', ')}].`);
  for (const layer of s.layers) {
    const names = [...layer.weights, ...layer.slots].map((t) => t.name);
    if (names.some((n) => typeof n !== 'string' || n === '')) fail(`layer ${layer.layerIndex}: every tensor needs a non-empty name.`);
    if (new Set(names).size !== names.length) fail(`layer ${layer.layerIndex}: tensor names must be unique; got ${names.join(', ')}.`);
    if ([...layer.weights, ...layer.slots].some((t) => !(t.data instanceof Float32Array))) fail(`layer ${layer.layerIndex}: tensor data must be Float32Arrays.`);
  }
  if (typeof s.optimizer?.type !== 'string') fail('optimizer.type must be a string.');
  for (const [key, value] of Object.entries(s.optimizer.scalars)) {
    // JSON cannot hold NaN or Infinity; a finite double round-trips through JSON exactly.
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`optimizer.scalars.${key} must be a finite number; got ${String(value)}.`);
  }
  if (!isCount(s.data?.epoch) || !isCount(s.data.offset)) fail(`data must be { epoch, offset } with integers >= 0; got ${JSON.stringify(s.data)}.`);
  if (typeof s.backend !== 'string') fail('backend must be a string.');
  if (!Number.isFinite(s.seed)) fail(`seed must be a finite number; got ${String(s.seed)}.`);
  if (typeof s.specHash !== 'string') fail('specHash must be a string.');
}
