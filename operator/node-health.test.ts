import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeNode } from './node-health.ts';
import { NOW, nodeLease, readyNode } from './test-builders.ts';

const lookup = (nodes = [readyNode('n')], leases = [nodeLease('n', 1000)]) => ({
  node: (name: string) => nodes.find((n) => n.metadata?.name === name),
  lease: (name: string) => leases.find((l) => l.metadata?.name === name),
});

test('a node with a fresh lease is fine and is re-checked when the lease would expire', () => {
  assert.deepEqual(judgeNode('n', lookup(), NOW, 15), { recheckInMs: 14_100 });
});

test('gone, NotReady and expired-lease nodes are problems with the last heartbeat as failure time', () => {
  assert.equal(judgeNode('x', lookup(), NOW, 15).problem, 'NodeGone');
  assert.equal(judgeNode('n', lookup([readyNode('n', false)]), NOW, 15).problem, 'NodeNotReady');
  const expired = judgeNode('n', lookup(undefined, [nodeLease('n', 16_000)]), NOW, 15);
  assert.equal(expired.problem, 'NodeLeaseExpired');
  assert.equal(expired.failedAt, NOW - 16_000);
});

test('no lease: only the Ready condition counts', () => {
  assert.deepEqual(judgeNode('n', lookup(undefined, []), NOW, 15), {});
});
