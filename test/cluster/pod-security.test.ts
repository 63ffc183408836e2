// The test cluster's job namespaces enforce the `restricted` Pod Security level (the e2e and chart
// tests use them): the API server's built-in PodSecurity admission checks every pod. This file
// shows the check is real: a pod that is not restricted is refused, naming what it lacks, and the
// same pod with the restricted settings the operator gives stage pods is admitted and runs.
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { STAGE_UID } from '../../trainer/src/contract/index.ts';
import { HOST_TEST_IMAGE } from './images.ts';
import { waitForPod } from './fixtures.ts';
import { useCluster } from './harness.ts';

const cluster = useCluster({ nodes: 1, podSecurity: 'restricted' });

function pod(name: string, restricted: boolean): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      securityContext: restricted ? { runAsNonRoot: true, runAsUser: STAGE_UID, runAsGroup: STAGE_UID, seccompProfile: { type: 'RuntimeDefault' } } : undefined,
      containers: [{
        name: 'main',
        image: HOST_TEST_IMAGE,
        command: ['sh', '-c', 'echo admitted'],
        securityContext: restricted ? { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true } : undefined,
      }],
    },
  };
}

/** The API server's refusal message, or undefined when it admitted the pod. */
async function refusal(client: ReturnType<typeof cluster.client>, namespace: string, body: k8s.V1Pod): Promise<string | undefined> {
  try {
    await client.core.createNamespacedPod({ namespace, body });
    return undefined;
  } catch (err) {
    const body = (err as { body?: unknown }).body;
    if (typeof body !== 'string') throw err;
    return (JSON.parse(body) as k8s.V1Status).message ?? body;
  }
}

cluster.test('a restricted namespace refuses a pod that is not restricted, and admits the one that is', async ({ client, namespace }) => {
  const refused = await refusal(client, namespace, pod('loose', false));
  assert.ok(refused, 'the API server admitted a pod with no securityContext in a restricted namespace');
  assert.match(refused, /violates PodSecurity "restricted:latest"/);
  for (const rule of ['allowPrivilegeEscalation != false', 'unrestricted capabilities', 'runAsNonRoot != true', 'seccompProfile']) {
    assert.ok(refused.includes(rule), `the refusal names ${rule}: ${refused}`);
  }
  assert.equal(await refusal(client, namespace, pod('tight', true)), undefined);
  const ran = await waitForPod(client, namespace, 'tight', 'finished', (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
  assert.equal(ran.status?.phase, 'Succeeded', client.podLogs(namespace, 'tight'));
});
