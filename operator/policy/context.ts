// Everything one reconcile of one job works with: the job, its pods from the cache sorted by
// attempt, the environment (clock, child actions, node health, stage progress) and the draft.
import type * as k8s from '@kubernetes/client-node';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { Components, DEFAULT_NODE_FAILURE_SECONDS, Labels } from '../constants.ts';
import type { ChildActions, Draft } from './draft.ts';
import { ownerReference, type PipelineJobObject } from './job.ts';
import { judgeNode, leaseReference, needsForceDelete, type NodeLookup, type NodeVerdict } from './node-health.ts';
import type { Progress } from './stage-reports.ts';

export interface ReconcileEnv {
  now: number;
  actions: ChildActions;
  nodes: NodeLookup;
  /** Latest progress the poller read from the job's stage pods. */
  progress(namespace: string, name: string): Progress | undefined;
  defaultImage: string;
  stageCommand: string[];
}

export interface JobContext {
  object: PipelineJobObject;
  job: PipelineJob;
  partition: number[];
  namespace: string;
  name: string;
  owner: k8s.V1OwnerReference;
  /** Attempt whose pods should run now (= status.restarts, or newer pods' label after a lost write). */
  attempt: number;
  /** Stage i's pod of the current attempt, or undefined. */
  current: (k8s.V1Pod | undefined)[];
  /** Pods of earlier attempts, still to be removed before the next attempt starts. */
  stale: k8s.V1Pod[];
  /** The pod that prepares spec.data.dataset before the stages start, once made (data-preparation.ts). */
  preparePod?: k8s.V1Pod;
  env: ReconcileEnv;
  draft: Draft;
  verdict(node: string): NodeVerdict;
  /** spec.failurePolicy.nodeFailureSeconds or its default: a node's Lease older than this is dead (s). */
  nodeFailureSeconds: number;
}

export function attemptOf(pod: k8s.V1Pod): number {
  const value = Number(pod.metadata?.labels?.[Labels.attempt]);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

export function buildContext(
  object: PipelineJobObject,
  job: PipelineJob,
  partition: number[],
  pods: readonly k8s.V1Pod[],
  env: ReconcileEnv,
  draft: Draft,
): JobContext {
  // Only pods this job controls (a same-named job deleted and re-created has a new uid).
  const all = pods.filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === object.metadata.uid && o.controller));
  const isPreparePod = (p: k8s.V1Pod) => p.metadata?.labels?.[Labels.component] === Components.prepare;
  const preparePod = all.find(isPreparePod);
  const owned = all.filter((p) => !isPreparePod(p));
  const attempt = Math.max(object.status?.restarts ?? 0, ...owned.map(attemptOf));
  const current: (k8s.V1Pod | undefined)[] = partition.map(() => undefined);
  const stale: k8s.V1Pod[] = [];
  for (const pod of owned) {
    const stage = Number(pod.metadata?.labels?.[Labels.stage]);
    if (attemptOf(pod) === attempt && Number.isInteger(stage) && stage >= 0 && stage < current.length) current[stage] = pod;
    else stale.push(pod);
  }
  const nodeFailureSeconds = job.spec.failurePolicy?.nodeFailureSeconds ?? DEFAULT_NODE_FAILURE_SECONDS;
  const verdicts = new Map<string, NodeVerdict>();
  let reference: number | undefined | null = null; // null: not looked up yet
  const verdict = (node: string): NodeVerdict => {
    let v = verdicts.get(node);
    if (reference === null) reference = leaseReference(env.nodes, env.now);
    if (!v) verdicts.set(node, (v = judgeNode(node, env.nodes, reference, nodeFailureSeconds)));
    return v;
  };
  return {
    object,
    job,
    partition,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    owner: ownerReference(object),
    attempt,
    current,
    stale,
    preparePod,
    env,
    draft,
    verdict,
    nodeFailureSeconds,
  };
}

/** Deletes pods, forcing those whose node will never confirm a graceful deletion. */
export async function deletePods(ctx: JobContext, pods: readonly (k8s.V1Pod | undefined)[]): Promise<void> {
  await Promise.all(
    pods.map(async (pod) => {
      const name = pod?.metadata?.name;
      if (!pod || !name) return;
      const node = pod.spec?.nodeName;
      const force = node !== undefined && needsForceDelete(ctx.verdict(node));
      // Already deleting gracefully on a healthy node: nothing more to do.
      if (pod.metadata?.deletionTimestamp && !force) return;
      await ctx.env.actions.deletePod(ctx.namespace, name, force);
    }),
  );
}
