// End to end on the real control plane (test/cluster): the operator's own life cycle and the job's.
// Two replicas with leader election (one acts, the other takes over), suspend / resume from the
// checkpoint, and the TTL after a job finished. Each test runs its own operator(s), scoped to its
// namespace, so they never act on another test's jobs.
import assert from 'node:assert/strict';
import type { ClusterClient } from '../../cluster/control.ts';
import { useCluster } from '../../cluster/harness.ts';
import { statusCode, waitFor } from '../../cluster/util.ts';
import type { RunningOperator } from '../../../operator/main.ts';
import { checkpointedJob, claimCheckpoint, createJob, eventsWithReason, getJob, installCrd, isFinished, localDigest, patchJobSpec, stagePods, startOperator, tinyJob, waitForJob } from './helpers.ts';

const cluster = useCluster();
let crdInstalled = false;

async function ensureCrd(client: ClusterClient): Promise<void> {
  if (crdInstalled) return;
  await installCrd(client);
  crdInstalled = true;
}

async function stopAll(operators: (RunningOperator | undefined)[]): Promise<void> {
  await Promise.all(operators.map((o) => o?.stop().catch(() => undefined)));
}

/** The operator's leader Lease as the API server stores it (MicroTime strings as sent on the wire). */
async function readLease(client: ClusterClient, namespace: string): Promise<{ spec: { holderIdentity?: string; renewTime: string; acquireTime: string } }> {
  return JSON.parse(await client.kubectl(['get', 'lease', '-n', namespace, 'pipetrain-operator', '-o', 'json'])) as { spec: { holderIdentity?: string; renewTime: string; acquireTime: string } };
}

