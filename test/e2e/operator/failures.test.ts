// End to end on the real control plane (test/cluster): infrastructure faults under a training job.
// A stage's node dies (`stopNode`) or a stage pod is cut off the network (`partitionPod`): the
// operator notices, restarts the pipeline from the checkpoint and the job ends with the weights of
// an uninterrupted local run.
import assert from 'node:assert/strict';
import type { ClusterClient } from '../../cluster/control.ts';
import { useCluster } from '../../cluster/harness.ts';
import { sleep } from '../../cluster/util.ts';
import type { PipelineJobObject } from '../../../operator/policy/job.ts';
import { checkpointedJob, claimCheckpoint, createJob, getJob, isFinished, localDigest, sharedOperator, stagePods, waitForJob } from './helpers.ts';

const cluster = useCluster();
const operator = sharedOperator();

const STEPS = 400;

/** Waits until the job finishes; meanwhile records the node of every stage pod not in `oldUids`. */
async function finishWatchingNodes(client: ClusterClient, namespace: string, name: string, oldUids: Set<string>, timeoutMs: number): Promise<{ job: PipelineJobObject; newNodes: Set<string> }> {
  const newNodes = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const pod of await stagePods(client, namespace, name)) {
      if (pod.spec?.nodeName && !oldUids.has(pod.metadata?.uid ?? '')) newNodes.add(pod.spec.nodeName);
    }
    const job = await getJob(client, namespace, name);
    if (isFinished(job)) return { job, newNodes };
    if (Date.now() > deadline) throw new Error(`PipelineJob ${namespace}/${name} not finished after ${timeoutMs} ms: ${JSON.stringify(job.status)}`);
    await sleep(250);
  }
}

cluster.test('stopNode under a stage: the dead node is detected by its Lease, the pipeline restarts elsewhere and ends with the digest of `pipetrain train`', async ({ client, namespace, t }) => {
  const operatorHandle = await operator.ensure(client);
  const body = checkpointedJob('nodeloss', STEPS, (s) => (s.failurePolicy = { nodeFailureSeconds: 5 }));
  await createJob(client, namespace, body);
  const running = await waitForJob(client, namespace, 'nodeloss', 'training', (j) => (j.status?.phase === 'Running' && (j.status.step ?? 0) >= 2) || isFinished(j), 90_000);
  assert.equal(running.status?.phase, 'Running', 'the job must still be training when the node stops');
  const victim = running.status?.stages?.find((s) => s.stage === 1)?.node;
  assert.ok(victim, `stage 1 has a node: ${JSON.stringify(running.status?.stages)}`);
  const oldUids = new Set((await stagePods(client, namespace, 'nodeloss')).map((p) => p.metadata?.uid ?? ''));
  const stoppedAt = Date.now();
  await client.stopNode(victim);
  try {
    // The neighbours lose the dead stage at once (exit 3) and the restart starts; the dead node's pod
    // waits for its deletion until the node's Lease is stale (5 s): then the node is named and avoided.
    const NODE_REASONS = ['NodeLeaseExpired', 'NodeNotReady'];
    const blamed = await waitForJob(client, namespace, 'nodeloss', 'blames the stopped node', (j) => NODE_REASONS.includes(j.status?.lastFailure?.reason ?? '') || isFinished(j), 90_000);
    const failure = blamed.status?.lastFailure;
    t.diagnostic(`detected after ${Date.parse(failure?.detectedAt ?? '') - stoppedAt} ms, blamed on the node after ${Date.now() - stoppedAt} ms: ${JSON.stringify(failure)}`);
    assert.equal(failure?.node, victim, 'the failure names the stopped node');
    assert.ok(NODE_REASONS.includes(failure?.reason ?? ''), `reason ${failure?.reason}`);
    assert.equal(failure?.attempt, 0);
    assert.ok(failure?.detectedAt, 'detection time recorded');
    assert.ok((blamed.status?.avoidNodes ?? []).includes(victim), `avoidNodes ${JSON.stringify(blamed.status?.avoidNodes)}`);

    const { job: done, newNodes } = await finishWatchingNodes(client, namespace, 'nodeloss', oldUids, 180_000);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
    assert.ok(newNodes.size > 0, 'new stage pods were scheduled');
    assert.ok(!newNodes.has(victim), `no new stage pod on the stopped node ${victim}: ${[...newNodes].join(', ')}`);
    if ((done.status?.restarts ?? 0) > 1) t.diagnostic(`restarted ${done.status?.restarts}x: ${JSON.stringify(done.status?.lastFailure)}`);
    const last = done.status?.lastFailure;
    assert.ok(last?.detectedAt && last.recoveredAt, `detection and recovery recorded: ${JSON.stringify(last)}`);
    assert.ok(Date.parse(last.recoveredAt) >= Date.parse(last.detectedAt));
    assert.ok(last.trainingAt && Date.parse(last.trainingAt) >= Date.parse(last.recoveredAt), `training again recorded: ${JSON.stringify(last)}`);
    // The operator's per-job series tell the same story to Prometheus.
    const metrics = await (await fetch(`http://127.0.0.1:${operatorHandle.metricsPort}/metrics`)).text();
    const series = (name: string) => new RegExp(`^${name}\\{namespace="${namespace}",job="nodeloss"[^}]*\\} (\\S+)$`, 'gm');
    const restarts = [...metrics.matchAll(series('pipetrain_restarts_total'))].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(restarts, done.status?.restarts, 'pipetrain_restarts_total of the job');
    assert.ok([...metrics.matchAll(series('pipetrain_recovery_duration_seconds_count'))].length === 1, 'time to train again observed');
    assert.equal(done.status?.step, STEPS);
    const checkpoint = await claimCheckpoint(client, namespace, 'nodeloss');
    assert.equal(checkpoint?.step, STEPS);
    assert.equal(checkpoint?.weightsSha256, await localDigest(body));
  } finally {
    await client.startNode(victim);
  }
}, { timeout: 300_000 });

