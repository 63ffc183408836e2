// Label keys, condition types, reasons and defaults shared by the operator's modules: one place,
// so the pod builder, the reconcile steps, the tests and the docs use the same words.

import { Conditions, Phases } from '../trainer/src/api/status-schema.ts';
import { RESTART_REASONS, RestartReasons } from '../trainer/src/contract/index.ts';

const GROUP = 'pipetrain.io';
export const FIELD_MANAGER = 'pipetrain-operator';
export const CONTROLLER_NAME = 'pipelinejob';

/** Labels on every child object; selectors use JOB_LABEL (+ STAGE/ATTEMPT for pods). */
export const Labels = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  job: `${GROUP}/job-name`,
  stage: `${GROUP}/stage`,
  attempt: `${GROUP}/attempt`,
} as const;

export const APP_NAME = 'pipetrain';
export const MANAGED_BY = 'pipetrain-operator';

export { Conditions, Phases };
export type ConditionType = (typeof Conditions)[keyof typeof Conditions];
export type Phase = (typeof Phases)[number];

/** Reasons on conditions and events: one CamelCase word each. */
export const Reasons = {
  ...RestartReasons,
  ChildrenCreated: 'ChildrenCreated',
  PodsCreated: 'PodsCreated',
  StagesRunning: 'StagesRunning',
  StagesStarting: 'StagesStarting',
  ImagePullFailed: 'ImagePullFailed',
  AllStagesSucceeded: 'AllStagesSucceeded',
  InvalidSpec: 'InvalidSpec',
  InvalidJob: 'InvalidJob',
  MaxRestartsReached: 'MaxRestartsReached',
  DeadlineExceeded: 'DeadlineExceeded',
  RestartScheduled: 'RestartScheduled',
  Recovered: 'Recovered',
  Suspended: 'Suspended',
  Resumed: 'Resumed',
  PartitionFallback: 'PartitionFallback',
  TTLExpired: 'TTLExpired',
  CreateFailed: 'CreateFailed',
  PreparingData: 'PreparingData',
  DataPreparationFailed: 'DataPreparationFailed',
} as const;

/** Every reason a gang restart is counted under, by both runners (failure-policy.ts ranks them; metrics start them at 0). */
export { RESTART_REASONS };

/** Key of the token in the job's Secret. */
export const TOKEN_KEY = 'token';
export const CONTAINER_NAME = 'stage';
/** The container of the data preparation pod. */
export const PREPARE_CONTAINER_NAME = 'prepare';
/** `pipetrain stage` flag that only prepares spec.data.dataset (appended to the stage command). */
export const PREPARE_DATA_FLAG = '--prepare-data';
/** app.kubernetes.io/component of a job's pods: its stages and the one that prepares its data. */
export const Components = { stage: 'stage', prepare: 'prepare' } as const;
/** Node label used to steer a new attempt away from the node that just failed. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Default of failurePolicy.nodeFailureSeconds when the operator decides (issue 5: 15 s). */
export const DEFAULT_NODE_FAILURE_SECONDS = 15;
