// The short chaos run of `npm test`: 5 seeded faults (the plan puts a leader kill, a stage kill, a
// partition, a freeze and an API server restart in one job's life) on the real test cluster.
// The long runs (20 faults) are `npm run chaos`; their results are in docs/reliability.md.
import assert from 'node:assert/strict';
import { useCluster } from '../../cluster/harness.ts';
import { chaosPassed, runChaos } from '../../chaos/chaos-run.ts';

const cluster = useCluster({ nodes: 4 });
const FAULTS = 5;
const SEED = 1;

cluster.test(`a job survives ${FAULTS} faults of seed ${SEED}: Succeeded, the digest of pipetrain train, one restart per restarting fault, nothing left`, async ({ client, namespace, t }) => {
  const result = await runChaos(client, namespace, { faults: FAULTS, seed: SEED, log: (line) => t.diagnostic(line) });
  t.diagnostic(JSON.stringify({ ...result, injected: undefined }));
  assert.equal(result.status, 'Succeeded');
  assert.ok(result.digestEqual, 'weights digest equals an uninterrupted local run');
  assert.equal(result.faults, FAULTS, `every planned fault injected: ${result.problems.join('; ')}`);
  assert.equal(result.restarts, result.expectedRestarts, 'one restart per restarting fault');
  assert.equal(result.restartMetric, result.restarts, 'pipetrain_restarts_total summed over the replicas');
  assert.deepEqual(result.leftovers, [], 'nothing of the job left after deletion');
  // lostSteps is reported, not asserted: its known bug is fixed on another branch (docs/reliability.md).
  assert.ok(chaosPassed(result, FAULTS));
}, { timeout: 900_000 });
