// Both runners apply one restart policy (trainer/src/contract/restart-policy.ts): a job without
// failurePolicy gets the same restart budget, the same back-off and the same permanent exit codes
// from the operator and from the local supervisor.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { reconcileJob } from './reconcile.ts';
import { parsePipelineJobYaml } from '../../trainer/src/api/load.ts';
import { maxRestartsOf, RestartReasons } from '../../trainer/src/contract/index.ts';
import { classifyExit, decideRestart } from '../../trainer/src/runner/restart-policy.ts';
import { jobObject, stagePod, testEnv } from '../../test/support/operator-builders.ts';

const TINY_JOB = new URL('../../test/fixtures/tiny-job.yaml', import.meta.url);

interface Course {
  /** Restarts made before the job fails. */
  budget: number;
  /** Back-off before each restart, seconds. */
  delays: number[];
}

/** The local supervisor's decisions while stage 1 exits with code 1 on every attempt. */
function localCourse(): Course {
  const parsed = parsePipelineJobYaml(readFileSync(TINY_JOB, 'utf8'), 'tiny-job.yaml');
  assert.ok(parsed.ok);
  assert.equal(parsed.job.spec.failurePolicy.maxRestarts, maxRestartsOf(undefined), 'the loader fills in the schema default');
  const failure = { stage: 1, reason: classifyExit(1, null), cause: 'exited with code 1', exitCode: 1 };
  const delays: number[] = [];
  for (let restarts = 0; restarts < 100; restarts++) {
    const decision = decideRestart(failure, restarts, maxRestartsOf(parsed.job.spec.failurePolicy));
    if (!decision.restart) return { budget: restarts, delays };
    delays.push(decision.delaySeconds);
  }
  assert.fail('the local supervisor never gives up');
}

/** The operator's reconciles of a stored job without failurePolicy while stage 1 exits with code 1 on every attempt. */
async function operatorCourse(): Promise<Course> {
  let status: Parameters<typeof jobObject>[1];
  const delays: number[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const pods = [stagePod(0, 'Ready', { attempt }), stagePod(1, { exit: 1 }, { attempt }), stagePod(2, 'Ready', { attempt })];
    const draft = await reconcileJob(jobObject(undefined, status), pods, testEnv());
    if (draft.status.phase === 'Failed') return { budget: draft.status.restarts ?? 0, delays };
    assert.equal(draft.status.restarts, attempt + 1);
    assert.ok(draft.requeueAfterMs !== undefined);
    delays.push(draft.requeueAfterMs / 1000);
    status = draft.status;
  }
  assert.fail('the operator never gives up');
}

void test('a job without failurePolicy: the operator and the local supervisor give the same restart budget and back-off', async () => {
  assert.equal(jobObject().spec.failurePolicy, undefined, 'the fixture has no failurePolicy');
  const local = localCourse();
  const operator = await operatorCourse();
  assert.deepEqual(local, operator);
  assert.ok(local.budget >= 1, 'a killed stage does not end the run');
});

void test('the same exit codes are permanent for both runners', async () => {
  for (const code of [1, 2, 3, 126, 127, 137]) {
    const local = decideRestart({ stage: 1, reason: classifyExit(code, null), cause: `exited with code ${code}`, exitCode: code }, 0, 3).restart;
    const pods = [stagePod(0, 'Ready'), stagePod(1, { exit: code }), stagePod(2, 'Ready')];
    const draft = await reconcileJob(jobObject(), pods, testEnv());
    assert.equal(draft.status.phase !== 'Failed', local, `exit code ${code}`);
  }
  assert.equal(classifyExit(null, 'SIGKILL'), RestartReasons.StageFailed, 'a killed stage counts as StageFailed, as a killed pod (137) does');
});