cluster.test('partitioning a stage pod: its neighbours lose it, the pipeline restarts and ends with the digest of `pipetrain train`', async ({ client, namespace, t }) => {
  await operator.ensure(client);
  const body = checkpointedJob('cutoff', STEPS);
  await createJob(client, namespace, body);
  const running = await waitForJob(client, namespace, 'cutoff', 'training', (j) => (j.status?.phase === 'Running' && (j.status.step ?? 0) >= 2) || isFinished(j), 90_000);
  assert.equal(running.status?.phase, 'Running', 'the job must still be training when the pod is cut off');
  const cutAt = Date.now();
  await client.partitionPod(namespace, 'cutoff-stage-1');
  try {
    const restarted = await waitForJob(client, namespace, 'cutoff', 'restarted', (j) => (j.status?.restarts ?? 0) >= 1, 90_000);
    const failure = restarted.status?.lastFailure;
    t.diagnostic(`detected after ${Date.parse(failure?.detectedAt ?? '') - cutAt} ms: ${JSON.stringify(failure)}`);
    assert.ok(failure?.reason, 'a failure is recorded');
  } finally {
    // The partitioned pod is normally deleted by the restart already.
    await client.healPod(namespace, 'cutoff-stage-1').catch(() => undefined);
  }
  const done = await waitForJob(client, namespace, 'cutoff', 'finished', isFinished, 180_000);
  assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
  assert.ok(done.status?.lastFailure?.recoveredAt, 'recovery time recorded');
  assert.equal(done.status?.step, STEPS);
  const checkpoint = await claimCheckpoint(client, namespace, 'cutoff');
  assert.equal(checkpoint?.step, STEPS);
  assert.equal(checkpoint?.weightsSha256, await localDigest(body));
}, { timeout: 300_000 });
