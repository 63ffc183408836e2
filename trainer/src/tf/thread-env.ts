// TensorFlow's thread pools and oneDNN setting, pinned in every process that trains: the stage
// processes, stage pods and the single-process reference. A CNN's bits depend on the intra-op
// thread count (1, 2 and 16 threads give three different results; the oneDNN switch changes them
// too), so a pipeline only equals its reference when both use the same values. They are fixed
// numbers, not derived from the machine's cores, so a stage restarted on a bigger node computes the
// same bits. The variables are read once, when TensorFlow creates its thread pools (first op).
// The values are the contract's (trainer/src/contract: the operator puts them in every pod).
// See docs/architecture.md ("Exactness across backends") and docs/benchmarks.md for the figures.
import { TENSORFLOW_ENV } from '../contract/index.ts';

/**
 * Sets the pinned variables that are not set yet in `env` (process.env by default: Node passes the
 * change to the C library, where TensorFlow reads it). A value the user exported is kept: every
 * local stage inherits the same environment, so the pipeline and its reference still agree.
 * Also hides TensorFlow's informational start-up lines (TF_CPP_MIN_LOG_LEVEL=1) unless set.
 */
export function pinTensorflowEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries({ ...TENSORFLOW_ENV, TF_CPP_MIN_LOG_LEVEL: '1' })) {
    if (env[name] === undefined) env[name] = value;
  }
}
