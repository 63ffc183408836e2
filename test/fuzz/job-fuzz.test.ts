// Mutated job files through `pipetrain validate` (in process): exit 0 or 1, a field path in every
// problem, no stack trace; and mutants that validate train a step with `pipetrain train`'s runner.
// 1000 cases here; the bench runs 20k (test/bench/fuzz-bench.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJobFuzz, trainMutants } from '../support/fuzz/job-fuzz.ts';
import { fuzzSeed, replayHint } from '../support/fuzz/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'pipetrain-job-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void test('1000 mutated job files: validate exits 0 or 1, names a field in every problem, never prints a stack trace; 3 that validate train', async (t) => {
  const seed = fuzzSeed();
  const hint = replayHint(seed, 'node test/run-tests.js test/fuzz/job-fuzz');
  t.diagnostic(hint);
  const result = await runJobFuzz({ seed, cases: 1000, dir });
  t.diagnostic(`${result.cases} cases: ${result.valid} valid, ${result.invalid} invalid, ${result.seconds.toFixed(1)} s`);
  assert.deepEqual(result.failures, [], hint);
  assert.equal(result.cases, 1000, hint);
  // Both verdicts occur, so neither check is vacuous.
  assert.ok(result.valid > 0 && result.invalid > 0, hint);
  const checks = await trainMutants(result.validMutants.slice(0, 3), dir);
  t.diagnostic(JSON.stringify(checks));
  assert.deepEqual(checks.filter((c) => c.status !== 'Succeeded'), [], hint);
});
