// End to end: `pipetrain train` of a job that starts from another job's checkpoint (a path relative
// to its job file), with a new head, on 1 and 3 stage processes; a second run resumes from its own
// checkpoint instead; a job whose layers do not fit the source is refused before anything is written.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseSummary, runCli } from './cli-runner.ts';

const root = await mkdtemp(join(tmpdir(), 'pipetrain-fine-tune-'));
after(() => rm(root, { recursive: true, force: true }));

/** A tiny job file in `root`; `from` and `firstUnits` make the fine-tuning variants. */
async function jobFile(name: string, options: { head: string; from?: string; firstUnits?: number; stages?: number }): Promise<string> {
  const yaml = `apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: { name: ${name} }
spec:
  model:
    inputShape: [12]
${options.from ? `    from: { checkpoint: { path: ${options.from} } }\n` : ''}    layers:
      - { type: dense, units: ${options.firstUnits ?? 16}, activation: relu }
      - { type: dropout, rate: 0.2 }
      - { type: dense, units: 16, activation: tanh }
      - { type: dense, units: 4, activation: softmax, name: ${options.head} }
    loss: sparseCategoricalCrossentropy
  pipeline: { stages: ${options.stages ?? 2}, microBatches: 2 }
  data:
    dataset: { type: synthetic, seed: 3, samples: 200, featureShape: [12], classes: 4 }
    batchSize: 20
  training: { steps: 4, optimizer: { type: adam, learningRate: 0.01 }, backend: cpu }
  checkpoint: { path: ${name}-checkpoints, everySteps: 2 }
`;
  const file = join(root, `${name}.yaml`);
  await writeFile(file, yaml);
  return file;
}

test('fine-tuning from another job\'s checkpoint: 1 and 3 stages agree; a rerun resumes from its own checkpoint', async () => {
  const source = await runCli(['train', await jobFile('source', { head: 'head' }), '--json']);
  assert.equal(source.code, 0, source.stderr);
  const digests: string[] = [];
  for (const stages of [1, 3]) {
    const file = await jobFile(`tuned${stages}`, { head: 'classifier', from: 'source-checkpoints', stages });
    const validate = await runCli(['validate', file]);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stderr, /note: spec\.model\.layers\[3\] \(layer 3, dense "classifier"\): not in .*source-checkpoints \(step 4\); starts fresh/);
    assert.match(validate.stderr, /note: .*layer 3, dense "head" is not in spec\.model\.layers; ignored/);
    const run = parseSummary(await runCli(['train', file, '--json']));
    assert.equal(run.status, 'Succeeded', run.error);
    assert.equal(run.resumedFrom, 0);
    digests.push(run.weightsSha256);
  }
  assert.equal(digests[0], digests[1]);
  const fresh = parseSummary(await runCli(['train', await jobFile('fresh', { head: 'classifier' }), '--json']));
  assert.notEqual(fresh.weightsSha256, digests[0], 'starting from the source changes the result');
  const again = parseSummary(await runCli(['train', join(root, 'tuned3.yaml'), '--json']));
  assert.equal(again.resumedFrom, 4, 'the job\'s own checkpoint wins over spec.model.from');
  assert.equal(again.weightsSha256, digests[0]);
});

test('a job whose layers do not fit the source is refused, naming the layer and both shapes, and nothing is written', async () => {
  const file = await jobFile('misfit', { head: 'head', from: 'source-checkpoints', firstUnits: 8 });
  const result = await runCli(['train', file, '--json']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /spec\.model\.layers\[0\]: weight kernel has shape \[12, 8\] in this job but \[12, 16\] in .*source-checkpoints \(step 4\)/);
  assert.match(result.stderr, /nothing was run/);
  assert.equal(existsSync(join(root, 'misfit-checkpoints')), false);
});
