// UnsortedSegmentSum, the gradient of a gather (and so of an embedding), for the cpu and wasm
// backends. wasm has no such kernel (tfjs #8082), so an embedding could not train there; the cpu
// kernel builds an equal/multiply/sum per segment, O(vocabulary × tokens × width), which for
// GPT-2's 50,257 tokens takes minutes per step. This one adds each row into its segment in order:
// O(tokens × width), float32 sums, deterministic.
import * as tf from '@tensorflow/tfjs-core';

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface DataBackend {
  readSync(dataId: object): unknown;
  write(values: Float32Array, shape: number[], dtype: tf.DataType): object;
}

const replaced = new Map<string, tf.KernelConfig | undefined>();

/** Registers the kernel for `backendName` (cpu or wasm), replacing a stock one. */
export function installSegmentSumKernel(backendName: 'cpu' | 'wasm'): void {
  if (replaced.has(backendName)) return;
  const stock = tf.getKernel(tf.UnsortedSegmentSum, backendName);
  if (stock) tf.unregisterKernel(tf.UnsortedSegmentSum, backendName);
  tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc: segmentSum });
  replaced.set(backendName, stock);
}

/** Puts the stock kernels back (for the test that compares with cpu's own). */
export function uninstallSegmentSumKernel(): void {
  for (const [backendName, stock] of replaced) {
    tf.unregisterKernel(tf.UnsortedSegmentSum, backendName);
    if (stock) tf.registerKernel(stock);
  }
  replaced.clear();
}

function segmentSum(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const backend = args.backend as unknown as DataBackend;
  const values = toFloat32(backend.readSync(x.dataId));
  const ids = backend.readSync(segmentIds.dataId) as ArrayLike<number>;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rowSize = rows === 0 ? 0 : values.length / rows;
  const out = new Float32Array(numSegments * rowSize);
  for (let row = 0; row < rows; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue; // TensorFlow drops out-of-range ids
    const target = segment * rowSize;
    const source = row * rowSize;
    for (let j = 0; j < rowSize; j++) out[target + j] = out[target + j]! + values[source + j]!;
  }
  const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  return { dataId: backend.write(out, shape, 'float32'), shape, dtype: 'float32' };
}

function toFloat32(values: unknown): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}
