import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { PipelineJobSchema } from '../../trainer/src/api/schema.ts';
import { CONFIG_ENV, type StageConfig } from '../../trainer/src/contract/index.ts';
import { buildPreparePod } from '../children/pods.ts';
import { ownerReference } from './job.ts';
import { reconcileJob } from './reconcile.ts';
import { NOW, jobObject, stagePod, testEnv } from '../../test/support/operator-builders.ts';
import { tinyGptLayers } from '../../test/support/gpt-jobs.ts';

/** A 3-stage GPT job whose tokens folder is prepared from a text file on its claim. */
function preparedJob(change: (s: Record<string, unknown>) => void = () => undefined, status?: Parameters<typeof jobObject>[1]) {
  return jobObject((s) => {
    s.model = { inputShape: [8], layers: tinyGptLayers(true), loss: 'tokenCrossentropy' };
    s.data = { dataset: { type: 'tokens', path: '/checkpoints/data/tokens', prepare: { input: ['/checkpoints/raw.txt'], tokenizer: 'char' } }, batchSize: 4 };
    s.pipeline = { stages: 3, microBatches: 2 };
    s.checkpoint = { path: '/checkpoints', everySteps: 2, volumeClaimTemplate: { storage: '1Gi', accessModes: ['ReadWriteMany'] } };
    change(s);
  }, status);
}

/** The preparation pod the operator builds for `object`, in a given state. */
function preparePod(object: ReturnType<typeof preparedJob>, state: 'Running' | { exit: number; message?: string }, options: { attempt?: number; deleting?: boolean } = {}): k8s.V1Pod {
  const job = PipelineJobSchema.parse({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace: 'ns' }, spec: object.spec });
  const pod = buildPreparePod({ job, namespace: 'ns', owner: ownerReference(object), attempt: options.attempt ?? 0, partition: [3, 2, 2], defaultImage: 'img:1', command: ['node', 'stage'], checkpointClaim: 'tiny-checkpoints' });
  if (options.deleting) pod.metadata!.deletionTimestamp = new Date(NOW - 500);
  pod.status = state === 'Running'
    ? { phase: 'Running', containerStatuses: [{ name: 'prepare', ready: true, restartCount: 0, image: 'img:1', imageID: '', state: { running: {} } }] }
    : { phase: state.exit === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: 'prepare', ready: false, restartCount: 0, image: 'img:1', imageID: '', state: { terminated: { exitCode: state.exit, message: state.message, finishedAt: new Date(NOW) } } }] };
  return pod;
}

const stagePodsCreated = (calls: string[]) => calls.filter((c) => c.startsWith('create pod tiny-stage-'));

