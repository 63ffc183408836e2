// What the user is told about a recovered job must be true: a 4-stage job on the test cluster,
// scraped by a real Prometheus (stage pods and the operator, the chart's alert rules loaded), loses a
// stage mid-run. Status, metrics, alerts and the stage logs must then tell the same story.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { useCluster } from '../../cluster/harness.ts';
import { waitFor } from '../../cluster/util.ts';
import { startPrometheus, type RunningPrometheus } from '../../support/prometheus.ts';
import { checkpointsStop, recordedSeries, replayAlert } from '../../support/alert-replay.ts';
import { checkpointedJob, createJob, getJob, isFinished, REPO, sharedOperator, stagePods, waitForJob } from './helpers.ts';

const cluster = useCluster();
const operator = sharedOperator();
const STAGES = 4;
const STEPS = 600;
const ALERTS = path.join(REPO, 'charts/pipetrain/files/alerts.yaml');

/** Scrape targets: the operator and every running stage pod (their IPs change with each attempt). */
async function followTargets(prometheus: RunningPrometheus, list: () => Promise<string[]>): Promise<() => void> {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      await prometheus.setTargets(await list().catch(() => [])).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  void loop();
  return () => (stopped = true);
}

/** The "Steps done before this run, trained again" line each stage of the new attempt logged. */
function recomputedFromLogs(logs: string): { resumedFrom: number; stepsDoneBefore: number; recomputedSteps: number } | undefined {
  for (const line of logs.split('\n')) {
    if (!line.includes('trained again')) continue;
    const entry = JSON.parse(line) as { resumedFrom: number; stepsDoneBefore: number; recomputedSteps: number };
    return { resumedFrom: entry.resumedFrom, stepsDoneBefore: entry.stepsDoneBefore, recomputedSteps: entry.recomputedSteps };
  }
  return undefined;
}

cluster.test('a 4-stage job loses a stage: lastCheckpoint, lostSteps, the restart reason and the alerts agree with what really happened', async ({ client, namespace, t }) => {
  const running = await operator.ensure(client);
  const name = 'told';
  await createJob(client, namespace, checkpointedJob(name, STEPS, (s) => {
    (s.pipeline as Record<string, unknown>).stages = STAGES;
    // Every commit record stays, so the one lastCheckpoint names can be read after the run.
    (s.checkpoint as Record<string, unknown>).keep = STEPS;
  }));
  const prometheus = await startPrometheus([], { honorLabels: true, dynamicTargets: true, ruleFiles: [ALERTS] });
  const stopFollowing = await followTargets(prometheus, async () => {
    const pods = (await stagePods(client, namespace, name)).filter((p) => p.status?.phase === 'Running' && p.status.podIP);
    return [`127.0.0.1:${running.metricsPort}`, ...pods.map((p) => `${p.status!.podIP}:9400`)];
  });
  try {
    // Every stage is scraped and a checkpoint is committed before the fault.
    await prometheus.waitFor(`pipetrain_step{job="${name}"} > 0`, (r) => r.length === STAGES, 90_000);
    const recordFrom = Date.now() / 1000;
    const before = await waitForJob(client, namespace, name, 'has a checkpoint', (j) => j.status?.lastCheckpoint !== undefined || isFinished(j), 90_000);
    assert.equal(before.status?.phase, 'Running', 'still training when the stage is killed');
    assert.ok(before.status?.lastCheckpoint, 'status.lastCheckpoint is set on a 4-stage job');
    await client.killPod(namespace, `${name}-stage-2`, 'SIGKILL');

    const done = await waitForJob(client, namespace, name, 'finished', isFinished, 240_000);
    const recordTo = Date.now() / 1000;
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
    if ((done.status?.restarts ?? 0) > 1) t.diagnostic(`restarted ${done.status?.restarts}x (a loaded machine): only the last failure is checked`);
    const failure = done.status?.lastFailure;
    assert.ok(failure?.recoveredAt, 'recovered');

    // lastCheckpoint: step and time from one commit record on the claim.
    const checkpoint = done.status?.lastCheckpoint;
    assert.ok(checkpoint?.time, 'lastCheckpoint has a time');
    const claimDir = await claimPath(client, namespace, name);
    const record = JSON.parse(await readFile(path.join(claimDir, `step-${String(checkpoint.step).padStart(9, '0')}`, 'COMMITTED.json'), 'utf8')) as { step: number; committedAt: string };
    assert.deepEqual({ step: checkpoint.step, time: checkpoint.time }, { step: record.step, time: record.committedAt });

    // lostSteps: what the stages of the new attempt logged they trained again (the slowest stage's count).
    const logged = Array.from({ length: STAGES }, (_, stage) => recomputedFromLogs(client.podLogs(namespace, `${name}-stage-${stage}`)));
    assert.ok(logged.every((l) => l !== undefined), `every stage logged its recomputed steps: ${JSON.stringify(logged)}`);
    const recomputed = Math.min(...logged.map((l) => l!.recomputedSteps));
    t.diagnostic(`stage logs: ${JSON.stringify(logged)}; status: stepAtFailure ${failure.stepAtFailure}, lostSteps ${failure.lostSteps}`);
    assert.equal(failure.lostSteps, recomputed);
    for (const l of logged) {
      assert.equal(l!.recomputedSteps, l!.stepsDoneBefore - l!.resumedFrom);
      // The operator polls /status, so the step it saw at the failure can only lag what was really done.
      assert.ok(l!.stepsDoneBefore >= (failure.stepAtFailure ?? 0), `${l!.stepsDoneBefore} >= ${failure.stepAtFailure}`);
      assert.ok(l!.resumedFrom > 0, 'resumed from a real checkpoint');
    }

    // The operator's metrics say the same.
    const lost = await prometheus.waitFor(`pipetrain_lost_steps_total{namespace="${namespace}",job="${name}"}`, (r) => r.length === 1 && Number(r[0]?.value?.[1]) > 0, 30_000);
    if (done.status?.restarts === 1) assert.equal(Number(lost[0]?.value?.[1]), failure.lostSteps);
    const reasons = await prometheus.query(`pipetrain_restarts_total{namespace="${namespace}",job="${name}"} > 0`);
    assert.deepEqual(reasons.map((r) => r.metric.reason), [failure.reason], 'the restart reason in metrics is the one in status');

    // Every stage exported its newest commit, and the stale-checkpoint alert never even went pending.
    const lastSteps = await prometheus.query(`max by (stage) (max_over_time(pipetrain_checkpoint_last_step{job="${name}"}[10m]))`);
    assert.deepEqual(lastSteps.map((r) => r.metric.stage).sort(), ['0', '1', '2', '3']);
    assert.deepEqual(await prometheus.query(`ALERTS{alertname="PipetrainCheckpointStale"}`), []);
    assert.deepEqual(await prometheus.query(`count_over_time(ALERTS{alertname="PipetrainCheckpointStale"}[10m])`), []);

    // The alert, fed the series this run exported: quiet while checkpoints are committed, firing once they stop.
    const recorded = await recordedSeries(prometheus, ['pipetrain_step', 'pipetrain_checkpoint_last_step', 'pipetrain_checkpoint_interval_steps'], ['job', 'stage'], `job="${name}"`, recordFrom, recordTo);
    assert.equal(recorded.filter((r) => r.series.startsWith('pipetrain_checkpoint_last_step')).length, STAGES, 'every stage exports its newest commit');
    const minutes = recorded[0]!.values.length;
    const stepsPerMinute = STEPS / minutes;
    // 3 intervals past the last commit, then the rule's `for: 10m`, then 2 minutes to spare.
    const firesAfter = Math.ceil((3 * 20 + 1) / stepsPerMinute) + 12;
    const quiet = Array.from({ length: Math.floor(minutes / 5) }, (_, i) => ({ evalMinute: (i + 1) * 5, firingStages: [] }));
    await replayAlert(ALERTS, 'PipetrainCheckpointStale', checkpointsStop(recorded, firesAfter + 1), [
      ...quiet,
      { evalMinute: minutes - 1, firingStages: [] },
      { evalMinute: minutes + firesAfter, firingStages: ['0', '1', '2', '3'] },
    ], { job: name });
    t.diagnostic(`alert replayed on ${minutes} recorded scrapes, then ${firesAfter + 1} without commits`);

    // The final stages are all Succeeded.
    assert.deepEqual((done.status?.stages ?? []).map((s) => s.state), Array(STAGES).fill('Succeeded'));
    await waitFor('stage pods cleaned up', async () => (await stagePods(client, namespace, name)).length === 0, 30_000);
    assert.equal((await getJob(client, namespace, name)).status?.phase, 'Succeeded');
  } finally {
    stopFollowing();
    await prometheus.stop();
  }
}, { timeout: 360_000 });

