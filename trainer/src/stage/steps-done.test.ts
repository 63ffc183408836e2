import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readStepsDone, recomputedSteps, recordStepsDone } from './steps-done.ts';
import { latestCommittedStep } from '../checkpoint/index.ts';

test('a stage records its steps done; the next run reads them and counts what it trains again', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'steps-done-'));
  try {
    assert.equal(readStepsDone(dir, 1), undefined);
    for (let steps = 1; steps <= 51; steps++) recordStepsDone(dir, 1, steps, 1 / steps);
    assert.deepEqual(readStepsDone(dir, 1), { steps: 51, loss: 1 / 51 });
    assert.equal(readStepsDone(dir, 0), undefined, 'per stage');
    assert.equal(recomputedSteps(readStepsDone(dir, 1)?.steps, 40), 11);
    assert.equal(recomputedSteps(undefined, 40), undefined);
    assert.equal(recomputedSteps(40, 40), 0, 'resumed from the last step done: nothing trained again');
    assert.deepEqual(await readdir(dir), ['steps-done-stage-1.json'], 'no temporary file left');
    assert.equal(await latestCommittedStep(dir), undefined, 'the checkpoint store ignores it');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing checkpoint folder does not stop training', () => {
  assert.doesNotThrow(() => recordStepsDone('/nonexistent/pipetrain', 0, 3));
});
