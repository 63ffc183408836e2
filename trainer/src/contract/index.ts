// The contract between the trainer and the operator: stage configuration and its environment,
// exit codes, the stage image's defaults and the /status report. Both sides import it; the trainer
// never imports the operator.
export { CONFIG_ENV, TOKEN_ENV, type StageConfig } from './stage-config.ts';
export { StageExit } from './exit-codes.ts';
export { PEER_TIMEOUT_MS } from './peer-watch.ts';
export { DEFAULT_METRICS_PORT, DEFAULT_STAGE_COMMAND, DEFAULT_STAGE_IMAGE, LINK_PORT, STAGE_UID, TENSORFLOW_ENV, tensorflowEnvEntries } from './stage-pod.ts';
export { STAGE_PHASES, type StagePhase, type StageStatus } from './stage-status.ts';
export {
  DEFAULT_MAX_RESTARTS,
  isPermanentExit,
  maxRestartsOf,
  PERMANENT_EXIT_CODES,
  RECOVERY_BUCKETS,
  RESTART_BACKOFF,
  RESTART_REASONS,
  RestartReasons,
  restartDelaySeconds,
  type RestartReason,
} from './restart-policy.ts';
