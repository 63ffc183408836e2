// Builds the Pod of one stage for one attempt. Pure: everything comes from the arguments, so the
// pod is unit-tested field by field and identical across reconciles and operator restarts.
import type * as k8s from '@kubernetes/client-node';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { CONFIG_ENV, TOKEN_ENV, type StageConfig } from '../../trainer/src/contract/index.ts';
import { Components, CONTAINER_NAME, HOSTNAME_LABEL, Labels, PREPARE_CONTAINER_NAME, PREPARE_DATA_FLAG, TOKEN_KEY } from '../constants.ts';
import { LINK_PORT, STAGE_UID, tensorflowEnvEntries } from '../../trainer/src/contract/index.ts';
import { childLabels } from './labels.ts';
import { claimName, podName, preparePodName, secretName, serviceName, stageHost, stageHostname } from './names.ts';

/** The volume of spec.model.from.persistentVolumeClaim (policy/source-volume.ts checks its mount path). */
export const SOURCE_VOLUME = 'model-source';

/** A finished stage keeps serving /status this long at most, until the operator (polling every 2 s) has read it, ms. */
const FINAL_STATUS_WAIT_MS = 10_000;

export interface StagePodInput {
  job: PipelineJob;
  namespace: string;
  owner: k8s.V1OwnerReference;
  partition: number[];
  stage: number;
  attempt: number;
  /** Image when spec.image is empty (operator flag --stage-image). */
  defaultImage: string;
  /** argv of the stage process (operator flag --stage-command). */
  command: string[];
  /** Nodes this attempt must not use (the node of the last failure). */
  avoidNodes?: string[];
  /** Claim mounted at spec.checkpoint.path, if any. */
  checkpointClaim?: string;
}

/** The claim a job's pods mount: the user's existing one, the operator-made one, or none. */
export function checkpointClaimOf(job: PipelineJob): string | undefined {
  const checkpoint = job.spec.checkpoint;
  if (checkpoint?.persistentVolumeClaim) return checkpoint.persistentVolumeClaim.claimName;
  if (checkpoint?.volumeClaimTemplate) return claimName(job.metadata.name);
  return undefined;
}

export function buildStagePod(input: StagePodInput): k8s.V1Pod {
  const { job, namespace, stage, attempt, partition } = input;
  const name = job.metadata.name;
  const spec = job.spec;
  const last = stage === partition.length - 1;
  const config: StageConfig = {
    job: { apiVersion: job.apiVersion, kind: job.kind, metadata: { name, namespace }, spec },
    stage,
    partition,
    listenHost: '0.0.0.0',
    listenPort: LINK_PORT,
    downstreamUrl: last ? undefined : `ws://${stageHost(name, namespace, stage + 1)}:${LINK_PORT}`,
    metricsHost: '0.0.0.0',
    metricsPort: spec.metricsPort,
    baseDir: '/',
    finalStatusWaitMs: FINAL_STATUS_WAIT_MS,
  };
  const env: k8s.V1EnvVar[] = [
    { name: CONFIG_ENV, value: JSON.stringify(config) },
    { name: TOKEN_ENV, valueFrom: { secretKeyRef: { name: secretName(name), key: TOKEN_KEY } } },
    // Same TensorFlow threads and oneDNN setting on every node, so bits do not depend on the node.
    ...tensorflowEnvEntries(),
  ];
  const volumes: k8s.V1Volume[] = [{ name: 'tmp', emptyDir: {} }];
  // The root file system is read-only: scratch files go to /tmp.
  const mounts: k8s.V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (spec.checkpoint) {
    // Without a claim the checkpoints live as long as the pod (an emptyDir: the root is read-only).
    volumes.push(input.checkpointClaim ? { name: 'checkpoints', persistentVolumeClaim: { claimName: input.checkpointClaim } } : { name: 'checkpoints', emptyDir: {} });
    mounts.push({ name: 'checkpoints', mountPath: spec.checkpoint.path });
  }
  const source = spec.model.from?.persistentVolumeClaim;
  if (source) {
    // Read-only twice over: the claim as the pod uses it, and the mount, so no stage can change the
    // source another job wrote (its checksum is part of this run's identity).
    volumes.push({ name: SOURCE_VOLUME, persistentVolumeClaim: { claimName: source.claimName, readOnly: true } });
    mounts.push({ name: SOURCE_VOLUME, mountPath: source.mountPath, readOnly: true });
  }
  const container: k8s.V1Container = {
    name: CONTAINER_NAME,
    image: spec.image ?? input.defaultImage,
    command: input.command,
    env,
    ports: [
      ...(stage > 0 ? [{ name: 'link', containerPort: LINK_PORT }] : []),
      { name: 'metrics', containerPort: spec.metricsPort },
    ],
    resources: resourcesOf(spec.resources),
    readinessProbe: { httpGet: { path: '/healthz', port: spec.metricsPort }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: mounts,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(name, stage),
      namespace,
      labels: { ...childLabels(name, Components.stage), [Labels.stage]: String(stage), [Labels.attempt]: String(attempt) },
      ownerReferences: [input.owner],
    },
    spec: {
      hostname: stageHostname(name, stage),
      subdomain: serviceName(name),
      // The restart unit is the whole pipeline: the operator restarts every stage together.
      restartPolicy: 'Never',
      // Stage pods talk to their neighbours, never to the API server.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 10,
      nodeSelector: spec.nodeSelector,
      tolerations: spec.tolerations as k8s.V1Toleration[] | undefined,
      affinity: avoidNodesAffinity(input.avoidNodes),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: STAGE_UID,
        runAsGroup: STAGE_UID,
        fsGroup: STAGE_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [container],
      volumes,
    },
  };
}

