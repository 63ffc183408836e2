import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeNode, leaseReference, type NodeLookup } from './node-health.ts';
import { NOW, nodeLease, readyNode } from '../../test/support/operator-builders.ts';

// Node "other" renewed its Lease just now unless a test says otherwise.
const lookup = (nodes = [readyNode('n'), readyNode('other')], leases = [nodeLease('n', 1000), nodeLease('other', 0)]): NodeLookup => ({
  node: (name) => nodes.find((n) => n.metadata?.name === name),
  lease: (name) => leases.find((l) => l.metadata?.name === name),
  leases: () => leases,
});
const judge = (name: string, nodes: NodeLookup, seconds = 15) => judgeNode(name, nodes, leaseReference(nodes, NOW), seconds);

test('a node with a fresh lease is fine and is re-checked when the lease would expire', () => {
  assert.deepEqual(judge('n', lookup()), { recheckInMs: 14_100, leaseAgeMs: 1_000 });
});

test('gone, NotReady and expired-lease nodes are problems with the last heartbeat as failure time', () => {
  assert.equal(judge('x', lookup()).problem, 'NodeGone');
  assert.equal(judge('n', lookup([readyNode('n', false)])).problem, 'NodeNotReady');
  const expired = judge('n', lookup(undefined, [nodeLease('n', 16_000), nodeLease('other', 0)]));
  assert.equal(expired.problem, 'NodeLeaseExpired');
  assert.equal(expired.failedAt, NOW - 16_000);
});

test('Leases that all look old at once mean our watch lags, not that every node died', () => {
  // The operator was starved (or its watch stalled) for 30 s: no renewal of any node reached it.
  const lagging = lookup(undefined, [nodeLease('n', 31_000), nodeLease('other', 30_000)]);
  assert.deepEqual(judge('n', lagging), { recheckInMs: 14_100, leaseAgeMs: 1_000 });
  assert.deepEqual(judge('other', lagging), { recheckInMs: 15_100, leaseAgeMs: 0 });
  // The other node renews again: now n has fallen behind by more than the limit.
  assert.equal(judge('n', lookup(undefined, [nodeLease('n', 31_000), nodeLease('other', 0)])).problem, 'NodeLeaseExpired');
});

test('a node whose clock runs ahead makes no other node look dead', () => {
  // "other" writes renewal times 60 s in the future; n renewed 1 s ago by our clock.
  const skewed = lookup(undefined, [nodeLease('n', 1000), nodeLease('other', -60_000)]);
  assert.deepEqual(judge('n', skewed), { recheckInMs: 14_100, leaseAgeMs: 1_000 });
});

test('no lease: only the Ready condition counts', () => {
  assert.deepEqual(judge('n', lookup(undefined, [])), {});
});
