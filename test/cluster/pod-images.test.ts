// Pods run from the images `npm run images:build` exported: the image's root file system and config,
// the pod's user, env, volumes and read-only root on top; an image the nodes do not have is a pull
// error in the pod's status, as a kubelet reports it.
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { DEFAULT_STAGE_IMAGE, STAGE_UID } from '../../trainer/src/contract/index.ts';
import { builtImage } from '../images/build.ts';
import { waitForPod } from './fixtures.ts';
import { useCluster } from './harness.ts';

const cluster = useCluster();

/** Why the stage image cannot be used, or undefined. */
function stageImageMissing(): string | undefined {
  const built = builtImage('stage');
  if (built.state === 'missing') return `${built.reference} is not built: run \`npm run images:build\``;
  assert.equal(built.state, 'current', `${built.reference} was built from other sources: run \`npm run images:build\``);
  return undefined;
}

/** A pod as the operator makes stage pods: non-root user, fsGroup, read-only root, /tmp an emptyDir. */
function imagePod(name: string, container: Partial<k8s.V1Container>): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: STAGE_UID, runAsGroup: STAGE_UID, fsGroup: STAGE_UID },
      containers: [{
        name: 'main',
        image: DEFAULT_STAGE_IMAGE,
        env: [{ name: 'FROM_POD', value: 'yes' }],
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        ...container,
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}

const finished = (p: k8s.V1Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

cluster.test("a pod from the stage image runs the image's Entrypoint as the pod's user on a read-only root", async ({ client, namespace, t }) => {
  const missing = stageImageMissing();
  if (missing) return t.skip(missing);
  await client.core.createNamespacedPod({ namespace, body: imagePod('help', { args: ['stage', '--help'] }) });
  const script = 'id -u; id -g; pwd; echo "$NODE_ENV $FROM_POD"; node --version; (touch /x 2>/dev/null && echo root-writable) || echo root-read-only; touch /tmp/y && echo tmp-writable; ls /app/trainer/bin | tr "\\n" " "';
  await client.core.createNamespacedPod({ namespace, body: imagePod('inside', { command: ['sh', '-c', script] }) });
  const help = await waitForPod(client, namespace, 'help', 'finished', finished);
  assert.equal(help.status?.phase, 'Succeeded', client.podLogs(namespace, 'help'));
  assert.match(client.podLogs(namespace, 'help'), /Usage: pipetrain stage/);
  const inside = await waitForPod(client, namespace, 'inside', 'finished', finished);
  assert.equal(inside.status?.phase, 'Succeeded', client.podLogs(namespace, 'inside'));
  const [uid, gid, cwd, env, node, root, tmp, bin] = client.podLogs(namespace, 'inside').trim().split('\n');
  assert.deepEqual([uid, gid, cwd, env], [String(STAGE_UID), String(STAGE_UID), '/app', 'production yes']);
  assert.ok(Number(node?.replace(/^v/, '').split('.')[0]) >= 22, `node ${node}`);
  assert.deepEqual([root, tmp], ['root-read-only', 'tmp-writable']);
  assert.match(bin ?? '', /pipetrain\.js/);
});

cluster.test('an image the nodes do not have is ErrImagePull, then ImagePullBackOff, and the pod stays Pending', async ({ client, namespace }) => {
  await client.core.createNamespacedPod({ namespace, body: imagePod('nowhere', { image: 'registry.invalid/nothing:1', command: ['true'] }) });
  const pod = await waitForPod(client, namespace, 'nowhere', 'in ImagePullBackOff', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 30_000);
  assert.equal(pod.status?.phase, 'Pending');
  assert.match(pod.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '', /registry\.invalid\/nothing:1/);
});
