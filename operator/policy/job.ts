// The PipelineJob as the operator sees it: the raw object from the API server (metadata with uid
// and generation, status), and its spec validated again with the trainer's own schema and checks,
// plus the partition every stage will use.
import type * as k8s from '@kubernetes/client-node';
import { planPartition } from '../../trainer/src/runner/partition-plan.ts';
import { PipelineJobSchema, type PipelineJob } from '../../trainer/src/api/schema.ts';
import { checkSemantics } from '../../trainer/src/api/semantic.ts';
import { issuesToProblems } from '../../trainer/src/api/zod-issues.ts';
import { sourceVolumeProblem } from './source-volume.ts';
import type { JobStatus } from './status-types.ts';

export interface PipelineJobObject {
  apiVersion: string;
  kind: string;
  metadata: k8s.V1ObjectMeta & { name: string; namespace: string; uid: string };
  spec: Record<string, unknown>;
  status?: JobStatus;
}

export type ValidatedJob =
  | { ok: true; job: PipelineJob; partition: number[]; notes: string[] }
  | { ok: false; message: string };

/**
 * Anything the CRD schema cannot catch (a partition that does not fit the model, batch size vs
 * micro-batches, ...) is reported here, as the InvalidSpec reason, instead of failing in the pods.
 */
export function validateJob(object: PipelineJobObject): ValidatedJob {
  const input = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
    spec: object.spec,
  };
  const parsed = PipelineJobSchema.safeParse(input);
  if (!parsed.success) {
    const problems = issuesToProblems(parsed.error.issues, PipelineJobSchema, input);
    return { ok: false, message: problems.map((p) => `${p.path}: ${p.message}`).join('; ') };
  }
  const semantic = checkSemantics(parsed.data);
  if (semantic.length > 0) return { ok: false, message: semantic.map((p) => `${p.path}: ${p.message}`).join('; ') };
  const job = parsed.data;
  const notes: string[] = [];
  const spec = job.spec;
  let partition: number[];
  try {
    // No profiler: 'profile' measures on a TensorFlow.js backend, which the operator does not load.
    const plan = planPartition(spec);
    partition = plan.sizes;
    if (spec.pipeline.partitionPolicy === 'profile' && !spec.pipeline.partition) notes.push(`layers were ${plan.reason}`);
  } catch (error) {
    return { ok: false, message: `cannot partition the model: ${(error as Error).message}` };
  }
  if ((spec.checkpoint?.persistentVolumeClaim || spec.checkpoint?.volumeClaimTemplate) && !spec.checkpoint.path.startsWith('/')) {
    return { ok: false, message: `spec.checkpoint.path must be an absolute path (where the claim is mounted), got ${JSON.stringify(spec.checkpoint.path)}` };
  }
  const prepareProblem = preparedDataProblem(spec);
  if (prepareProblem) return { ok: false, message: prepareProblem };
  const sourceProblem = sourceVolumeProblem(spec);
  if (sourceProblem) return { ok: false, message: sourceProblem };
  return { ok: true, job, partition, notes };
}

/**
 * The operator prepares spec.data.dataset in a pod of its own (data-preparation.ts): what it writes
 * reaches the stage pods only on the job's claim, so the folder must lie on it.
 */
function preparedDataProblem(spec: PipelineJob['spec']): string | undefined {
  const dataset = spec.data.dataset;
  if (dataset.type !== 'tokens' || !dataset.prepare) return undefined;
  const checkpoint = spec.checkpoint;
  const onClaim = checkpoint?.persistentVolumeClaim || checkpoint?.volumeClaimTemplate;
  const mount = checkpoint?.path.replace(/\/+$/, '');
  if (!onClaim || !mount || !dataset.path.startsWith(`${mount}/`)) {
    return `spec.data.dataset.prepare: on Kubernetes the prepared folder must be on the job's claim, so spec.data.dataset.path (${JSON.stringify(dataset.path)}) must lie under spec.checkpoint.path${checkpoint ? ` (${JSON.stringify(checkpoint.path)})` : ''} with spec.checkpoint.persistentVolumeClaim or volumeClaimTemplate, e.g. ${mount ?? '/checkpoints'}/data/tokens`;
  }
  return undefined;
}

/** The owner reference every child carries, so garbage collection deletes it with the job. */
export function ownerReference(object: PipelineJobObject): k8s.V1OwnerReference {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    uid: object.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
