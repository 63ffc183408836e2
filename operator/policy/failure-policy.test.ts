import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { PEER_TIMEOUT_MS } from '../../trainer/src/contract/index.ts';
import { DEFAULT_NODE_FAILURE_SECONDS } from '../constants.ts';
import { detectFailure, peerLostGraceLeft, PEER_LOST_GRACE_MS, type Failure, type GraceNodes } from './failure-policy.ts';
import { judgeNode, leaseReference, type NodeLookup, type NodeVerdict } from './node-health.ts';
import { reconcileJob } from './reconcile.ts';
import { NOW, jobObject, readyNode, stagePod, testEnv } from '../../test/support/operator-builders.ts';

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

/** Ready nodes node-0..2 whose Leases were renewed at the given times (ms since the epoch). */
function nodesRenewedAt(renewedAt: Record<string, number>): NodeLookup {
  const leases: k8s.V1Lease[] = Object.entries(renewedAt).map(([name, at]) => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime: new Date(at).toISOString() as unknown as Date } }));
  return { node: (name) => readyNode(name), lease: (name) => leases.find((l) => l.metadata?.name === name), leases: () => leases };
}

/** handleFailure's decision at `now` with the nodes' Leases judged as the reconcile judges them (default nodeFailureSeconds). */
function decideWithNodes(pods: (k8s.V1Pod | undefined)[], lookup: NodeLookup, now: number): { waitMs: number } | { blamed: Failure } | undefined {
  const reference = leaseReference(lookup, now);
  const nodes: GraceNodes = { verdict: (node) => judgeNode(node, lookup, reference, DEFAULT_NODE_FAILURE_SECONDS), nodeFailureSeconds: DEFAULT_NODE_FAILURE_SECONDS };
  const failure = detectFailure(pods, nodes.verdict);
  if (!failure) return undefined;
  const waitMs = peerLostGraceLeft(failure, pods, now, nodes);
  return waitMs > 0 ? { waitMs } : { blamed: failure };
}

// Node-1 stopped at NOW - 13 s, just after renewing its Lease: its neighbours heard nothing for the
// peer timeout and exited 3 at NOW - 3 s; the other nodes keep renewing (last 0.5 s before each look).
const STOPPED_AT = NOW - 13_000;
const neighboursLost = () => [endedPod(0, 3, STOPPED_AT + PEER_TIMEOUT_MS), stagePod(1, 'Ready'), endedPod(2, 3, STOPPED_AT + PEER_TIMEOUT_MS)];
const othersRenewing = (now: number) => ({ 'node-0': now - 500, 'node-1': STOPPED_AT, 'node-2': now - 500 });

test('a node that stopped: its neighbours\' PeerLost waits past the 3 s until the node\'s Lease expires, then the node is blamed and avoided', () => {
  assert.ok(PEER_TIMEOUT_MS + PEER_LOST_GRACE_MS < DEFAULT_NODE_FAILURE_SECONDS * 1000, 'the case: the grace alone ends before the Lease expires');
  // The 3 s are over; node-1's Lease is 12.5 s old: older than the peer timeout, not yet the 15 s.
  const atGraceEnd = decideWithNodes(neighboursLost(), nodesRenewedAt(othersRenewing(NOW)), NOW);
  assert.deepEqual(atGraceEnd, { waitMs: DEFAULT_NODE_FAILURE_SECONDS * 1000 - 12_500 + 100 }, 'until its Lease would expire');
  const expiredAt = NOW + 2_600;
  const decision = decideWithNodes(neighboursLost(), nodesRenewedAt(othersRenewing(expiredAt)), expiredAt);
  assert.ok(decision && 'blamed' in decision, JSON.stringify(decision));
  assert.equal(decision.blamed.reason, 'NodeLeaseExpired');
  assert.equal(decision.blamed.node, 'node-1');
  assert.equal(decision.blamed.stage, 1);
  assert.equal(decision.blamed.avoidNode, true);
  assert.equal(decision.blamed.failedAt, STOPPED_AT);
});

test('a node whose Lease is no older than the peer timeout extends nothing: the 3 s grace, then PeerLost', () => {
  const lookup = nodesRenewedAt({ 'node-0': NOW - 500, 'node-1': NOW - 500 - PEER_TIMEOUT_MS, 'node-2': NOW - 500 });
  const decision = decideWithNodes([endedPod(0, 3, NOW - PEER_LOST_GRACE_MS), stagePod(1, 'Ready'), stagePod(2, 'Ready')], lookup, NOW);
  assert.ok(decision && 'blamed' in decision, JSON.stringify(decision));
  assert.equal(decision.blamed.reason, 'PeerLost');
  // Renewed again inside the extension: alive after all; PeerLost once the 3 s are over.
  const renewed = decideWithNodes(neighboursLost(), nodesRenewedAt({ ...othersRenewing(NOW + 1_000), 'node-1': NOW + 900 }), NOW + 1_000);
  assert.equal(renewed && 'blamed' in renewed ? renewed.blamed.reason : renewed, 'PeerLost');
});

test('the extension is bounded: never past the first PeerLost exit + nodeFailureSeconds, whatever the verdict promises', () => {
  const since = NOW - 1_000;
  const nodes: GraceNodes = { verdict: (node) => (node === 'node-1' ? { leaseAgeMs: PEER_TIMEOUT_MS + 1, recheckInMs: 600_000 } : {}), nodeFailureSeconds: 15 };
  const pods = [endedPod(0, 3, since), stagePod(1, 'Ready'), endedPod(2, 3, since)];
  const failure = detectFailure(pods, nodes.verdict)!;
  assert.equal(peerLostGraceLeft(failure, pods, NOW, nodes), since + 15_000 + 100 - NOW);
  assert.equal(peerLostGraceLeft(failure, pods, since + 15_100, nodes), 0);
  assert.equal(peerLostGraceLeft(failure, pods, NOW, { ...nodes, verdict: () => ({ leaseAgeMs: PEER_TIMEOUT_MS, recheckInMs: 5_100 }) }), PEER_LOST_GRACE_MS - 1_000, 'exactly the peer timeout: not silent');
});

test('reconcile: a dead node\'s neighbours\' PeerLost restarts nothing until its Lease expires; then the restart names the node and avoids it', async () => {
  const leasesAt = (now: number) => Object.entries(othersRenewing(now)).map(([name, at]) => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime: new Date(at).toISOString() as unknown as Date } }));
  const env = testEnv({ leases: leasesAt(NOW) });
  const waiting = await reconcileJob(jobObject(), neighboursLost(), env);
  assert.equal(waiting.status.restarts, undefined);
  assert.deepEqual(env.actions.calls, []);
  assert.equal(waiting.requeueAfterMs, 2_600);
  const later = testEnv({ now: NOW + 2_600, leases: leasesAt(NOW + 2_600) });
  const blamed = await reconcileJob(jobObject(undefined, waiting.status), neighboursLost(), later);
  assert.equal(blamed.status.restarts, 1);
  assert.equal(blamed.status.lastFailure?.reason, 'NodeLeaseExpired');
  assert.equal(blamed.status.lastFailure?.node, 'node-1');
  assert.deepEqual(blamed.status.avoidNodes, ['node-1']);
  assert.ok(later.actions.calls.includes('delete pod tiny-stage-1 force'), later.actions.calls.join('\n'));
});
