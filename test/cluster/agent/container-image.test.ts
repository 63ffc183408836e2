// What the agent runs for a container: a built image's root and config under the pod's settings, a
// test image on the host's root, or a pull error.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import type { StoredImage } from '../image-store.ts';
import { containerSetup, ImagePullError, waitingFor } from './container-image.ts';

function fakeRootfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'pipetrain-rootfs-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  return root;
}

const pod = (securityContext?: k8s.V1PodSecurityContext): k8s.V1Pod => ({ metadata: { name: 'p' }, spec: { containers: [], securityContext } });

test("a built image runs from its root with its config; the pod's command, user and read-only root go on top", () => {
  const rootfs = fakeRootfs();
  const built: Record<string, StoredImage> = {
    'ghcr.io/pipetrain/pipetrain:0.1.0': {
      rootfs,
      config: { Entrypoint: ['node', '/app/cli.js'], Cmd: ['--help'], User: 'node', WorkingDir: '/app', Env: ['PATH=/usr/local/bin:/usr/bin', 'NODE_ENV=production'] },
    },
  };
  const plain = containerSetup(pod(), { name: 'c', image: 'ghcr.io/pipetrain/pipetrain:0.1.0', args: ['stage'] }, {}, built);
  assert.deepEqual(plain.argv, ['node', '/app/cli.js', 'stage']);
  assert.equal(plain.rootfs, rootfs);
  assert.deepEqual(plain.user, { uid: 1000, gid: 1000, groups: [1000] });
  assert.deepEqual(plain.baseEnv, { PATH: '/usr/local/bin:/usr/bin', NODE_ENV: 'production', HOME: '/home/node' });
  assert.equal(plain.workingDir, '/app');
  assert.equal(plain.readOnlyRoot, false);

  const secured = containerSetup(
    pod({ runAsUser: 4242, runAsGroup: 7, fsGroup: 9, supplementalGroups: [11] }),
    { name: 'c', image: 'ghcr.io/pipetrain/pipetrain:0.1.0', command: ['id'], workingDir: '/tmp', securityContext: { readOnlyRootFilesystem: true } },
    {},
    built,
  );
  assert.deepEqual(secured.argv, ['id']);
  assert.deepEqual(secured.user, { uid: 4242, gid: 7, groups: [7, 9, 11] });
  assert.equal(secured.baseEnv.HOME, '/');
  assert.equal(secured.workingDir, '/tmp');
  assert.equal(secured.readOnlyRoot, true);

  const rootImage = { 'example.test/root:1': { rootfs, config: { Cmd: ['sh'] } } };
  assert.throws(() => containerSetup(pod({ runAsNonRoot: true }), { name: 'c', image: 'example.test/root:1' }, {}, rootImage), /container has runAsNonRoot and image will run as root/);
  rmSync(rootfs, { recursive: true });
});

test("a test image runs on the host's root as today; an unknown image cannot be pulled", () => {
  const host = containerSetup(pod(), { name: 'c', image: 'pipetrain/test:dev', command: ['/bin/true'] }, { 'pipetrain/test': { entrypoint: [] } }, {});
  assert.equal(host.rootfs, null);
  assert.equal(host.user, undefined);
  assert.deepEqual(host.argv, ['/bin/true']);
  assert.throws(
    () => containerSetup(pod(), { name: 'c', image: 'nosuch.example/app:2', command: ['x'] }, { 'pipetrain/test': { entrypoint: [] } }, {}),
    (err: Error) => err instanceof ImagePullError && /failed to pull image "nosuch\.example\/app:2": not found.*npm run images:build/.test(err.message),
  );
});

test('waiting reasons: ErrImagePull first, then ImagePullBackOff; other problems are CreateContainerConfigError', () => {
  const pull = new ImagePullError('failed to pull image "x:1": not found');
  assert.equal(waitingFor(pull, 0, 'x:1').reason, 'ErrImagePull');
  assert.deepEqual(waitingFor(pull, 3, 'x:1'), { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x:1": failed to pull image "x:1": not found' });
  assert.equal(waitingFor(new Error('secret s not found'), 0, 'x:1').reason, 'CreateContainerConfigError');
});
