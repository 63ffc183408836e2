// Speeds up training on the wasm backend.
// The wasm BatchMatMul kernel of tfjs 4.22 is very slow when a transpose flag is set, and every
// gradient of a matrix product sets one (a·bᵀ 14.6 ms, aᵀ·d 31.3 ms vs 1.1 ms plain, 64×512 operands;
// see shared/notes/tfjs.md §3). This wrapper materialises the transposed operand with the wasm
// Transpose kernel, calls the stock kernel with both flags false and frees the temporary. The
// arithmetic per output element is the same dot product, so results are unchanged.
import * as tf from '@tensorflow/tfjs-core';

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface MatMulAttrs { transposeA: boolean; transposeB: boolean }
interface WasmBackendLike { disposeData(dataId: object): void }

let stockKernel: tf.KernelConfig | undefined;

export function installWasmMatMulFix(): void {
  if (stockKernel) return;
  const stock = tf.getKernel(tf.BatchMatMul, 'wasm');
  const transpose = tf.getKernel(tf.Transpose, 'wasm');
  if (!stock || !transpose) return;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: (args) => fastMatMul(args, stock.kernelFunc, transpose.kernelFunc) });
  stockKernel = stock;
}

/** Puts the stock kernel back (the benchmark measures both). */
export function uninstallWasmMatMulFix(): void {
  if (!stockKernel) return;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(stockKernel);
  stockKernel = undefined;
}

function fastMatMul(args: KernelArgs, stock: tf.KernelFunc, transposeKernel: tf.KernelFunc): tf.TensorInfo {
  const attrs = args.attrs as unknown as MatMulAttrs;
  if (!attrs.transposeA && !attrs.transposeB) return stock(args) as tf.TensorInfo;
  const backend = args.backend as unknown as WasmBackendLike;
  const temporaries: tf.TensorInfo[] = [];
  const materialise = (x: tf.TensorInfo, flag: boolean): tf.TensorInfo => {
    if (!flag) return x;
    const rank = x.shape.length;
    const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
    const transposed = transposeKernel({ inputs: { x }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
    temporaries.push(transposed);
    return transposed;
  };
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  try {
    return stock({
      inputs: { a: materialise(a, attrs.transposeA), b: materialise(b, attrs.transposeB) },
      backend: args.backend,
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}
