import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { FakeClock } from './clock.ts';
import { LeaderElector, microTime, type LeaseClient } from './leader-election.ts';

/** An in-memory Lease with optimistic concurrency, shared by the candidates. */
function fakeLeaseStore(): { client: LeaseClient; lease(): k8s.V1Lease | undefined; failing: { on: boolean } } {
  let stored: k8s.V1Lease | undefined;
  let version = 0;
  const failing = { on: false };
  const conflict = () => Object.assign(new Error('conflict'), { code: 409 });
  const client: LeaseClient = {
    get: () => (failing.on ? Promise.reject(new Error('api down')) : Promise.resolve(stored && structuredClone(stored))),
    create: (lease) => {
      if (failing.on) return Promise.reject(new Error('api down'));
      if (stored) return Promise.reject(conflict());
      stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++version) } };
      return Promise.resolve(stored);
    },
    replace: (lease) => {
      if (failing.on) return Promise.reject(new Error('api down'));
      if (lease.metadata?.resourceVersion !== stored?.metadata?.resourceVersion) return Promise.reject(conflict());
      stored = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++version) } };
      return Promise.resolve(stored);
    },
  };
  return { client, lease: () => stored, failing };
}

function candidate(identity: string, client: LeaseClient, clock: FakeClock) {
  const events: string[] = [];
  const elector = new LeaderElector({
    client,
    identity,
    name: 'pipetrain-operator',
    namespace: 'sys',
    clock,
    onStartedLeading: () => events.push('start'),
    onStoppedLeading: () => events.push('stop'),
  });
  return { elector, events };
}

/** Advances the fake clock in small steps, letting the async ticks settle in between. */
async function run(clock: FakeClock, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
}

test('the first candidate leads, the second waits; stopping the leader hands over at once', async () => {
  const clock = new FakeClock();
  const store = fakeLeaseStore();
  const a = candidate('a', store.client, clock);
  const b = candidate('b', store.client, clock);
  await a.elector.tick();
  await b.elector.tick();
  assert.equal(a.elector.isLeader(), true);
  assert.equal(b.elector.isLeader(), false);
  await run(clock, 30_000);
  assert.equal(b.elector.isLeader(), false, 'a keeps renewing, so b never takes over');
  assert.equal(store.lease()?.spec?.holderIdentity, 'a');

  await a.elector.stop();
  assert.deepEqual(a.events, ['start', 'stop']);
  await run(clock, 3_000);
  assert.equal(b.elector.isLeader(), true, 'released lease (1 s) is taken within a retry or two');
  assert.equal(store.lease()?.spec?.leaseTransitions, 1);
});

test('a leader that dies silently is replaced after the lease duration, not before', async () => {
  const clock = new FakeClock();
  const store = fakeLeaseStore();
  const a = candidate('a', store.client, clock);
  const b = candidate('b', store.client, clock);
  await a.elector.tick();
  b.elector.start();
  await run(clock, 1000);
  // a "crashes": no more ticks, no release.
  a.elector['stopped'] = true;
  await run(clock, 12_000);
  assert.equal(b.elector.isLeader(), false, 'still within 15 s of the last renewal b saw');
  await run(clock, 6_000);
  assert.equal(b.elector.isLeader(), true);
  assert.equal(store.lease()?.spec?.holderIdentity, 'b');
  await b.elector.stop();
});

test('a leader that cannot renew for the renew deadline stops leading', async () => {
  const clock = new FakeClock();
  const store = fakeLeaseStore();
  const a = candidate('a', store.client, clock);
  a.elector.start();
  await run(clock, 1000);
  assert.equal(a.elector.isLeader(), true);
  store.failing.on = true;
  await run(clock, 8_000);
  assert.equal(a.elector.isLeader(), true, 'within the 10 s renew deadline');
  await run(clock, 4_000);
  assert.equal(a.elector.isLeader(), false);
  assert.deepEqual(a.events, ['start', 'stop']);
  store.failing.on = false;
  await run(clock, 3_000);
  assert.equal(a.elector.isLeader(), true, 'campaigns again once the API answers');
  await a.elector.stop();
});

test('lease times are MicroTime: six fractional digits', () => {
  assert.equal(microTime(Date.UTC(2026, 10, 29, 8, 41, 2, 123)), '2026-11-29T08:41:02.123000Z');
});