/** The host directory behind the job's checkpoint claim (the test cluster's PVs are host paths). */
async function claimPath(client: Parameters<typeof getJob>[0], namespace: string, job: string): Promise<string> {
  const claim = await client.core.readNamespacedPersistentVolumeClaim({ namespace, name: `${job}-checkpoints` });
  const volume = await client.core.readPersistentVolume({ name: claim.spec!.volumeName! });
  return volume.spec!.hostPath!.path!;
}

cluster.test('a job deleted and applied again resumes the kept claim: status and events say it resumed an earlier job\'s checkpoint with nothing left to train, with the final step and loss', async ({ client, namespace }) => {
  await operator.ensure(client);
  const name = 'again';
  const body = checkpointedJob(name, 60);
  await createJob(client, namespace, body);
  const first = await waitForJob(client, namespace, name, 'finished', isFinished, 120_000);
  assert.equal(first.status?.phase, 'Succeeded', JSON.stringify(first.status?.conditions));
  assert.equal(first.status?.step, 60);
  assert.ok(first.status?.loss, 'the final loss of the first job');
  await client.kubectl(['delete', '-n', namespace, 'pipelinejob', name, '--wait=true']);
  await waitFor('stage pods of the first job gone', async () => (await stagePods(client, namespace, name)).length === 0, 30_000);

  await createJob(client, namespace, checkpointedJob(name, 60));
  const again = await waitForJob(client, namespace, name, 'finished', isFinished, 120_000);
  assert.equal(again.status?.phase, 'Succeeded', JSON.stringify(again.status?.conditions));
  assert.equal(again.status?.step, 60, 'the final step');
  assert.equal(again.status?.loss, first.status?.loss, 'the loss the first job ended with');
  const message = again.status?.conditions?.find((c) => c.type === 'Succeeded')?.message ?? '';
  assert.match(message, /^Nothing left to train: resumed from step 60, written by an earlier job of this name at \d{4}-\d\d-\d\dT[\d:.]+Z; final step 60, loss /);
  const events = (await client.core.listNamespacedEvent({ namespace })).items.filter((e) => e.reason === 'AllStagesSucceeded' && e.involvedObject.uid === again.metadata.uid);
  assert.deepEqual(events.map((e) => e.message), [message]);
}, { timeout: 300_000 });
