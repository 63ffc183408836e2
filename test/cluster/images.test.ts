// How the agent turns command, args and a known image into the argv it runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerArgv, defaultImages, imageRepository } from './images.ts';

test('containerArgv follows Kubernetes: command wins, else ENTRYPOINT + (args or CMD)', () => {
  const images = { 'ghcr.io/x/app': { entrypoint: ['node', 'app.js'], cmd: ['serve'] } };
  assert.deepEqual(containerArgv({ command: ['sh', '-c'], args: ['echo'], image: 'ghcr.io/x/app:1' }, images), ['sh', '-c', 'echo']);
  assert.deepEqual(containerArgv({ image: 'ghcr.io/x/app:1.2-gpu' }, images), ['node', 'app.js', 'serve']);
  assert.deepEqual(containerArgv({ args: ['stage', '--x'], image: 'ghcr.io/x/app@sha256:abc' }, images), ['node', 'app.js', 'stage', '--x']);
  assert.deepEqual(containerArgv({ args: ['a'], image: 'unknown:1' }, images), ['a']);
  assert.equal(imageRepository('localhost:5000/a/b:tag'), 'localhost:5000/a/b');
  assert.equal(imageRepository('localhost:5000/a/b'), 'localhost:5000/a/b');
  const ours = defaultImages('/repo');
  assert.deepEqual(containerArgv({ args: ['operator', '--workers=2'], image: 'ghcr.io/pipetrain/pipetrain-operator:0.1.0' }, ours).slice(1), [
    '/repo/operator/bin/pipetrain.js',
    'operator',
    '--workers=2',
  ]);
});
