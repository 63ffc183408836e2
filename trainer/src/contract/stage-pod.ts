// What the operator assumes about the stage image, and the stage image about its pod: one place, so
// the Dockerfile, the operator's pod builder and the tests cannot drift apart.

/** Port where each stage accepts its upstream neighbour's link. */
export const LINK_PORT = 7400;
/** Default of spec.metricsPort: /metrics, /healthz and /status of every stage. */
export const DEFAULT_METRICS_PORT = 9400;
/** The stage image when spec.image is empty (operator flag --stage-image). */
export const DEFAULT_STAGE_IMAGE = 'ghcr.io/pipetrain/pipetrain:0.1.0';
/** argv of a stage container: the image's CLI, `stage` subcommand. */
export const DEFAULT_STAGE_COMMAND = ['node', '/app/trainer/bin/pipetrain.js', 'stage'];
/** Non-root user (and group) of the stage image; pods run as it. */
export const STAGE_UID = 1000;

/**
 * TensorFlow's thread pools and oneDNN switch, pinned in every process that trains (stage processes,
 * stage pods, the single-process reference): a CNN's bits depend on the intra-op thread count, so a
 * pipeline equals its reference only when both use the same values. Fixed numbers, not derived from
 * the machine, so a stage restarted on a bigger node computes the same bits. One intra-op thread per
 * stage: stages are processes, so a pipeline already uses one core per stage.
 */
export const TENSORFLOW_ENV = {
  TF_NUM_INTRAOP_THREADS: '1',
  TF_NUM_INTEROP_THREADS: '1',
  TF_ENABLE_ONEDNN_OPTS: '1',
} as const;

/** The pinned variables, as Kubernetes env entries (the operator adds them to every stage pod). */
export function tensorflowEnvEntries(): Array<{ name: string; value: string }> {
  return Object.entries(TENSORFLOW_ENV).map(([name, value]) => ({ name, value }));
}
