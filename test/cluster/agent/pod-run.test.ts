// A pod run's exit as a kubelet reports it, and its GPU allocation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateGpus, fallbackTerminationMessage, newPodRun, terminatedState } from './pod-run.ts';
import type { ClusterState } from '../state.ts';

test('an exit by signal n reports exit code 128+n; a clean exit is Completed', () => {
  assert.equal(terminatedState(7, null, 'SIGKILL', undefined).terminated?.exitCode, 137);
  assert.equal(terminatedState(7, null, 'SIGKILL', undefined).terminated?.signal, 9);
  assert.equal(terminatedState(7, 0, null, undefined).terminated?.reason, 'Completed');
  assert.equal(terminatedState(7, 3, null, undefined).terminated?.reason, 'Error');
  assert.equal(terminatedState(7, 3, null, undefined).terminated?.containerID, 'process://7');
});

test('a pod gets the GPUs it asks for that its node has free, and no more than the node has', () => {
  const state = { subnet: '10.9.0', runId: 'r', stateDir: '/tmp/x' } as ClusterState;
  const node = { name: 'n', stopped: false, gpusInUse: new Set([0]), bootID: 'b', readySince: '' };
  const pod = (gpus: number) => ({
    metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: { containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }] },
  });
  const one = newPodRun(state, pod(1), node, 4);
  assert.equal(one.ip, '10.9.0.5');
  allocateGpus(one);
  assert.deepEqual(one.gpus, [1]);
  const two = newPodRun(state, pod(2), node, 5);
  allocateGpus(two);
  assert.deepEqual(two.gpus, [], 'both GPUs of the node are taken');
});

test('FallbackToLogsOnError: a failed container\'s message is its log\'s tail (80 lines, 2 KiB); not on success or without the policy', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'pod-run-')), 'log');
  writeFileSync(log, `${Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')}\nprepare failed: absent.txt\n`);
  const fallback = { name: 'c', terminationMessagePolicy: 'FallbackToLogsOnError' };
  const message = fallbackTerminationMessage(fallback, 2, log) ?? '';
  assert.equal(message.split('\n').length, 80);
  assert.match(message, /line 99\nprepare failed: absent\.txt$/);
  assert.equal(fallbackTerminationMessage(fallback, 0, log), undefined);
  assert.equal(fallbackTerminationMessage({ name: 'c' }, 2, log), undefined);
  writeFileSync(log, 'x'.repeat(5000));
  assert.equal(fallbackTerminationMessage(fallback, 1, log)?.length, 2048);
});
