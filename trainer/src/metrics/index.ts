// Public surface of the metrics module: per-stage Prometheus metrics and the stage's HTTP endpoint
// (/metrics, /healthz, /status; the /status body is in trainer/src/contract).
export {
  createStageMetrics,
  PEERS,
  PHASES,
  SEND_DURATION_BUCKETS,
  STEP_DURATION_BUCKETS,
  type LinkMetricEvents,
  type Peer,
  type Phase,
  type StageLabels,
  type StageMetrics,
  type StageMetricsOptions,
  type StepObservation,
} from './stage-metrics.ts';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server.ts';
export { createCheckpointMetrics, CHECKPOINT_DURATION_BUCKETS, type CheckpointMetrics } from './checkpoint-metrics.ts';