/**
 * The pod that prepares spec.data.dataset once, before any stage pod starts: stage 0's pod (same
 * image, configuration, claim, resources, nodes and restricted security context) running the stage
 * command with PREPARE_DATA_FLAG. It needs no token, no ports, no probe and no stable hostname.
 */
export function buildPreparePod(input: Omit<StagePodInput, 'stage'>): k8s.V1Pod {
  const pod = buildStagePod({ ...input, stage: 0 });
  const name = input.job.metadata.name;
  const spec = pod.spec!;
  const [stage] = spec.containers;
  const container: k8s.V1Container = {
    name: PREPARE_CONTAINER_NAME,
    image: stage!.image,
    command: [...input.command, PREPARE_DATA_FLAG],
    env: stage!.env?.filter((e) => e.name === CONFIG_ENV),
    resources: stage!.resources,
    securityContext: stage!.securityContext,
    // Preparing reads spec.data only: the source claim would merely tie the pod to where it can attach.
    volumeMounts: stage!.volumeMounts?.filter((m) => m.name !== SOURCE_VOLUME),
    // Its log's last lines (prepare's reason) become the termination message the status shows.
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const { hostname: _hostname, subdomain: _subdomain, ...rest } = spec;
  return {
    ...pod,
    metadata: { name: preparePodName(name), namespace: input.namespace, labels: { ...childLabels(name, Components.prepare), [Labels.attempt]: String(input.attempt) }, ownerReferences: [input.owner] },
    spec: { ...rest, volumes: rest.volumes?.filter((v) => v.name !== SOURCE_VOLUME), terminationGracePeriodSeconds: 30, containers: [container] },
  };
}

function resourcesOf(resources: PipelineJob['spec']['resources']): k8s.V1ResourceRequirements | undefined {
  if (!resources) return undefined;
  const limits = resources.limits ? { ...resources.limits } : undefined;
  const requests = resources.requests ? { ...resources.requests } : undefined;
  // Extended resources (nvidia.com/gpu) cannot be overcommitted: Kubernetes wants requests == limits.
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (key.includes('/') && requests && !(key in requests)) requests[key] = value;
  }
  return { limits, requests };
}

function avoidNodesAffinity(nodes: string[] | undefined): k8s.V1Affinity | undefined {
  if (!nodes || nodes.length === 0) return undefined;
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'NotIn', values: [...nodes].sort() }] }],
      },
    },
  };
}
