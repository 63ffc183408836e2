import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { detectFailure, peerLostGraceLeft, PEER_LOST_GRACE_MS, type Failure } from './failure-policy.ts';
import type { NodeVerdict } from './node-health.ts';
import { reconcileJob } from './reconcile.ts';
import { NOW, jobObject, stagePod, testEnv } from '../../test/support/operator-builders.ts';

const healthy = (): NodeVerdict => ({});

/** A stage pod that ended with `exit` at `endedAt` (ms since the epoch, as its kubelet dated it). */
function endedPod(stage: number, exit: number, endedAt: number): k8s.V1Pod {
  const pod = stagePod(stage, { exit });
  pod.status!.containerStatuses![0]!.state!.terminated!.finishedAt = new Date(endedAt);
  return pod;
}

/** The decision handleFailure takes, at `now`: wait (ms) or blame. */
function decide(pods: (k8s.V1Pod | undefined)[], now: number): { waitMs: number } | { blamed: Failure } | undefined {
  const failure = detectFailure(pods, healthy);
  if (!failure) return undefined;
  const waitMs = peerLostGraceLeft(failure, pods, now);
  return waitMs > 0 ? { waitMs } : { blamed: failure };
}

test('only neighbours lost a peer that still runs: wait for its failure, measured from the first PeerLost exit', () => {
  const pods = [endedPod(0, 3, NOW - 500), stagePod(1, 'Ready'), endedPod(2, 3, NOW - 1000)];
  assert.deepEqual(decide(pods, NOW), { waitMs: PEER_LOST_GRACE_MS - 1000 });
  assert.deepEqual(decide(pods, NOW + 1999), { waitMs: 1 });
});

test('the lost stage\'s own failure arrives inside the grace: it is blamed, not the neighbours', () => {
  const pods = [endedPod(0, 3, NOW - 1000), endedPod(1, 137, NOW - 1000), endedPod(2, 3, NOW - 1000)];
  const decision = decide(pods, NOW);
  assert.ok(decision && 'blamed' in decision, JSON.stringify(decision));
  assert.equal(decision.blamed.stage, 1);
  assert.equal(decision.blamed.reason, 'StageFailed');
  assert.equal(decision.blamed.exitCode, 137);
});

test('after the grace, a PeerLost neighbour is blamed as before', () => {
  const pods = [endedPod(0, 3, NOW - 1000), stagePod(1, 'Running'), stagePod(2, 'Ready')];
  const decision = decide(pods, NOW - 1000 + PEER_LOST_GRACE_MS);
  assert.ok(decision && 'blamed' in decision, JSON.stringify(decision));
  assert.equal(decision.blamed.reason, 'PeerLost');
  assert.equal(decision.blamed.stage, 0);
});

test('no wait when every stage has ended (nobody else can report) or the failure is not PeerLost', () => {
  assert.ok('blamed' in (decide([endedPod(0, 3, NOW), endedPod(1, 3, NOW), endedPod(2, 3, NOW)], NOW) ?? {}));
  assert.ok('blamed' in (decide([stagePod(0, 'Ready'), endedPod(1, 1, NOW), stagePod(2, 'Ready')], NOW) ?? {}));
  const deleting = [endedPod(0, 3, NOW), stagePod(1, 'Deleting'), endedPod(2, 3, NOW)];
  assert.equal((decide(deleting, NOW) as { blamed: Failure }).blamed.reason, 'PodDeleted', 'a pod being deleted is the cause itself');
});

test('a node clock ahead of the operator\'s stretches the wait by its skew, not more: never counted from later than now', () => {
  const pods = [endedPod(0, 3, NOW + 10_000), stagePod(1, 'Ready'), stagePod(2, 'Ready')];
  assert.deepEqual(decide(pods, NOW), { waitMs: PEER_LOST_GRACE_MS });
  assert.ok(PEER_LOST_GRACE_MS <= 3_000, 'the brief: at most 3 s');
});

test('reconcile: a PeerLost seen first changes nothing and re-checks at the end of the grace; the cause seen next is blamed', async () => {
  const env = testEnv();
  const job = jobObject();
  const lost = [endedPod(0, 3, NOW - 1000), endedPod(2, 3, NOW - 1000)] as const;
  const waiting = await reconcileJob(job, [lost[0], stagePod(1, 'Ready'), lost[1]], env);
  assert.equal(waiting.status.restarts, undefined);
  assert.equal(waiting.status.lastFailure, undefined);
  assert.deepEqual(waiting.events, []);
  assert.deepEqual(env.actions.calls, [], 'no pod deleted, none created');
  assert.equal(waiting.requeueAfterMs, PEER_LOST_GRACE_MS - 1000);
  const later = testEnv({ now: NOW + 500 });
  const blamed = await reconcileJob(jobObject(undefined, waiting.status), [lost[0], endedPod(1, 137, NOW - 1000), lost[1]], later);
  assert.equal(blamed.status.restarts, 1);
  assert.equal(blamed.status.lastFailure?.stage, 1);
  assert.equal(blamed.status.lastFailure?.reason, 'StageFailed');
  assert.deepEqual(blamed.events.map((e) => e.reason), ['StageFailed']);
});
