// The PipelineJob status as the operator writes it: one schema for the operator's types
// (operator/policy/status-types.ts) and the CRD's status (so `kubectl explain pj.status` documents it
// and the API server drops what the schema does not name). Times are RFC 3339 strings.
import { z } from 'zod';

/** Condition types on status.conditions (Kubernetes API conventions: PascalCase). */
export const Conditions = {
  Created: 'Created',
  Running: 'Running',
  Restarting: 'Restarting',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Suspended: 'Suspended',
} as const;

/** status.phase, for printer columns (conditions carry the detail). */
export const Phases = ['Pending', 'Running', 'Restarting', 'Succeeded', 'Failed', 'Suspended'] as const;

const time = (description: string) => z.string().describe(description);
const stageIndex = (description: string) => z.int().min(0).describe(description);

const ConditionSchema = z
  .object({
    type: z.enum(Object.values(Conditions)).describe('type: Created, Running, Restarting, Succeeded, Failed or Suspended.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('status: "True", "False" or "Unknown".'),
    reason: z.string().describe('reason: one CamelCase word for the last transition, e.g. StagesRunning or NodeLeaseExpired.'),
    message: z.string().describe('message: the last transition in words.'),
    lastTransitionTime: time('lastTransitionTime: when status last changed.'),
    observedGeneration: z.int().min(0).optional().describe('observedGeneration: metadata.generation of the spec this condition was set for.'),
  })
  .describe('A condition, as the Kubernetes API conventions describe it.');

const StageStatusSchema = z
  .object({
    stage: stageIndex('stage: stage index, from 0.'),
    pod: z.string().describe('pod: name of the stage pod.'),
    node: z.string().optional().describe('node: node the pod runs on, once scheduled.'),
    state: z.string().describe('state: Pending, Running, Ready, Succeeded, Failed, Terminating or Missing.'),
    step: z.int().min(0).optional().describe('step: last step the stage reported.'),
  })
  .describe('One pipeline stage of the current attempt.');

const LastFailureSchema = z
  .object({
    stage: stageIndex('stage: stage that failed, where known.').optional(),
    pod: z.string().optional().describe('pod: pod of the failed stage.'),
    node: z.string().optional().describe('node: node of the failed stage.'),
    reason: z.string().describe('reason: e.g. StageFailed, PeerLost, PodEvicted, NodeLeaseExpired, NodeNotReady.'),
    message: z.string().describe('message: what happened, in words.'),
    exitCode: z.int().optional().describe('exitCode: exit code of the stage process, if it exited.'),
    attempt: z.int().min(0).describe('attempt: the attempt (0 = first run) that failed.'),
    failedAt: time('failedAt: when the failure happened, where known (exit time, last node heartbeat).').optional(),
    detectedAt: time('detectedAt: when the operator noticed the failure.'),
    recoveredAt: time('recoveredAt: when every stage of the next attempt was running again.').optional(),
    trainingAt: time('trainingAt: when every stage had completed a step past the resumed checkpoint: training again.').optional(),
    stepAtFailure: z.int().min(0).optional().describe('stepAtFailure: step reached before the failure.'),
    lostSteps: z.int().min(0).optional().describe('lostSteps: steps after the last checkpoint, trained again.'),
  })
  .describe('lastFailure: the most recent failure and its recovery; kept after its events expire.');

export const JobStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('observedGeneration: metadata.generation the operator last acted on.'),
    phase: z.enum(Phases).optional().describe('phase: Pending, Running, Restarting, Succeeded, Failed or Suspended (conditions carry the detail).'),
    conditions: z.array(ConditionSchema).max(16).optional().describe('conditions: Created, Running, Restarting, Succeeded, Failed, Suspended.'),
    stages: z.array(StageStatusSchema).max(256).optional().describe('stages: one entry per stage of the current attempt.'),
    stagesReady: z.string().optional().describe('stagesReady: ready stages over all stages, e.g. "3/4".'),
    step: z.int().min(0).optional().describe('step: last completed optimizer step.'),
    totalSteps: z.int().min(0).optional().describe('totalSteps: steps of the whole run.'),
    loss: z.string().optional().describe('loss: training loss at the last step (a string: printer columns show it as written).'),
    samplesPerSecond: z.number().min(0).optional().describe('samplesPerSecond: training throughput of the pipeline.'),
    lastCheckpoint: z
      .object({
        step: z.int().min(0).describe('step: step of the newest committed checkpoint.'),
        time: time('time: when it was committed.').optional(),
      })
      .optional()
      .describe('lastCheckpoint: the newest committed checkpoint.'),
    restarts: z.int().min(0).optional().describe('restarts: restarts from a checkpoint so far.'),
    avoidNodes: z.array(z.string()).max(256).optional().describe('avoidNodes: nodes the next attempt avoids (nodes of failed attempts).'),
    lastFailure: LastFailureSchema.optional(),
    startTime: time('startTime: when the operator first created the stage pods.').optional(),
    completionTime: time('completionTime: when the job succeeded or failed.').optional(),
  })
  .describe('status: observed state, written by the operator.');
