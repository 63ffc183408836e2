// The job's other children: the Secret with the link token, the headless Service that gives each
// stage a DNS name, and the checkpoint claim made from spec.checkpoint.volumeClaimTemplate.
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { TOKEN_KEY } from '../constants.ts';
import { LINK_PORT } from '../../trainer/src/contract/index.ts';
import { childLabels } from './labels.ts';
import { claimName, secretName, serviceName } from './names.ts';
import { Labels } from '../constants.ts';

export function buildTokenSecret(job: PipelineJob, namespace: string, owner: k8s.V1OwnerReference, token = randomBytes(32).toString('hex')): k8s.V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(job.metadata.name), namespace, labels: childLabels(job.metadata.name, 'token'), ownerReferences: [owner] },
    type: 'Opaque',
    stringData: { [TOKEN_KEY]: token },
  };
}

export function buildHeadlessService(job: PipelineJob, namespace: string, owner: k8s.V1OwnerReference): k8s.V1Service {
  const name = job.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(name), namespace, labels: childLabels(name, 'stages'), ownerReferences: [owner] },
    spec: {
      clusterIP: 'None',
      selector: { [Labels.job]: name, [Labels.component]: 'stage' },
      // Stages resolve their neighbour while it is still starting; readiness gates nothing here.
      publishNotReadyAddresses: true,
      ports: [
        { name: 'link', port: LINK_PORT, targetPort: LINK_PORT },
        { name: 'metrics', port: job.spec.metricsPort, targetPort: job.spec.metricsPort },
      ],
    },
  };
}

/** undefined when the job does not ask the operator for a claim. */
export function buildCheckpointClaim(job: PipelineJob, namespace: string, owner: k8s.V1OwnerReference): k8s.V1PersistentVolumeClaim | undefined {
  const template = job.spec.checkpoint?.volumeClaimTemplate;
  if (!template) return undefined;
  const name = job.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(name),
      namespace,
      labels: childLabels(name, 'checkpoints'),
      // Checkpoints are the user's data: the claim outlives the job unless deleteWithJob is set.
      ownerReferences: template.deleteWithJob ? [owner] : undefined,
    },
    spec: {
      accessModes: template.accessModes ?? ['ReadWriteMany'],
      storageClassName: template.storageClassName,
      resources: { requests: { storage: template.storage } },
    },
  };
}
