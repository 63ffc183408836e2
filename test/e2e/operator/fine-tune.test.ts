// End to end on the real control plane (test/cluster): a PipelineJob that fine-tunes from another
// job's committed checkpoint, the source on the job's own claim or on the other job's claim mounted
// read-only (spec.model.from.persistentVolumeClaim). Each ends with the weights `pipetrain train`
// of the same job file gives locally from the same source checkpoint, bit for bit on cpu. A source
// that is not there fails the job once, with the reason on its status; one on no volume is InvalidSpec.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { stringify } from 'yaml';
import type { ClusterClient } from '../../cluster/control.ts';
import { useCluster } from '../../cluster/harness.ts';
import { waitFor } from '../../cluster/util.ts';
import { checkpointWeightsDigest } from '../../../trainer/src/checkpoint/index.ts';
import { parseSummary, runCli } from '../local/cli-runner.ts';
import { createJob, isFinished, sharedOperator, stagePods, tinyJob, waitForJob } from './helpers.ts';

const cluster = useCluster({ podSecurity: 'restricted' });
const operator = sharedOperator();
const local = mkdtempSync(join(tmpdir(), 'pipetrain-e2e-fine-tune-'));
after(() => rmSync(local, { recursive: true, force: true }));

/** The committed step job B starts from (job A commits steps 3 and 6). */
const SOURCE_STEP = 3;

/** A claim of the user's, bound; the host directory of its volume (the test cluster's PVs are host paths). */
async function userClaim(client: ClusterClient, namespace: string, name: string): Promise<string> {
  await client.core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
  const volume = await waitFor(`claim ${name} bound`, async () => (await client.core.readNamespacedPersistentVolumeClaim({ namespace, name })).spec?.volumeName, 30_000);
  return (await client.core.readPersistentVolume({ name: volume })).spec!.hostPath!.path;
}

/** Job A: the tiny job, 6 steps, committing steps 3 and 6 onto the claim `claim`. */
function sourceJob(claim: string): Record<string, unknown> {
  return tinyJob('pretrain', (s) => {
    (s.training as Record<string, unknown>).steps = 6;
    s.checkpoint = { path: '/checkpoints', everySteps: 3, persistentVolumeClaim: { claimName: claim } };
  });
}

/** Job B: A's layers with a new head (starts fresh), on 2 stages, from `from`, saving onto its own claim `claim`. */
function tunedJob(name: string, claim: string, from: Record<string, unknown>): Record<string, unknown> {
  return tinyJob(name, (s) => {
    const model = s.model as { layers: Record<string, unknown>[]; from?: unknown };
    model.layers.at(-1)!.name = 'classifier';
    model.from = from;
    s.pipeline = { stages: 2, microBatches: 4 };
    (s.training as Record<string, unknown>).steps = 6;
    s.checkpoint = { path: '/checkpoints', everySteps: 3, persistentVolumeClaim: { claimName: claim } };
  });
}

/**
 * The digest `pipetrain train` of job B's file gives locally: the same spec, its paths moved from
 * the pods' mounts to the host (the source at `sourceDir`, checkpoints in a fresh folder), without
 * the claims only the operator reads.
 */
async function localDigest(body: Record<string, unknown>, sourceDir: string): Promise<string> {
  const job = structuredClone(body) as { metadata: { name: string }; spec: { model: { from: { checkpoint: { path: string }; persistentVolumeClaim?: unknown } }; checkpoint: Record<string, unknown> } };
  job.spec.model.from.checkpoint.path = sourceDir;
  delete job.spec.model.from.persistentVolumeClaim;
  job.spec.checkpoint = { path: join(local, `${job.metadata.name}-checkpoints`), everySteps: 3 };
  const file = join(local, `${job.metadata.name}.yaml`);
  writeFileSync(file, stringify(job));
  const run = parseSummary(await runCli(['train', file, '--json']));
  assert.equal(run.status, 'Succeeded', run.error);
  return run.weightsSha256;
}

/** The newest committed step on a claim's host directory and its weights' digest. */
async function claimDigest(hostDir: string): Promise<{ step: number; weightsSha256: string } | undefined> {
  const digest = await checkpointWeightsDigest(hostDir);
  return digest ? { step: digest.step, weightsSha256: digest.weightsSha256 } : undefined;
}

