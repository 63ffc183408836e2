import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCondition } from './conditions.ts';
import { reconcileJob } from './reconcile.ts';
import { NOW, jobObject, nodeLease, readyNode, stagePod, testEnv } from '../../test/support/operator-builders.ts';

test('a new job gets its Secret, Service and all stage pods at once, and Created', async () => {
  const env = testEnv();
  const draft = await reconcileJob(jobObject(), [], env);
  assert.deepEqual(env.actions.calls.sort(), [
    'create pod tiny-stage-0 attempt=0',
    'create pod tiny-stage-1 attempt=0',
    'create pod tiny-stage-2 attempt=0',
    'create secret tiny-token',
    'create service tiny',
  ]);
  assert.equal(getCondition(draft.status.conditions, 'Created')?.status, 'True');
  assert.equal(draft.status.phase, 'Pending');
  assert.equal(draft.status.stagesReady, '0/3');
  assert.deepEqual(draft.events.map((e) => e.reason), ['PodsCreated']);
});

test('all stages ready: Running, and nothing is created twice (level-triggered)', async () => {
  const env = testEnv();
  const pods = [0, 1, 2].map((i) => stagePod(i, 'Ready'));
  const first = await reconcileJob(jobObject(), pods, env);
  assert.equal(first.status.phase, 'Running');
  assert.deepEqual(env.actions.calls, ['create secret tiny-token', 'create service tiny']);
  env.actions.calls.length = 0;
  const again = await reconcileJob(jobObject(undefined, first.status), pods, env);
  assert.deepEqual(env.actions.calls, [], 'no API calls when nothing changed');
  assert.deepEqual(again.status, first.status);
  assert.deepEqual(again.events, []);
});

test('a stage that exits 1 → Restarting: every pod of the attempt deleted, restarts 1, lastFailure', async () => {
  const env = testEnv();
  const pods = [stagePod(0, 'Ready'), stagePod(1, { exit: 1 }), stagePod(2, { exit: 3 })];
  const draft = await reconcileJob(jobObject(), pods, env);
  assert.equal(draft.status.phase, 'Restarting');
  assert.equal(draft.status.restarts, 1);
  assert.equal(draft.status.lastFailure?.stage, 1, 'the real failure, not the neighbour that lost its peer');
  assert.equal(draft.status.lastFailure?.reason, 'StageFailed');
  assert.equal(draft.status.lastFailure?.exitCode, 1);
  assert.ok(env.actions.calls.includes('delete pod tiny-stage-0'));
  assert.equal(draft.observations.restartReason, undefined, 'counted when the restart happens, with its final reason');
  assert.equal(draft.observations.detectionSeconds, 1);
  assert.equal(draft.requeueAfterMs, 1000);
});

test('next attempt: old pods removed first, then created after the back-off with the new attempt label', async () => {
  const env = testEnv();
  const failed = await reconcileJob(jobObject(), [stagePod(0, 'Ready'), stagePod(1, { exit: 1 }), stagePod(2, 'Ready')], env);
  env.actions.calls.length = 0;
  const stale = [stagePod(0, 'Deleting')];
  await reconcileJob(jobObject(undefined, failed.status), stale, env);
  assert.deepEqual(env.actions.calls, [], 'waits for the old pod (already deleting on a healthy node)');
  const waiting = await reconcileJob(jobObject(undefined, failed.status), [], env);
  assert.equal(waiting.requeueAfterMs, 1000, 'still inside the 1 s back-off');
  const later = { ...testEnv({ now: NOW + 1500 }) };
  const restarted = await reconcileJob(jobObject(undefined, failed.status), [], later);
  assert.ok(later.actions.calls.includes('create pod tiny-stage-1 attempt=1'));
  assert.equal(restarted.observations.restartReason, 'StageFailed', 'the restart counts as it happens');
});

test('exit code 2 (invalid job) fails the job without a restart', async () => {
  const env = testEnv();
  const draft = await reconcileJob(jobObject(), [stagePod(0, 'Ready'), stagePod(1, { exit: 2 }), stagePod(2, 'Ready')], env);
  assert.equal(draft.status.phase, 'Failed');
  assert.equal(getCondition(draft.status.conditions, 'Failed')?.reason, 'InvalidJob');
  assert.equal(draft.status.restarts ?? 0, 0);
  assert.deepEqual(env.actions.calls.filter((c) => c.startsWith('delete')).sort(), ['delete pod tiny-stage-0', 'delete pod tiny-stage-2']);
});

