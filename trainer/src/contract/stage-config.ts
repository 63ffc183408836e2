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
}
