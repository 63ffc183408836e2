// The parts of an image's config a runtime uses: argv, user, home and env.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { envRecord, homeOf, imageArgv, resolveUser } from './image-config.ts';

test('imageArgv follows Kubernetes: command replaces the Entrypoint, args replace the Cmd', () => {
  const config = { Entrypoint: ['node', '/app/cli.js'], Cmd: ['--help'] };
  assert.deepEqual(imageArgv(config, undefined, undefined), ['node', '/app/cli.js', '--help']);
  assert.deepEqual(imageArgv(config, undefined, ['stage']), ['node', '/app/cli.js', 'stage']);
  assert.deepEqual(imageArgv(config, ['sh', '-c'], ['id']), ['sh', '-c', 'id']);
  assert.deepEqual(imageArgv({ Cmd: ['node'] }, undefined, undefined), ['node']);
});

test('resolveUser reads names from the image, numbers as given, the primary group when none is given', () => {
  const root = mkdtempSync(join(tmpdir(), 'pipetrain-rootfs-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nnode:x:1000:1001::/home/node:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1001:\n');
  assert.deepEqual(resolveUser(root, 'node'), { uid: 1000, gid: 1001 });
  assert.deepEqual(resolveUser(root, 'node:node'), { uid: 1000, gid: 1001 });
  assert.deepEqual(resolveUser(root, '1000:5'), { uid: 1000, gid: 5 });
  assert.deepEqual(resolveUser(root, '4242'), { uid: 4242, gid: 0 });
  assert.deepEqual(resolveUser(root, undefined), { uid: 0, gid: 0 });
  assert.throws(() => resolveUser(root, 'nobody'), /user "nobody" is not in the image's \/etc\/passwd/);
  assert.equal(homeOf(root, 1000), '/home/node');
  assert.equal(homeOf(root, 4242), '/');
  rmSync(root, { recursive: true });
});

test('envRecord splits at the first =, a later entry wins', () => {
  assert.deepEqual(envRecord(['A=1', 'B=x=y', 'A=2', 'junk']), { A: '2', B: 'x=y' });
  assert.deepEqual(envRecord(null), {});
});