cluster.test('two replicas with leader election: exactly one acts; when the leader stops, the other takes over within the lease and the job succeeds', async ({ client, namespace, t }) => {
  await ensureCrd(client);
  const options = { namespace, leaderElect: true, leaseNamespace: namespace };
  const operators: RunningOperator[] = [];
  try {
    operators.push(...(await Promise.all([startOperator(client, { ...options, identity: 'op-a' }), startOperator(client, { ...options, identity: 'op-b' })])));
    const leader = await waitFor('a leader', () => operators.find((o) => o.isLeader()), 30_000);
    const standby = operators.find((o) => o !== leader)!;
    assert.equal(standby.isLeader(), false, 'only one replica leads');
    // The Lease on the real API server: the MicroTime fields were accepted and the holder is the leader.
    const raw = await readLease(client, namespace);
    assert.ok(['op-a', 'op-b'].includes(raw.spec.holderIdentity ?? ''), `holder ${raw.spec.holderIdentity}`);
    assert.match(raw.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(raw.spec.acquireTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const leaderIdentity = raw.spec.holderIdentity;

    await createJob(client, namespace, tinyJob('ha', (s) => ((s.training as Record<string, unknown>).steps = 300)));
    await waitForJob(client, namespace, 'ha', 'running', (j) => j.status?.phase === 'Running' || isFinished(j), 90_000);
    assert.equal(standby.isLeader(), false, 'the standby still does not lead');
    assert.equal((await stagePods(client, namespace, 'ha')).length, 3);
    assert.equal((await eventsWithReason(client, namespace, 'PodsCreated')).length, 1, 'one set of pods');

    const stoppedAt = Date.now();
    await leader.stop();
    operators.splice(operators.indexOf(leader), 1);
    await waitFor('the standby leads', () => standby.isLeader(), 20_000, 100);
    const takeover = Date.now() - stoppedAt;
    t.diagnostic(`the standby took over ${takeover} ms after the leader stopped`);
    assert.ok(takeover <= 15_000, `takeover within the 15 s lease: ${takeover} ms`);
    const after = await readLease(client, namespace);
    assert.notEqual(after.spec.holderIdentity, leaderIdentity);

    const done = await waitForJob(client, namespace, 'ha', 'finished', isFinished, 180_000);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
    assert.equal(done.status?.step, 300);
    if (done.status?.restarts) t.diagnostic(`restarted ${done.status.restarts}x: ${done.status.lastFailure?.message ?? ''}`);
    assert.equal((await eventsWithReason(client, namespace, 'PodsCreated')).length, (done.status?.restarts ?? 0) + 1, 'pods were created once per attempt');
  } finally {
    await stopAll(operators);
  }
}, { timeout: 300_000 });

cluster.test('suspend deletes the stage pods and keeps the checkpoints; resume on fewer stages continues from the checkpoint to the digest of `pipetrain train`', async ({ client, namespace, t }) => {
  await ensureCrd(client);
  const operator = await startOperator(client, { namespace });
  try {
    // ~20 steps/s once the stages run: 1000 steps leave time to suspend after the first checkpoints (every 20 steps).
    const STEPS = 1000;
    const body = checkpointedJob('pause', STEPS);
    await createJob(client, namespace, body);
    const running = await waitForJob(client, namespace, 'pause', 'past its first checkpoints', (j) => (j.status?.step ?? 0) >= 60 || isFinished(j), 120_000);
    assert.ok(!isFinished(running), 'the job must still be training when it is suspended');
    await patchJobSpec(client, namespace, 'pause', { suspend: true });
    const suspended = await waitForJob(client, namespace, 'pause', 'Suspended', (j) => j.status?.conditions?.some((c) => c.type === 'Suspended' && c.status === 'True') ?? false, 60_000);
    assert.equal(suspended.status?.phase, 'Suspended');
    await waitFor('stage pods deleted', async () => (await stagePods(client, namespace, 'pause')).length === 0, 60_000);
    // The claim and its checkpoints stay.
    const kept = await claimCheckpoint(client, namespace, 'pause');
    assert.ok(kept && kept.step >= 20 && kept.step < STEPS, `checkpoint kept: ${JSON.stringify(kept)}`);
    assert.equal((await getJob(client, namespace, 'pause')).status?.phase, 'Suspended', 'stays suspended');
    t.diagnostic(`suspended with the checkpoint of step ${kept.step}`);

    // While suspended, the pipeline may be laid out anew: resume on 2 stages instead of 3. The
    // checkpoint is per layer, so the 2 stages load it and the weights still end bit for bit equal.
    await patchJobSpec(client, namespace, 'pause', { pipeline: { stages: 2 } });
    await patchJobSpec(client, namespace, 'pause', { suspend: false });
    await waitFor('2 stage pods of the resumed attempt', async () => (await stagePods(client, namespace, 'pause')).length === 2, 60_000);
    const done = await waitForJob(client, namespace, 'pause', 'finished', isFinished, 180_000);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
    assert.equal(done.status?.conditions?.find((c) => c.type === 'Suspended')?.status, 'False');
    assert.equal(done.status?.step, STEPS);
    assert.ok((await eventsWithReason(client, namespace, 'Resumed')).length >= 1, 'Resumed event');
    // The stages of the resumed attempt loaded the checkpoint instead of training from scratch.
    const resumed = /"message":"Resumed from checkpoint","[^\n]*"step":(\d+)/.exec(client.podLogs(namespace, 'pause-stage-0'));
    assert.ok(resumed, 'stage 0 resumed from a checkpoint');
    assert.ok(Number(resumed[1]) >= kept.step, `resumed at step ${resumed[1]}, kept ${kept.step}`);
    assert.ok((await eventsWithReason(client, namespace, 'PodsCreated')).length >= 2, 'a new set of pods after resume');
    const checkpoint = await claimCheckpoint(client, namespace, 'pause');
    assert.equal(checkpoint?.step, STEPS);
    assert.equal(checkpoint?.weightsSha256, await localDigest(body));
  } finally {
    await operator.stop();
  }
}, { timeout: 300_000 });

cluster.test('ttlSecondsAfterFinished: 1 deletes the job a second after it succeeded', async ({ client, namespace }) => {
  await ensureCrd(client);
  const operator = await startOperator(client, { namespace });
  try {
    await createJob(client, namespace, tinyJob('brief', (s) => (s.ttlSecondsAfterFinished = 1)));
    await waitFor(
      'the finished job deleted',
      async () => {
        try {
          await getJob(client, namespace, 'brief');
          return false;
        } catch (err) {
          if (statusCode(err) === 404) return true;
          throw err;
        }
      },
      120_000,
      250,
    );
    const ttl = await eventsWithReason(client, namespace, 'TTLExpired');
    assert.equal(ttl.length, 1, 'TTLExpired event');
    assert.equal((await eventsWithReason(client, namespace, 'AllStagesSucceeded')).length, 1, 'it succeeded first');
    await waitFor('stage pods gone', async () => (await stagePods(client, namespace, 'brief')).length === 0, 30_000);
  } finally {
    await operator.stop();
  }
}, { timeout: 180_000 });
