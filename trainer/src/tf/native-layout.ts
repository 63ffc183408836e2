// Where the native TensorFlow backend lives: the pinned versions, the cache folder that
// `npm run setup:tensorflow` fills, and the files it links into tfjs-node's package. Shared by the
// setup (trainer/src/setup/) and the runtime probe (native-probe.ts); imports no TensorFlow.
import { join } from 'node:path';

/** cpu: the tensorflow-cpu wheel; gpu: the tensorflow wheel (CUDA 12 kernels, CUDA itself from nvidia-* wheels). */
export type NativeVariant = 'cpu' | 'gpu';
export type NativeBackendChoice = 'tensorflow' | 'tensorflow-gpu';

/** 2.15.1 passes the whole tfjs-core suite; 2.21.0 has an int32 `round` bug (shared/notes/native-tensorflow.md). */
export const TENSORFLOW_VERSION = '2.15.1';
/** The tfjs-node release whose binding sources we build (package.json pins the same version). */
export const TFJS_NODE_VERSION = '4.22.0';
export const SETUP_COMMAND = 'npm run setup:tensorflow';

/** Written next to the binding: what it was built for, so a mismatch is named instead of crashing. */
export const BINDING_STAMP = 'pipetrain-binding.json';
export const BINDING_FILE = 'tfjs_binding.node';
/** The two libraries the binding needs at run time (its NEEDED entries), from the wheel. */
export const TENSORFLOW_LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'] as const;

export interface BindingStamp {
  variant: NativeVariant;
  tensorflowVersion: string;
  tfjsNodeVersion: string;
  /** N-API version the binding was compiled for (NAPI_VERSION); any Node with at least this loads it. */
  napiVersion: number;
  nodeVersion: string;
  platform: string;
  arch: string;
  libraries: string[];
  builtAt: string;
}

export const VARIANT_OF: Record<NativeBackendChoice, NativeVariant> = { tensorflow: 'cpu', 'tensorflow-gpu': 'gpu' };

export function nativePackageOf(variant: NativeVariant): string {
  return variant === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
}

export function setupCommandFor(variant: NativeVariant): string {
  return variant === 'gpu' ? `${SETUP_COMMAND} -- --variant gpu` : SETUP_COMMAND;
}

/**
 * `${XDG_CACHE_HOME:-$HOME/.cache}/pipetrain`. Undefined when neither is set (a bare build
 * container): the caller then needs an explicit folder instead of guessing one.
 */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'pipetrain');
  return env.HOME ? join(env.HOME, '.cache', 'pipetrain') : undefined;
}

/** `<cache root>/tensorflow-2.15.1-cpu`: libraries, headers and built bindings of one variant. */
export function variantCacheDir(cacheRoot: string, variant: NativeVariant): string {
  return join(cacheRoot, `tensorflow-${TENSORFLOW_VERSION}-${variant}`);
}

/**
 * The N-API build version node-pre-gyp (tfjs-node's loader) looks for: the highest version the
 * package lists that this Node supports. It loads `lib/napi-v<that>/tfjs_binding.node`.
 */
export function napiBuildVersion(packageVersions: number[], runtimeNapi: number): number | undefined {
  const usable = packageVersions.filter((v) => Number.isInteger(v) && v <= runtimeNapi);
  return usable.length === 0 ? undefined : Math.max(...usable);
}

/** Where inside tfjs-node's package its loader expects the binding and the libraries. */
export function packagePaths(packageDir: string, napiVersion: number) {
  const bindingDir = join(packageDir, 'lib', `napi-v${napiVersion}`);
  return {
    bindingDir,
    binding: join(bindingDir, BINDING_FILE),
    stamp: join(bindingDir, BINDING_STAMP),
    // The binding's RUNPATH is $ORIGIN/../../deps/lib.
    libDir: join(packageDir, 'deps', 'lib'),
  };
}
