// What a stage process and its supervisor (the local runner) say to each other over Node's IPC
// channel. In Kubernetes there is no supervisor: the same process gets its configuration from the
// environment (trainer/src/contract) and its peers' addresses from DNS.
import type { WeightBytes } from '../train/digest.ts';
import type { StepTimes } from '../train/executor.ts';

export type StageToSupervisor =
  | { type: 'listening'; stage: number; linkPort: number; metricsPort: number }
  | { type: 'training'; stage: number; totalSteps: number; /** Steps already done (resumed from a checkpoint). */ startStep: number }
  | { type: 'heartbeat'; stage: number }
  | { type: 'ready'; stage: number }
  | ({ type: 'step'; stage: number; step: number; loss?: number; /** When this step was evaluated (last stage). */ valLoss?: number } & StepTimes)
  | { type: 'finished'; stage: number; weights: WeightBytes[] }
  | { type: 'failed'; stage: number; message: string; exitCode: number };

export type SupervisorToStage = { type: 'connect'; url: string } | { type: 'start' } | { type: 'shutdown' };
