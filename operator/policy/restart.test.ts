import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconcileJob } from './reconcile.ts';
import { createOperatorMetrics } from '../metrics.ts';
import { PEER_LOST_GRACE_MS } from './failure-policy.ts';
import { NOW, jobObject, nodeLease, stagePod, testEnv } from '../../test/support/operator-builders.ts';

test('a restart blamed on PeerLost whose stale pod sits on a node that then dies: the node is avoided and named in lastFailure', async () => {
  // The node of stage 1 died: its process is gone, so the neighbours exited 3 before its Lease expired.
  // Seen after the grace in which PeerLost waits for the real cause (the exits are 1 s old at NOW).
  const fresh = testEnv({ now: NOW + PEER_LOST_GRACE_MS, leases: [0, 1, 2].map((i) => nodeLease(`node-${i}`, 1000)) });
  const job = jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 }));
  const failed = await reconcileJob(job, [stagePod(0, { exit: 3 }), stagePod(1, 'Ready'), stagePod(2, { exit: 3 })], fresh);
  assert.equal(failed.status.lastFailure?.reason, 'PeerLost');
  assert.equal(failed.status.avoidNodes, undefined, 'nothing known about node-1 yet');
  // Stage 1's pod of attempt 0 still waits for its deletion; the Lease of node-1 is now stale.
  const dead = testEnv({ leases: [nodeLease('node-0', 1000), nodeLease('node-1', 8000), nodeLease('node-2', 1000)] });
  const waiting = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 }), failed.status), [stagePod(1, 'Deleting')], dead);
  assert.deepEqual(waiting.status.avoidNodes, ['node-1']);
  assert.equal(waiting.status.lastFailure?.reason, 'NodeLeaseExpired');
  assert.equal(waiting.status.lastFailure?.node, 'node-1');
  assert.equal(waiting.status.lastFailure?.stage, 1);
  assert.equal(waiting.status.lastFailure?.detectedAt, failed.status.lastFailure?.detectedAt, 'the restart was detected at the first failure');
  assert.equal(waiting.status.restarts, 1, 'no second restart');
  assert.equal(dead.actions.calls.length, 0, 'the pod is deleted only once the cached job avoids the node');
  const next = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 }), waiting.status), [stagePod(1, 'Deleting')], dead);
  assert.ok(dead.actions.calls.includes('delete pod tiny-stage-1 force'));
  assert.deepEqual(next.status, waiting.status, 'nothing more to change');
  // The restart itself (the next attempt's pods) counts for the reason status names, as the operator's metrics show it.
  const metrics = createOperatorMetrics({ collectDefault: false });
  for (const draft of [failed, waiting, next]) metrics.observed({ namespace: 'default', job: 'tiny' }, draft.observations);
  const restarted = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 }), next.status), [], testEnv({ now: Date.parse(next.status.lastFailure!.detectedAt) + 60_000, leases: [nodeLease('node-0', 1000), nodeLease('node-2', 1000)] }));
  metrics.observed({ namespace: 'default', job: 'tiny' }, restarted.observations);
  const text = await metrics.registry.metrics();
  assert.match(text, /^pipetrain_restarts_total\{namespace="default",job="tiny",reason="NodeLeaseExpired"\} 1$/m);
  assert.match(text, /^pipetrain_restarts_total\{namespace="default",job="tiny",reason="PeerLost"\} 0$/m);
});

test('a stale pod on a healthy node changes nothing', async () => {
  const env = testEnv({ leases: [0, 1, 2].map((i) => nodeLease(`node-${i}`, 1000)) });
  const failed = await reconcileJob(jobObject(), [stagePod(0, { exit: 3 }), stagePod(1, { exit: 1 }), stagePod(2, { exit: 3 })], env);
  const waiting = await reconcileJob(jobObject(undefined, failed.status), [stagePod(1, 'Deleting')], env);
  assert.equal(waiting.status.avoidNodes, undefined);
  assert.deepEqual(waiting.status.lastFailure, failed.status.lastFailure);
});

test('a stale pod whose end its node reported does not get that node blamed, even when the node looks late too', async () => {
  const env = testEnv({ now: NOW + PEER_LOST_GRACE_MS, leases: [0, 1, 2].map((i) => nodeLease(`node-${i}`, 1000)) });
  const failed = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 })), [stagePod(0, { exit: 3 }), stagePod(1, 'Ready'), stagePod(2, { exit: 3 })], env);
  assert.equal(failed.status.lastFailure?.reason, 'PeerLost');
  // node-0 reported stage 0's exit, then fell behind even longer than node-1 (stage 1, never reported).
  const late = testEnv({ leases: [nodeLease('node-0', 9000), nodeLease('node-1', 7000), nodeLease('node-2', 0)] });
  const stale = [stagePod(0, { exit: 3 }), stagePod(1, 'Deleting')];
  const blamed = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 }), failed.status), stale, late);
  assert.deepEqual(blamed.status.avoidNodes, ['node-1']);
  assert.equal(blamed.status.lastFailure?.node, 'node-1');
  // Only node-0 looks late, and its pod's exit was reported: nobody is blamed, the stale pods go.
  const onlyReported = testEnv({ leases: [nodeLease('node-0', 7000), nodeLease('node-1', 0), nodeLease('node-2', 0)] });
  const kept = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 5 }), failed.status), [stagePod(0, { exit: 3 })], onlyReported);
  assert.equal(kept.status.avoidNodes, undefined);
  assert.equal(kept.status.lastFailure?.reason, 'PeerLost');
  assert.ok(onlyReported.actions.calls.includes('delete pod tiny-stage-0 force'), 'its deletion is still forced: the node may not confirm it');
});