cluster.test('a job fine-tunes from another job\'s checkpoint, on its own claim and on the other\'s claim mounted read-only, to the digest of `pipetrain train`; a missing source fails once with the reason', async ({ client, namespace }) => {
  await operator.ensure(client);
  // Job A trains and commits its checkpoints onto the claim "pretrain".
  const sourceDir = await userClaim(client, namespace, 'pretrain');
  await createJob(client, namespace, sourceJob('pretrain'));
  const pretrained = await waitForJob(client, namespace, 'pretrain', 'finished', isFinished, 180_000);
  assert.equal(pretrained.status?.phase, 'Succeeded', JSON.stringify(pretrained.status?.conditions));
  assert.equal((await claimDigest(sourceDir))?.step, 6);

  // B on its own claim: A's checkpoint folder copied into it, a path under spec.checkpoint.path.
  const ownDir = await userClaim(client, namespace, 'tune-own');
  cpSync(sourceDir, join(ownDir, 'pretrain'), { recursive: true });
  const own = tunedJob('tune-own', 'tune-own', { checkpoint: { path: '/checkpoints/pretrain', step: SOURCE_STEP } });
  // B on a claim of its own, reading A's claim itself, mounted read-only at /source.
  const otherDir = await userClaim(client, namespace, 'tune-other');
  const other = tunedJob('tune-other', 'tune-other', { checkpoint: { path: '/source', step: SOURCE_STEP }, persistentVolumeClaim: { claimName: 'pretrain', mountPath: '/source' } });
  // B whose source folder is not there: every stage reports an invalid job; no restarts.
  const missing = tunedJob('tune-missing', 'unused', { checkpoint: { path: '/source/absent' }, persistentVolumeClaim: { claimName: 'pretrain', mountPath: '/source' } });
  // B whose source is on no volume the pods mount: InvalidSpec before any pod.
  const nowhere = tunedJob('tune-nowhere', 'unused', { checkpoint: { path: '/pretrain' } });
  // Neither saves checkpoints: they must fail before any would be written.
  for (const body of [missing, nowhere]) delete (body.spec as Record<string, unknown>).checkpoint;
  for (const body of [own, other, missing, nowhere]) await createJob(client, namespace, body);

  const expected = await localDigest(own, sourceDir);
  assert.equal(await localDigest(other, sourceDir), expected, 'the mounts make no difference locally');
  for (const [name, dir] of [['tune-own', ownDir], ['tune-other', otherDir]] as const) {
    const done = await waitForJob(client, namespace, name, 'finished', isFinished, 240_000);
    assert.equal(done.status?.phase, 'Succeeded', `${name}: ${JSON.stringify(done.status?.conditions)}`);
    assert.equal(done.status?.step, 6);
    assert.deepEqual(await claimDigest(dir), { step: 6, weightsSha256: expected }, `${name}: the weights of pipetrain train from the same checkpoint`);
  }
  const pods = await stagePods(client, namespace, 'tune-other');
  assert.equal((await claimDigest(sourceDir))?.step, 6, 'the source claim is unchanged');
  assert.equal(pods.length, 0, 'cleaned up after success');

  const failed = await waitForJob(client, namespace, 'tune-missing', 'finished', isFinished, 120_000);
  assert.equal(failed.status?.phase, 'Failed');
  const reason = failed.status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(reason?.reason, 'InvalidJob', JSON.stringify(failed.status?.conditions));
  assert.match(reason?.message ?? '', /exited with code 2: the stage reported an invalid job: .*spec\.model\.from\.checkpoint\.path: \/source\/absent holds no committed checkpoint/);
  assert.equal(failed.status?.restarts ?? 0, 0, 'not retried');

  const refused = await waitForJob(client, namespace, 'tune-nowhere', 'Failed', (j) => j.status?.phase === 'Failed');
  const invalid = refused.status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(invalid?.reason, 'InvalidSpec');
  assert.match(invalid?.message ?? '', /spec\.model\.from\.checkpoint\.path \("\/pretrain"\) is on no volume the stage pods mount: the job mounts no claim/);
  assert.equal((await stagePods(client, namespace, 'tune-nowhere')).length, 0);
}, { timeout: 600_000 });
