// End to end on the real control plane (test/cluster): a job whose tokens dataset has `prepare`
// settings. The operator prepares it once, in a pod of its own, onto the job's claim, then starts the
// stages; a preparation that cannot succeed fails the job with prepare's reason.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterClient } from '../../cluster/control.ts';
import { useCluster } from '../../cluster/harness.ts';
import { waitFor } from '../../cluster/util.ts';
import { tinyGptLayers } from '../../support/gpt-jobs.ts';
import { mobyDickText } from '../../support/token-folders.ts';
import { createJob, eventsWithReason, isFinished, sharedOperator, waitForJob } from './helpers.ts';

const cluster = useCluster({ podSecurity: 'restricted' });
const operator = sharedOperator();

/** A claim of the user's, bound, with `files` written into its volume (a host directory of the test cluster); its path. */
async function claimWith(client: ClusterClient, namespace: string, name: string, files: Record<string, string>): Promise<string> {
  await client.core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
  const volume = await waitFor(`claim ${name} bound`, async () => (await client.core.readNamespacedPersistentVolumeClaim({ namespace, name })).spec?.volumeName, 30_000);
  const path = (await client.core.readPersistentVolume({ name: volume })).spec!.hostPath!.path;
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
}

/** A 2-stage tiny GPT whose tokens folder on the claim `claim` is prepared from `input`. */
function preparedGptJob(name: string, claim: string, input: string): Record<string, unknown> {
  return {
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name },
    spec: {
      model: { inputShape: [8], layers: tinyGptLayers(true), loss: 'tokenCrossentropy' },
      pipeline: { stages: 2, microBatches: 2 },
      data: { dataset: { type: 'tokens', path: '/data/prepared/tokens', prepare: { input: [input], tokenizer: 'char' } }, batchSize: 4 },
      training: { steps: 6, optimizer: { type: 'adamw', learningRate: 0.01 }, backend: 'cpu' },
      checkpoint: { path: '/data', everySteps: 3, persistentVolumeClaim: { claimName: claim } },
    },
  };
}

cluster.test('a job with spec.data.dataset.prepare: the data is prepared once onto its claim, then the stages train it to Succeeded', async ({ client, namespace }) => {
  await operator.ensure(client);
  const volume = await claimWith(client, namespace, 'corpus', { 'moby.txt': await mobyDickText(20_000) });
  await createJob(client, namespace, preparedGptJob('gpt', 'corpus', '/data/moby.txt'));
  const done = await waitForJob(client, namespace, 'gpt', 'finished', isFinished, 240_000);
  assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
  assert.equal(done.status?.step, 6);
  const meta = JSON.parse(readFileSync(join(volume, 'prepared/tokens/meta.json'), 'utf8')) as { tokenizer: { type?: string } | string; splits: { train: { tokens: number } }; source: { inputs: { name: string }[] } };
  assert.ok(meta.splits.train.tokens > 15_000, JSON.stringify(meta.splits));
  assert.ok(existsSync(join(volume, 'prepared/tokens/report.json')));
  const preparing = await eventsWithReason(client, namespace, 'PreparingData');
  assert.equal(preparing.length, 1, 'prepared once');
  assert.match(preparing[0]?.message ?? '', /Preparing \/data\/prepared\/tokens from spec\.data\.dataset\.prepare in pod gpt-prepare/);
});

cluster.test('a preparation that cannot succeed fails the job as DataPreparationFailed with prepare\'s reason; no stage pod starts', async ({ client, namespace }) => {
  await operator.ensure(client);
  await claimWith(client, namespace, 'empty', {});
  await createJob(client, namespace, preparedGptJob('nodata', 'empty', '/data/absent.txt'));
  const failed = await waitForJob(client, namespace, 'nodata', 'failed', isFinished, 120_000);
  assert.equal(failed.status?.phase, 'Failed');
  const condition = failed.status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(condition?.reason, 'DataPreparationFailed');
  assert.match(condition?.message ?? '', /pod nodata-prepare exited with code 2: .*absent\.txt/);
  assert.equal((await eventsWithReason(client, namespace, 'DataPreparationFailed')).length, 1);
  const pods = (await client.core.listNamespacedPod({ namespace, labelSelector: 'pipetrain.io/job-name=nodata' })).items;
  assert.deepEqual(pods.map((p) => p.metadata?.name), ['nodata-prepare'], 'only the preparation pod, kept for its logs');
});
