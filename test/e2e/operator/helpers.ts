// Helpers of the operator's end-to-end tests on the test control plane (test/cluster): install the
// CRD, run the operator in this process, create jobs, wait for status.
import type * as k8s from '@kubernetes/client-node';
import * as k8sRuntime from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { ClusterClient } from '../../cluster/control.ts';
import { HOST_TEST_IMAGE } from '../../cluster/images.ts';
import { waitFor } from '../../cluster/util.ts';
import { builtImage } from '../../images/build.ts';
import { checkpointWeightsDigest } from '../../../trainer/src/checkpoint/index.ts';
import { loadJobData } from '../../../trainer/src/data/load.ts';
import { API_GROUP, API_VERSION, PipelineJobSchema, PLURAL } from '../../../trainer/src/api/schema.ts';
import { initBackend } from '../../../trainer/src/tf/backend.ts';
import { weightsDigest } from '../../../trainer/src/train/digest.ts';
import { trainSingleProcess } from '../../../trainer/src/train/reference.ts';
import type { PipelineJobObject } from '../../../operator/policy/job.ts';
import { createLogger } from '../../../operator/machinery/log.ts';
import { runOperator, type OperatorOptions, type RunningOperator } from '../../../operator/main.ts';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const CRD_FILE = `${REPO}crds/pipetrain.io_pipelinejobs.yaml`;
export const STAGE_COMMAND = [process.execPath, `${REPO}trainer/bin/pipetrain.js`, 'stage'];
const custom = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

/** Applies the generated CRD and waits until it is Established. */
export async function installCrd(client: ClusterClient): Promise<void> {
  await client.kubectl(['apply', '--server-side', '-f', CRD_FILE]);
  await client.waitForCrdEstablished(`${PLURAL}.${API_GROUP}`);
}

/**
 * One operator for a whole test file: `ensure(client)` installs the CRD and starts it on first use
 * (the harness starts the cluster in its before hook); it is stopped after the file's tests.
 */
export function sharedOperator(): { ensure(client: ClusterClient): Promise<RunningOperator> } {
  let operator: RunningOperator | undefined;
  after(async () => {
    await operator?.stop();
  });
  return {
    async ensure(client) {
      if (!operator) {
        await installCrd(client);
        operator = await startOperator(client);
      }
      return operator;
    },
  };
}

/**
 * Where stage pods come from: the built stage image with the operator's default image and command
 * (`npm run images:build`), else the checkout run on the host's root by the test image. A stage image
 * built from other sources than the checkout's fails: it is not what the sources make.
 */
export function stagePodSource(): Pick<OperatorOptions, 'stageImage' | 'stageCommand'> {
  const built = builtImage('stage');
  if (built.state === 'missing') return { stageImage: HOST_TEST_IMAGE, stageCommand: STAGE_COMMAND };
  if (built.state === 'stale') throw new Error(`${built.reference} was built from other sources than the checkout's: run \`npm run images:build\``);
  return {};
}

/** The operator, in this process; its log lines go to stderr prefixed, so a failing test shows them. */
export function startOperator(client: ClusterClient, options: Partial<OperatorOptions> = {}): Promise<RunningOperator> {
  return runOperator({
    kubeconfig: client.state.kubeconfig,
    metricsAddress: '127.0.0.1:0',
    ...stagePodSource(),
    pollIntervalMs: 500,
    logger: createLogger('text', (line) => process.stderr.write(`[operator${options.identity ? ` ${options.identity}` : ''}] ${line}\n`)),
    ...options,
  });
}

/** The tiny fixture job with overrides to its spec. */
export function tinyJob(name: string, spec: (s: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const job = parse(readFileSync(`${REPO}test/fixtures/tiny-job.yaml`, 'utf8')) as { metadata: { name: string }; spec: Record<string, unknown> };
  job.metadata.name = name;
  spec(job.spec);
  return job;
}

export function createJob(client: ClusterClient, namespace: string, body: Record<string, unknown>): Promise<unknown> {
  const api = client.kc.makeApiClient(k8sRuntime.CustomObjectsApi);
  return api.createNamespacedCustomObject({ ...custom, namespace, body });
}


export async function getJob(client: ClusterClient, namespace: string, name: string): Promise<PipelineJobObject> {
  const api = client.kc.makeApiClient(k8sRuntime.CustomObjectsApi);
  return (await api.getNamespacedCustomObject({ ...custom, namespace, name })) as PipelineJobObject;
}

export function waitForJob(client: ClusterClient, namespace: string, name: string, what: string, check: (job: PipelineJobObject) => boolean, timeoutMs = 90_000): Promise<PipelineJobObject> {
  return waitFor(`PipelineJob ${namespace}/${name} ${what}`, async () => {
    const job = await getJob(client, namespace, name);
    return check(job) ? job : undefined;
  }, timeoutMs, 200);
}

export async function stagePods(client: ClusterClient, namespace: string, job: string): Promise<k8s.V1Pod[]> {
  return (await client.core.listNamespacedPod({ namespace, labelSelector: `pipetrain.io/job-name=${job}` })).items;
}

export const isFinished = (job: { status?: { phase?: string } }): boolean => job.status?.phase === 'Succeeded' || job.status?.phase === 'Failed';

/** The tiny job, long enough to still be training when a fault is injected, with a checkpoint claim. */
export function checkpointedJob(name: string, steps: number, spec: (s: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  return tinyJob(name, (s) => {
    (s.training as Record<string, unknown>).steps = steps;
    s.checkpoint = { path: '/checkpoints', everySteps: 20, volumeClaimTemplate: { storage: '1Gi', accessModes: ['ReadWriteMany'] } };
    spec(s);
  });
}

/** The newest checkpoint on the job's claim `<job>-checkpoints` (its PV is a host directory of the test cluster). */
export async function claimCheckpoint(client: ClusterClient, namespace: string, job: string): Promise<{ step: number; weightsSha256: string } | undefined> {
  const claim = await client.core.readNamespacedPersistentVolumeClaim({ namespace, name: `${job}-checkpoints` });
  const volume = await client.core.readPersistentVolume({ name: claim.spec!.volumeName! });
  const digest = await checkpointWeightsDigest(volume.spec!.hostPath!.path);
  return digest ? { step: digest.step, weightsSha256: digest.weightsSha256 } : undefined;
}

/** What single-process training of the same spec (cpu backend) ends with: `pipetrain train`'s digest. */
export async function localDigest(body: Record<string, unknown>): Promise<string> {
  await initBackend('cpu');
  const { spec } = PipelineJobSchema.parse(body);
  return weightsDigest((await trainSingleProcess(spec, await loadJobData(spec, REPO))).weights);
}

/** Merge-patches the job's spec. */
export async function patchJobSpec(client: ClusterClient, namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await client.kubectl(['patch', '-n', namespace, `${PLURAL}.${API_GROUP}`, name, '--type=merge', '-p', JSON.stringify({ spec })]);
}

/** Events of the namespace with the given reason. */
export async function eventsWithReason(client: ClusterClient, namespace: string, reason: string): Promise<k8s.CoreV1Event[]> {
  return (await client.core.listNamespacedEvent({ namespace })).items.filter((e) => e.reason === reason);
}
