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
