// Chooses and initialises the TensorFlow.js backend for a job.
// The native backends (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) are optional: their own
// install script downloads libtensorflow, which fails on machines without that download, and
// `npm run setup:tensorflow` builds them from PyPI's TensorFlow instead. Whether one is usable is
// decided from files first (native-probe.ts), then by loading it; `auto` takes the first that
// works in AUTO_ORDER and records why each earlier one was skipped, as one line, never a stack.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Gradients are registered separately from the ops; the @tensorflow/tfjs bundle registers all of
// them (tfjs-core's own ESM entry for that cannot load in Node: it uses directory imports).
import '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { describeLoadError } from './load-error.ts';
import type { NativeBackendChoice } from './native-layout.ts';
import { probeNative, type NativeProblem, type NativeReady, type ProbeOptions } from './native-probe.ts';
import { pinTensorflowEnv } from './thread-env.ts';
import { installTfjsNodeCompat } from './tfjs-node-compat.ts';
import { installSegmentSumKernel } from './segment-sum-kernel.ts';
import { installWasmMatMulFix } from './wasm-matmul-fix.ts';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** The tfjs backend names our choices map to. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
const AUTO_ORDER: Array<Exclude<BackendChoice, 'auto'>> = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export class BackendUnavailableError extends Error {}

export interface SkippedBackend {
  choice: Exclude<BackendChoice, 'auto'>;
  reason: string;
  /** Set up but broken (a library missing, a wrong ABI, a failed load): worth a warning, not just a note. */
  broken: boolean;
}

export interface InitialisedBackend {
  choice: Exclude<BackendChoice, 'auto'>;
  name: BackendName;
  /** Backends `auto` tried before this one, in order, with the reason each was skipped. */
  skipped: SkippedBackend[];
}

export interface InitOptions {
  /** Replaces the file checks (tests). */
  probe?: (choice: NativeBackendChoice, options: ProbeOptions) => NativeReady | NativeProblem;
}

/** Initialises the requested backend; `auto` takes the first that works, in AUTO_ORDER. */
export async function initBackend(choice: BackendChoice, options: InitOptions = {}): Promise<InitialisedBackend> {
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const skipped: SkippedBackend[] = [];
  for (const candidate of candidates) {
    const outcome = await tryBackend(candidate, choice === 'auto', options);
    if ('name' in outcome) return { choice: candidate, name: outcome.name, skipped };
    skipped.push(outcome);
  }
  throw new BackendUnavailableError(`spec.training.backend: ${skipped.map((s) => `${s.choice} unavailable: ${s.reason}`).join('; ')}`);
}

/** "Backend: wasm (tensorflow-gpu skipped: …; tensorflow skipped: …)": one line for the logs. */
export function describeBackend(backend: InitialisedBackend): string {
  const skipped = backend.skipped.map((s) => `${s.choice} skipped: ${s.reason}`).join('; ');
  return `Backend: ${backend.choice}${skipped ? ` (${skipped})` : ''}`;
}

async function tryBackend(choice: Exclude<BackendChoice, 'auto'>, auto: boolean, options: InitOptions): Promise<{ name: BackendName } | SkippedBackend> {
  if (choice === 'tensorflow' || choice === 'tensorflow-gpu') return tryNative(choice, auto, options);
  try {
    if (choice === 'wasm') {
      setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
      await activate('wasm');
      installWasmMatMulFix();
      installSegmentSumKernel('wasm');
      return { name: 'wasm' };
    }
    await activate('cpu');
    installSegmentSumKernel('cpu');
    return { name: 'cpu' };
  } catch (error) {
    return { choice, reason: firstLine(error), broken: true };
  }
}

async function tryNative(choice: NativeBackendChoice, auto: boolean, options: InitOptions): Promise<{ name: BackendName } | SkippedBackend> {
  // Without a GPU, tfjs-node-gpu would silently run on the CPU: auto skips it then.
  const status = (options.probe ?? probeNative)(choice, { requireGpuDevice: auto });
  if (!status.ok) return skip(status, status.kind === 'library-missing' || status.kind === 'wrong-abi');
  // Before the first TensorFlow op: the thread pools read these once.
  pinTensorflowEnv();
  installTfjsNodeCompat();
  try {
    // Loading the package registers the 'tensorflow' backend with tfjs-core.
    require(status.packageDir);
  } catch (error) {
    return skip(describeLoadError(choice, error), true);
  }
  try {
    await activate('tensorflow');
    return { name: 'tensorflow' };
  } catch (error) {
    return { choice, reason: firstLine(error), broken: true };
  }
}

function skip(problem: NativeProblem, broken: boolean): SkippedBackend {
  // Having no GPU is not something to fix when auto looks for one.
  return { choice: problem.choice, reason: problem.kind === 'no-gpu' ? problem.reason : `${problem.reason}; ${problem.fix}`, broken };
}

async function activate(name: BackendName): Promise<void> {
  // PROD silences tfjs's console banner ("install the node backend") and its debug checks.
  tf.env().set('PROD', true);
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendUnavailableError(`backend '${name}' failed to initialise`);
  await tf.ready();
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