test('maxRestarts spent → Failed with MaxRestartsReached', async () => {
  const job = jobObject((s) => (s.failurePolicy = { maxRestarts: 1 }), { restarts: 1 });
  const draft = await reconcileJob(job, [stagePod(0, { exit: 1 }, { attempt: 1 }), stagePod(1, 'Ready', { attempt: 1 }), stagePod(2, 'Ready', { attempt: 1 })], testEnv());
  assert.equal(getCondition(draft.status.conditions, 'Failed')?.reason, 'MaxRestartsReached');
  assert.deepEqual(draft.status.stages?.map((s) => s.state), ['Failed', 'Terminating', 'Terminating'], 'the stages it stops are not Running');
  // The stopped pods are gone; the failed one stays for its logs.
  const later = await reconcileJob(jobObject((s) => (s.failurePolicy = { maxRestarts: 1 }), draft.status), [stagePod(0, { exit: 1 }, { attempt: 1 })], testEnv());
  assert.deepEqual(later.status.stages?.map((s) => s.state), ['Failed', 'Missing', 'Missing']);
});

test('a stage on a node whose Lease expired → restart with force deletion, and the node is avoided', async () => {
  const env = testEnv({ leases: [nodeLease('node-1', 20_000), nodeLease('node-0', 1000), nodeLease('node-2', 1000)] });
  const pods = [0, 1, 2].map((i) => stagePod(i, 'Ready'));
  const draft = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 15 })), pods, env);
  assert.equal(draft.status.lastFailure?.reason, 'NodeLeaseExpired');
  assert.equal(draft.status.lastFailure?.node, 'node-1');
  assert.deepEqual(draft.status.avoidNodes, ['node-1']);
  assert.ok(env.actions.calls.includes('delete pod tiny-stage-1 force'));
  assert.ok(env.actions.calls.includes('delete pod tiny-stage-0'));
  assert.equal(draft.observations.detectionSeconds, 20);
});

test('NotReady node → NodeNotReady restart', async () => {
  const env = testEnv({ nodes: [readyNode('node-0'), readyNode('node-1', false), readyNode('node-2')] });
  const draft = await reconcileJob(jobObject(), [0, 1, 2].map((i) => stagePod(i, 'Ready')), env);
  assert.equal(draft.status.lastFailure?.reason, 'NodeNotReady');
});

test('a healthy lease schedules a re-check when it would expire', async () => {
  // Ages count from the newest renewal (node-0's): node-1 and node-2 are 4 s behind it.
  const env = testEnv({ leases: [nodeLease('node-0', 1000), nodeLease('node-1', 5000), nodeLease('node-2', 5000)] });
  const draft = await reconcileJob(jobObject((s) => (s.failurePolicy = { nodeFailureSeconds: 15 })), [0, 1, 2].map((i) => stagePod(i, 'Ready')), env);
  assert.equal(draft.requeueAfterMs, 11_100);
});

test('all stages exit 0 → Succeeded at the last step; the next pass deletes the pods', async () => {
  const env = testEnv();
  const pods = [0, 1, 2].map((i) => stagePod(i, { exit: 0 }));
  const draft = await reconcileJob(jobObject(undefined, { totalSteps: 12, step: 8 }), pods, env);
  assert.equal(draft.status.phase, 'Succeeded');
  assert.equal(draft.status.step, 12);
  const next = await reconcileJob(jobObject(undefined, draft.status), pods, env);
  assert.equal(next.status.phase, 'Succeeded');
  assert.equal(env.actions.calls.filter((c) => c.startsWith('delete pod')).length, 3);
});

test('a job the schema accepts but cannot run → InvalidSpec, no children', async () => {
  const env = testEnv();
  const draft = await reconcileJob(jobObject((s) => ((s.pipeline as Record<string, unknown>).microBatches = 3)), [], env);
  const failed = getCondition(draft.status.conditions, 'Failed');
  assert.equal(failed?.reason, 'InvalidSpec');
  assert.match(failed?.message ?? '', /batchSize/);
  assert.deepEqual(env.actions.calls, []);
});

test('suspend deletes the pods and sets Suspended; resume creates a new set', async () => {
  const env = testEnv();
  const pods = [0, 1, 2].map((i) => stagePod(i, 'Ready'));
  const suspended = await reconcileJob(jobObject((s) => (s.suspend = true)), pods, env);
  assert.equal(suspended.status.phase, 'Suspended');
  assert.equal(env.actions.calls.filter((c) => c.startsWith('delete pod')).length, 3);
  env.actions.calls.length = 0;
  const resumed = await reconcileJob(jobObject(undefined, suspended.status), [], env);
  assert.equal(getCondition(resumed.status.conditions, 'Suspended')?.status, 'False');
  assert.equal(env.actions.calls.filter((c) => c.startsWith('create pod')).length, 3);
});