test('the preparation pod: stage 0\'s image, configuration, claim and restricted security context, running the stage command with --prepare-data', () => {
  const pod = preparePod(preparedJob(), 'Running');
  assert.equal(pod.metadata?.name, 'tiny-prepare');
  assert.equal(pod.metadata?.labels?.['app.kubernetes.io/component'], 'prepare');
  assert.equal(pod.metadata?.labels?.['pipetrain.io/job-name'], 'tiny');
  assert.equal(pod.metadata?.labels?.['pipetrain.io/stage'], undefined, 'not a stage');
  assert.equal(pod.metadata?.ownerReferences?.[0]?.controller, true);
  assert.equal(pod.spec?.restartPolicy, 'Never');
  assert.equal(pod.spec?.automountServiceAccountToken, false);
  assert.equal(pod.spec?.hostname, undefined);
  assert.deepEqual(pod.spec?.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  const [container] = pod.spec?.containers ?? [];
  assert.deepEqual(container?.command, ['node', 'stage', '--prepare-data']);
  assert.equal(container?.image, 'img:1');
  assert.deepEqual(container?.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  assert.deepEqual(container?.env?.map((e) => e.name), [CONFIG_ENV], 'no token: it talks to nobody');
  const config = JSON.parse(container!.env![0]!.value!) as StageConfig;
  assert.equal(config.baseDir, '/');
  assert.equal((config.job.spec.data.dataset as { prepare?: unknown }).prepare !== undefined, true);
  assert.deepEqual(container?.volumeMounts?.map((m) => m.mountPath).sort(), ['/checkpoints', '/tmp']);
  assert.deepEqual(pod.spec?.volumes?.find((v) => v.name === 'checkpoints')?.persistentVolumeClaim, { claimName: 'tiny-checkpoints' });
  assert.equal(container?.readinessProbe, undefined);
  assert.equal(container?.terminationMessagePolicy, 'FallbackToLogsOnError');
});

test('a job with prepare: the preparation pod first, the stage pods only once it succeeded', async () => {
  const env = testEnv();
  const first = await reconcileJob(preparedJob(), [], env);
  assert.ok(env.actions.calls.includes('create pod tiny-prepare attempt=0'), env.actions.calls.join('\n'));
  assert.deepEqual(stagePodsCreated(env.actions.calls), []);
  assert.ok(env.actions.calls.includes('create claim tiny-checkpoints'), 'the claim it prepares onto');
  assert.deepEqual(first.events.map((e) => e.reason), ['PreparingData']);
  assert.match(first.events[0]!.message, /Preparing \/checkpoints\/data\/tokens from spec\.data\.dataset\.prepare in pod tiny-prepare/);
  assert.equal(first.status.startTime, new Date(NOW).toISOString(), 'preparing counts towards activeDeadlineSeconds');
  assert.equal(first.status.phase, 'Pending');

  const runningEnv = testEnv();
  await reconcileJob(preparedJob(undefined, first.status), [preparePod(preparedJob(), 'Running')], runningEnv);
  assert.deepEqual(runningEnv.actions.calls.filter((c) => c.startsWith('create pod')), [], 'stages wait while it prepares');

  const doneEnv = testEnv();
  const started = await reconcileJob(preparedJob(undefined, first.status), [preparePod(preparedJob(), { exit: 0 })], doneEnv);
  assert.deepEqual(stagePodsCreated(doneEnv.actions.calls).sort(), [0, 1, 2].map((i) => `create pod tiny-stage-${i} attempt=0`));
  assert.ok(!doneEnv.actions.calls.includes('create pod tiny-prepare attempt=0'));
  assert.ok(started.events.some((e) => e.reason === 'PodsCreated'));
});

test('the preparation pod is no stage: with the stages running it is neither stale nor a failure, and a restart does not prepare again', async () => {
  const done = preparePod(preparedJob(), { exit: 0 });
  const env = testEnv();
  const running = await reconcileJob(preparedJob(), [done, ...[0, 1, 2].map((i) => stagePod(i, 'Ready'))], env);
  assert.equal(running.status.phase, 'Running');
  assert.ok(!env.actions.calls.some((c) => c.startsWith('delete pod')), env.actions.calls.join('\n'));
  // The next attempt after a restart: only the prepared pod is left; the stages are created at once.
  const restartEnv = testEnv({ now: NOW + 120_000 });
  const restarted = await reconcileJob(preparedJob(undefined, { restarts: 1, lastFailure: { reason: 'StageFailed', message: 'x', attempt: 0, detectedAt: new Date(NOW).toISOString() } }), [done], restartEnv);
  assert.deepEqual(stagePodsCreated(restartEnv.actions.calls).sort(), [0, 1, 2].map((i) => `create pod tiny-stage-${i} attempt=1`));
  assert.ok(!restarted.events.some((e) => e.reason === 'PreparingData'));
});

test('a failed preparation fails the job with prepare\'s reason, in status and an event; no stage pod is created', async () => {
  const env = testEnv();
  const message = 'Preparing /checkpoints/data/tokens\nprepare failed: spec.data.dataset.prepare.input: /checkpoints/raw.txt: no such file or folder';
  const failed = await reconcileJob(preparedJob(), [preparePod(preparedJob(), { exit: 2, message })], env);
  assert.equal(failed.status.phase, 'Failed');
  const condition = failed.status.conditions?.find((c) => c.type === 'Failed');
  assert.equal(condition?.reason, 'DataPreparationFailed');
  assert.match(condition?.message ?? '', /^spec\.data\.dataset\.prepare failed: pod tiny-prepare exited with code 2: .*\/checkpoints\/raw\.txt: no such file or folder/);
  assert.deepEqual(failed.events.map((e) => e.reason), ['DataPreparationFailed']);
  assert.deepEqual(env.actions.calls.filter((c) => c.includes('pod')), [], 'no stage pod; the failed pod stays for its logs');
});

test('prepare on Kubernetes needs the folder on the job\'s claim: InvalidSpec naming the fields', async () => {
  const env = testEnv();
  const outside = await reconcileJob(preparedJob((s) => ((s.data as { dataset: { path: string } }).dataset.path = '/data/tokens')), [], env);
  assert.equal(outside.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'InvalidSpec');
  assert.match(outside.events[0]?.message ?? '', /spec\.data\.dataset\.path \("\/data\/tokens"\) must lie under spec\.checkpoint\.path \("\/checkpoints"\)/);
  const noClaim = await reconcileJob(preparedJob((s) => (s.checkpoint = { path: '/checkpoints', everySteps: 2 })), [], env);
  assert.equal(noClaim.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'InvalidSpec');
  assert.deepEqual(env.actions.calls, []);
});

test('a preparation pod being deleted (suspend then resume, or by hand) ends Failed with exit 143: waited for, not judged; once gone it is made again', async () => {
  // The kubelet stops it with SIGTERM: phase Failed, exit 143, while deletionTimestamp is still set.
  const going = preparePod(preparedJob(), { exit: 143 }, { deleting: true });
  const env = testEnv();
  const waiting = await reconcileJob(preparedJob(), [going], env);
  assert.notEqual(waiting.status.phase, 'Failed');
  assert.equal(waiting.status.conditions?.find((c) => c.type === 'Failed')?.status, undefined);
  assert.equal(waiting.status.restarts, undefined, 'no restart counted either');
  assert.deepEqual(waiting.events, []);
  assert.deepEqual(env.actions.calls.filter((c) => c.includes('pod')), [], 'nothing created or deleted');
  assert.ok(waiting.requeueAfterMs !== undefined && waiting.requeueAfterMs <= 2_000, 'a re-check in case the removal is missed');
  const goneEnv = testEnv();
  const again = await reconcileJob(preparedJob(undefined, waiting.status), [], goneEnv);
  assert.ok(goneEnv.actions.calls.includes('create pod tiny-prepare attempt=0'), goneEnv.actions.calls.join('\n'));
  assert.deepEqual(again.events.map((e) => e.reason), ['PreparingData']);
});

for (const { what, exit, evicted } of [
  { what: 'exits 1 (retry may help)', exit: 1, evicted: false },
  { what: 'is OOM-killed (137)', exit: 137, evicted: false },
  { what: 'is evicted', exit: 137, evicted: true },
]) {
  test(`a preparation that ${what} prepares again after the stages' back-off, counted as a restart, with an event saying why`, async () => {
    const pod = preparePod(preparedJob(), { exit, message: 'Preparing /checkpoints/data/tokens\nKilled' });
    if (evicted) Object.assign(pod.status!, { reason: 'Evicted', message: 'The node was low on resource: memory.' });
    const env = testEnv();
    const failed = await reconcileJob(preparedJob(), [pod], env);
    assert.notEqual(failed.status.phase, 'Failed');
    assert.equal(failed.status.restarts, 1);
    assert.equal(failed.status.lastFailure?.pod, 'tiny-prepare');
    assert.equal(failed.status.lastFailure?.reason, evicted ? 'PodEvicted' : 'StageFailed');
    assert.equal(failed.status.lastFailure?.exitCode, exit);
    assert.equal(failed.status.lastFailure?.attempt, 0);
    assert.equal(failed.status.conditions?.find((c) => c.type === 'Restarting')?.status, 'True');
    assert.deepEqual(failed.events.map((e) => e.reason), [evicted ? 'PodEvicted' : 'StageFailed']);
    assert.match(failed.events[0]!.message, new RegExp(`^spec\\.data\\.dataset\\.prepare failed: pod tiny-prepare ${evicted ? 'was evicted: The node was low' : `exited with code ${exit}`}.*; preparing again \\(restart 1 of 3\\) in 1 s: exit code ${exit} is not permanent`));
    assert.deepEqual(env.actions.calls.filter((c) => c.includes('pod')), ['delete pod tiny-prepare']);
    assert.equal(failed.requeueAfterMs, 1_000, 'the first restart\'s back-off');

    // Still in the cache after the back-off, its deletion not seen: an earlier attempt's failure, removed, not counted again.
    const lagEnv = testEnv({ now: NOW + 1_000 });
    const lag = await reconcileJob(preparedJob(undefined, failed.status), [pod], lagEnv);
    assert.equal(lag.status.restarts, 1);
    assert.deepEqual(lag.events, []);
    assert.deepEqual(lagEnv.actions.calls.filter((c) => c.includes('pod')), ['delete pod tiny-prepare']);

    // Gone, inside the back-off: wait; after it: the next attempt prepares again.
    const early = testEnv({ now: NOW + 500 });
    await reconcileJob(preparedJob(undefined, failed.status), [], early);
    assert.deepEqual(early.actions.calls.filter((c) => c.includes('pod')), []);
    const later = testEnv({ now: NOW + 1_000 });
    const again = await reconcileJob(preparedJob(undefined, failed.status), [], later);
    assert.ok(later.actions.calls.includes('create pod tiny-prepare attempt=1'), later.actions.calls.join('\n'));
    assert.deepEqual(again.events.map((e) => e.reason), ['PreparingData']);
  });
}

test('a preparation that keeps failing fails the job once failurePolicy.maxRestarts is spent', async () => {
  const job = preparedJob((s) => (s.failurePolicy = { maxRestarts: 1 }), { restarts: 1, lastFailure: { pod: 'tiny-prepare', reason: 'StageFailed', message: 'x', attempt: 0, detectedAt: new Date(NOW - 5_000).toISOString() } });
  const env = testEnv();
  const failed = await reconcileJob(job, [preparePod(job, { exit: 1, message: 'prepare failed: EIO' }, { attempt: 1 })], env);
  assert.equal(failed.status.phase, 'Failed');
  const condition = failed.status.conditions?.find((c) => c.type === 'Failed');
  assert.equal(condition?.reason, 'DataPreparationFailed');
  assert.match(condition?.message ?? '', /^spec\.data\.dataset\.prepare failed: pod tiny-prepare exited with code 1: prepare failed: EIO; maxRestarts \(1\) reached$/);
  assert.equal(failed.status.restarts, 1);
  assert.deepEqual(env.actions.calls.filter((c) => c.includes('pod')), [], 'the failed pod stays for its logs');
});
