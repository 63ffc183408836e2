// How a stage process is configured: the JSON the local runner and the operator put in its
// environment, and the names of the variables. The operator writes it into every stage pod; the
// stage reads it once at boot.
import type { PipelineJob } from '../api/schema.ts';

/** JSON StageConfig of the stage process. */
export const CONFIG_ENV = 'PIPETRAIN_STAGE_CONFIG';
/** The job's secret token; links that do not present it are refused. */
export const TOKEN_ENV = 'PIPETRAIN_TOKEN';

export interface StageConfig {
  job: PipelineJob;
  stage: number;
  /** Layers per stage. */
  partition: number[];
  /** Where this stage accepts its upstream neighbour's link (stages > 0). */
  listenHost: string;
  listenPort: number;
  /** ws:// URL of the downstream stage; when absent the supervisor sends it in a `connect` message. */
  downstreamUrl?: string;
  metricsHost: string;
  metricsPort: number;
  /** Folder that relative data and checkpoint paths resolve against (the job file's folder; `/` in a pod). */
  baseDir: string;
  /** Boot (backend, data), report `ready`, then wait for a `start` message: a hot standby (local runner only). */
  waitForStart?: boolean;
  /**
   * After the last step, keep serving GET /status until it has been read once, at most this long, ms
   * (the operator polls it: the final step and loss reach the job's status). Absent: close at once.
   */
  finalStatusWaitMs?: number;
  /**
   * How long the stage waits for a frame due from a neighbour before it fails with PeerLost (3), ms.
   * Absent: 600 000 (10 min: a slow CPU step of every later stage, or a first step's compile, fits).
   */
  receiveTimeoutMs?: number;
}