test('activeDeadlineSeconds past → Failed DeadlineExceeded; TTL deletes the finished job', async () => {
  const start = new Date(NOW - 60_000).toISOString();
  const draft = await reconcileJob(jobObject((s) => (s.activeDeadlineSeconds = 30), { startTime: start }), [0, 1, 2].map((i) => stagePod(i, 'Ready')), testEnv());
  assert.equal(getCondition(draft.status.conditions, 'Failed')?.reason, 'DeadlineExceeded');
  const env = testEnv();
  await reconcileJob(jobObject((s) => (s.ttlSecondsAfterFinished = 10), { ...draft.status, completionTime: new Date(NOW - 11_000).toISOString() }), [], env);
  assert.deepEqual(env.actions.calls, ['delete job tiny']);
});

test('pods of another job with the same name (different uid) are ignored', async () => {
  const env = testEnv();
  await reconcileJob(jobObject(), [stagePod(0, 'Ready', { uid: 'old-uid' })], env);
  assert.equal(env.actions.calls.filter((c) => c.startsWith('create pod')).length, 3);
});

test('after a restart: recovered when all stages run, training again when every stage is past the resumed checkpoint', async () => {
  const onClaim = (s: Record<string, unknown>) => (s.checkpoint = { path: '/ckpt', volumeClaimTemplate: { storage: '1Gi' } });
  const failedAt = jobObject(onClaim, { step: 30, lastCheckpoint: { step: 20 } });
  const failed = await reconcileJob(failedAt, [stagePod(0, 'Ready'), stagePod(1, { exit: 1 }), stagePod(2, 'Ready')], testEnv());
  assert.equal(failed.status.lastFailure?.stepAtFailure, 30);
  assert.equal(failed.status.lastFailure?.lostSteps, undefined, 'the polled step lags; the next attempt reports the exact count');
  assert.equal(failed.observations.lostSteps, undefined);
  const pods = [0, 1, 2].map((i) => stagePod(i, 'Ready', { attempt: 1 }));
  // The stages that had trained 33 steps before the failure (the poll saw 30) train 13 again.
  const report = (stageSteps: (number | undefined)[]) => ({ attempt: 1, stageSteps, step: Math.min(...stageSteps.map((s) => s ?? 0)), recomputedSteps: 13, readAt: NOW });
  // Running again 4 s after the detection; the stages report the checkpoint's step (not yet past it).
  const running = await reconcileJob(jobObject(onClaim, failed.status), pods, { ...testEnv({ now: NOW + 4000 }), progress: () => report([20, 20, undefined]) });
  assert.equal(running.status.lastFailure?.lostSteps, 13);
  assert.equal(running.observations.lostSteps, 13);
  assert.ok(running.status.lastFailure?.recoveredAt);
  assert.equal(running.observations.recoverySeconds, 4);
  assert.equal(running.status.lastFailure?.trainingAt, undefined);
  assert.equal(running.observations.trainingAgainSeconds, undefined);
  const training = await reconcileJob(jobObject(onClaim, running.status), pods, { ...testEnv({ now: NOW + 6000 }), progress: () => report([22, 21, 21]) });
  assert.equal(training.status.lastFailure?.trainingAt, new Date(NOW + 6000).toISOString());
  assert.equal(training.observations.trainingAgainSeconds, 6);
  const later = await reconcileJob(jobObject(onClaim, training.status), pods, { ...testEnv({ now: NOW + 9000 }), progress: () => report([25, 24, 24]) });
  assert.equal(later.observations.trainingAgainSeconds, undefined, 'observed once');
  assert.equal(later.observations.lostSteps, undefined, 'counted once');
  assert.equal(later.status.lastFailure?.lostSteps, 13);
});

test('checkpoints outside a claim are lost with the pods: not a resume point, so every step counts as lost', async () => {
  const noClaim = (s: Record<string, unknown>) => (s.checkpoint = { path: '/ckpt' });
  const pods = [0, 1, 2].map((i) => stagePod(i, 'Ready'));
  const progress = () => ({ attempt: 0, stageSteps: [30, 30, 30], step: 30, checkpointStep: 20, readAt: NOW });
  const running = await reconcileJob(jobObject(noClaim), pods, { ...testEnv(), progress });
  assert.equal(running.status.step, 30);
  assert.equal(running.status.lastCheckpoint, undefined);
  const failed = await reconcileJob(jobObject(noClaim, running.status), [stagePod(0, 'Ready'), stagePod(1, { exit: 1 }), stagePod(2, 'Ready')], { ...testEnv(), progress });
  assert.equal(failed.status.lastFailure?.lostSteps, 30);
});

test('partitionPolicy "profile" falls back to parameter counts in the operator, with an event saying so', async () => {
  const draft = await reconcileJob(jobObject((s) => ((s.pipeline as Record<string, unknown>).partitionPolicy = 'profile')), [], testEnv());
  const note = draft.events.find((e) => e.reason === 'PartitionFallback');
  assert.match(note?.message ?? '', /balanced by parameter count: partitionPolicy "profile" needs TensorFlow.js/);
  assert.notEqual(draft.status.phase, 'Failed');
});

