// Label keys, condition types, reasons and defaults shared by the operator's modules: one place,
// so the pod builder, the reconcile steps, the tests and the docs use the same words.

import { Conditions, Phases } from '../trainer/src/api/status-schema.ts';

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
  StageFailed: 'StageFailed',
  PeerLost: 'PeerLost',
  PodDeleted: 'PodDeleted',
  PodEvicted: 'PodEvicted',
  NodeNotReady: 'NodeNotReady',
  NodeLeaseExpired: 'NodeLeaseExpired',
  NodeGone: 'NodeGone',
  RestartScheduled: 'RestartScheduled',
  Recovered: 'Recovered',
  Suspended: 'Suspended',
  Resumed: 'Resumed',
  PartitionFallback: 'PartitionFallback',
  TTLExpired: 'TTLExpired',
  CreateFailed: 'CreateFailed',
} as const;

/** Every reason a gang restart is counted under (failure-policy.ts ranks them; metrics start them at 0). */
export const RESTART_REASONS = [Reasons.NodeGone, Reasons.NodeNotReady, Reasons.NodeLeaseExpired, Reasons.StageFailed, Reasons.PodEvicted, Reasons.PodDeleted, Reasons.PeerLost] as const;

/** Key of the token in the job's Secret. */
export const TOKEN_KEY = 'token';
export const CONTAINER_NAME = 'stage';
/** Node label used to steer a new attempt away from the node that just failed. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Default of failurePolicy.nodeFailureSeconds when the operator decides (issue 5: 15 s). */
export const DEFAULT_NODE_FAILURE_SECONDS = 15;
