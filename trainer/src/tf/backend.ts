// Chooses and initialises the TensorFlow.js backend for a job.
// The native backends (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) are optional dependencies:
// they download libtensorflow at install time, which fails on machines without that download, so
// they are loaded in try/catch and `auto` falls back to wasm, then to the pure-JS cpu backend.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Gradients are registered separately from the ops; the @tensorflow/tfjs bundle registers all of
// them (tfjs-core's own ESM entry for that cannot load in Node: it uses directory imports).
import '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installSegmentSumKernel } from './segment-sum-kernel.ts';
import { installWasmMatMulFix } from './wasm-matmul-fix.ts';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** The tfjs backend names our choices map to. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
const AUTO_ORDER: BackendChoice[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const NATIVE_PACKAGE: Partial<Record<BackendChoice, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

export class BackendUnavailableError extends Error {}

export interface InitialisedBackend {
  choice: Exclude<BackendChoice, 'auto'>;
  name: BackendName;
}

/** Initialises the requested backend; `auto` takes the first that works, in AUTO_ORDER. */
export async function initBackend(choice: BackendChoice): Promise<InitialisedBackend> {
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      return { choice: candidate as InitialisedBackend['choice'], name: await tryBackend(candidate) };
    } catch (error) {
      failures.push(`${candidate}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new BackendUnavailableError(
    `spec.training.backend: no usable backend for '${choice}' (${failures.join('; ')}). ` +
      `Use 'auto', 'wasm' or 'cpu' on machines without libtensorflow.`,
  );
}

async function tryBackend(choice: BackendChoice): Promise<BackendName> {
  const nativePackage = NATIVE_PACKAGE[choice];
  if (nativePackage) {
    // Importing the package registers the 'tensorflow' backend with tfjs-core.
    require(nativePackage);
    await activate('tensorflow');
    return 'tensorflow';
  }
  if (choice === 'wasm') {
    const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
    setWasmPaths(wasmDist);
    await activate('wasm');
    installWasmMatMulFix();
    installSegmentSumKernel('wasm');
    return 'wasm';
  }
  await activate('cpu');
  installSegmentSumKernel('cpu');
  return 'cpu';
}

async function activate(name: BackendName): Promise<void> {
  // PROD silences tfjs's console banner ("install the node backend") and its debug checks.
  tf.env().set('PROD', true);
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendUnavailableError(`backend '${name}' failed to initialise`);
  await tf.ready();
}