test('a stage whose image cannot be pulled: Running False ImagePullFailed naming the image, one event per stage and image', async () => {
  const env = testEnv();
  const pulling = (reason: string): ReturnType<typeof stagePod> => {
    const pod = stagePod(1, 'Pending');
    pod.spec!.containers[0]!.image = 'registry.invalid/pipetrain:9';
    pod.status = { phase: 'Pending', containerStatuses: [{ name: 'stage', ready: false, restartCount: 0, image: 'registry.invalid/pipetrain:9', imageID: '', state: { waiting: { reason, message: 'not found' } } }] };
    return pod;
  };
  const first = await reconcileJob(jobObject(), [stagePod(0, 'Ready'), pulling('ErrImagePull'), stagePod(2, 'Ready')], env);
  const running = getCondition(first.status.conditions, 'Running');
  assert.equal(running?.status, 'False');
  assert.equal(running?.reason, 'ImagePullFailed');
  assert.equal(running?.message, 'stage 1 (pod tiny-stage-1) cannot pull image "registry.invalid/pipetrain:9": ErrImagePull: not found');
  assert.equal(first.status.phase, 'Pending');
  assert.deepEqual(first.events.map((e) => [e.type, e.reason, e.message]), [['Warning', 'ImagePullFailed', running?.message]]);
  // The kubelet backs off and retries: the condition follows, but the event is not repeated.
  const again = await reconcileJob(jobObject(undefined, first.status), [stagePod(0, 'Ready'), pulling('ImagePullBackOff'), stagePod(2, 'Ready')], env);
  assert.match(getCondition(again.status.conditions, 'Running')?.message ?? '', /ImagePullBackOff: not found$/);
  assert.deepEqual(again.events, []);
});

test('a job that resumes an earlier same-named job\'s final checkpoint: Succeeded says so, with the final step and loss', async () => {
  const onClaim = (s: Record<string, unknown>) => (s.checkpoint = { path: '/ckpt', volumeClaimTemplate: { storage: '1Gi' } });
  const job = jobObject(onClaim);
  job.metadata.creationTimestamp = new Date(NOW - 5000);
  const written = new Date(NOW - 3_600_000).toISOString();
  // The stages resumed from step 420 of 420 and report the loss the earlier run recorded there.
  const progress = () => ({ attempt: 0, stageSteps: [420, 420, 420], step: 420, totalSteps: 420, loss: 0.25, resumedFrom: 420, resumedCheckpointAt: written, readAt: NOW });
  const draft = await reconcileJob(job, [0, 1, 2].map((i) => stagePod(i, { exit: 0 })), { ...testEnv(), progress });
  assert.equal(draft.status.phase, 'Succeeded');
  assert.equal(draft.status.step, 420);
  assert.equal(draft.status.loss, '0.25000');
  const expected = `Nothing left to train: resumed from step 420, written by an earlier job of this name at ${written}; final step 420, loss 0.25000`;
  assert.equal(getCondition(draft.status.conditions, 'Succeeded')?.message, expected);
  assert.deepEqual(draft.events.map((e) => e.message), [expected]);
});

test('applied again within the second of the earlier job\'s last commit: still said to be the earlier job\'s (creationTimestamp has whole seconds)', async () => {
  const onClaim = (s: Record<string, unknown>) => (s.checkpoint = { path: '/ckpt', volumeClaimTemplate: { storage: '1Gi' } });
  const job = jobObject(onClaim);
  const second = Math.floor((NOW - 5000) / 1000) * 1000;
  job.metadata.creationTimestamp = new Date(second);
  const written = new Date(second + 400).toISOString();
  const progress = () => ({ attempt: 0, stageSteps: [60, 60, 60], step: 60, totalSteps: 60, loss: 0.5, resumedFrom: 60, resumedCheckpointAt: written, readAt: NOW });
  const draft = await reconcileJob(job, [0, 1, 2].map((i) => stagePod(i, { exit: 0 })), { ...testEnv(), progress });
  assert.match(getCondition(draft.status.conditions, 'Succeeded')?.message ?? '', /written by an earlier job of this name at /);
});

test('a job that trained from scratch: the final step and loss, nothing about a resume', async () => {
  const progress = () => ({ attempt: 0, stageSteps: [12, 12, 12], step: 12, totalSteps: 12, loss: 1.5, readAt: NOW });
  const draft = await reconcileJob(jobObject(), [0, 1, 2].map((i) => stagePod(i, { exit: 0 })), { ...testEnv(), progress });
  assert.deepEqual(draft.events.map((e) => e.message), ['Training finished: final step 12, loss 1.5000']);
});
