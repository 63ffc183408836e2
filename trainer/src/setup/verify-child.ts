// Run by the setup in a fresh process: loads the native package the way the trainer does and runs
// one matrix product, then prints what it found as one JSON line.
import { createRequire } from 'node:module';
import { installTfjsNodeCompat } from '../tf/tfjs-node-compat.ts';

/** The part of tfjs-node's NodeJSKernelBackend we read. */
interface NodeBackend { binding: { TF_Version: string } }

const packageDir = process.argv[2]!;
const started = performance.now();
installTfjsNodeCompat();
try {
  const tf = createRequire(`${packageDir}/package.json`)(packageDir) as typeof import('@tensorflow/tfjs-core');
  const loadMs = performance.now() - started;
  const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();
  const ok = [19, 22, 43, 50].every((value, i) => product[i] === value);
  console.log(JSON.stringify({ ok, backend: tf.getBackend(), tensorflowVersion: (tf.backend() as unknown as NodeBackend).binding.TF_Version, loadMs }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: (error as Error).message }));
}
