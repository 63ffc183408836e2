// What a stage process and its supervisor (the local runner) say to each other over Node's IPC
// channel, and the stage's configuration. In Kubernetes there is no supervisor: the same process
// gets its configuration from the environment and its peers' addresses from DNS.
import type { PipelineJob } from '../spec/schema.ts';
import type { WeightBytes } from '../train/digest.ts';
import type { StepTimes } from '../train/executor.ts';

/** Exit codes of a stage process (documented in docs/operations.md). */
export const StageExit = {
  Succeeded: 0,
  /** Unexpected error; retrying may help. */
  Failed: 1,
  /** The job itself is wrong (bad data file, shape mismatch): retrying cannot help. */
  InvalidJob: 2,
  /** A neighbour's link broke or went silent. */
  PeerLost: 3,
  /** Stopped by SIGTERM / SIGINT. */
  Terminated: 143,
} as const;

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
  /** Folder that relative data paths resolve against (the job file's folder). */
  baseDir: string;
  /** Boot (backend, data), report `ready`, then wait for a `start` message: a hot standby. */
  waitForStart?: boolean;
}

export const CONFIG_ENV = 'PIPETRAIN_STAGE_CONFIG';
export const TOKEN_ENV = 'PIPETRAIN_TOKEN';
/** Checkpoint folder; overrides spec.checkpoint.path (the operator sets it to the volume mount). */

export type StageToSupervisor =
  | { type: 'listening'; stage: number; linkPort: number; metricsPort: number }
  | { type: 'training'; stage: number; totalSteps: number; /** Steps already done (resumed from a checkpoint). */ startStep: number }
  | { type: 'heartbeat'; stage: number }
  | { type: 'ready'; stage: number }
  | ({ type: 'step'; stage: number; step: number; loss?: number } & StepTimes)
  | { type: 'finished'; stage: number; weights: WeightBytes[] }
  | { type: 'failed'; stage: number; message: string; exitCode: number };

export type SupervisorToStage = { type: 'connect'; url: string } | { type: 'start' } | { type: 'shutdown' };
