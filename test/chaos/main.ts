// npm run chaos -- --faults N --seed S [--json]: starts a test cluster, runs the chaos job under N
// seeded faults, checks the outcome and stops the cluster. Exit 0 when every check held, 1 otherwise.
import { parseArgs } from 'node:util';
import { ClusterClient } from '../cluster/control.ts';
import { startCluster, stopCluster } from '../cluster/cluster.ts';
import { errorMessage, waitFor } from '../cluster/util.ts';
import { chaosPassed, runChaos, type ChaosResult } from './chaos-run.ts';

const HELP = `Usage: npm run chaos -- --faults N --seed S [--json]

Trains one checkpointed 4-stage job on a fresh test cluster (root needed) with 2 operator replicas
while N faults, scheduled from seed S, hit it: stage SIGKILL and SIGSTOP/SIGCONT, node stop, pod
partition, a slow link (tc tbf), operator and leader SIGKILL, API server and etcd restarts.
Checks: Succeeded, weights digest of an uninterrupted \`pipetrain train\`, one restart per restarting
fault (status and metric), lostSteps against the steps recomputed, nothing left after deletion.

  --faults N   number of faults (default 5)
  --seed S     seed of the schedule (default: random, printed)
  --json       one JSON line: {"faults","faultKinds","status","digestEqual","restarts","lostSteps","seconds"}
  --help       this text`;

function wholeNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number >= 0; got ${JSON.stringify(value)}`);
  return n;
}

function summary(r: ChaosResult, seed: number, passed: boolean): string {
  const kinds = Object.entries(r.faultKinds).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `chaos run, seed ${seed}: ${passed ? 'PASSED' : 'FAILED'} in ${r.seconds} s`,
    `  faults      ${r.faults}: ${kinds}`,
    `  status      ${r.status}; weights digest ${r.digestEqual ? 'equals' : 'DIFFERS FROM'} pipetrain train`,
    `  restarts    ${r.restarts} (restarting faults ${r.expectedRestarts}, pipetrain_restarts_total ${r.restartMetric})`,
    `  lostSteps   ${r.lostSteps} (pipetrain_lost_steps_total ${r.lostStepsMetric}; recomputed per stage logs ${r.recomputedSteps})`,
    `  leftovers   ${r.leftovers.length === 0 ? 'none' : r.leftovers.join(', ')}`,
    ...r.problems.map((p) => `  problem     ${p}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { faults: { type: 'string', default: '5' }, seed: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const faults = wholeNumber('faults', values.faults);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : wholeNumber('seed', values.seed);
  const log = (line: string): void => void process.stderr.write(`[chaos] ${line}\n`);
  log(`seed ${seed}, ${faults} faults`);
  const state = await startCluster({ nodes: 4, log });
  const client = new ClusterClient(state);
  try {
    const namespace = `chaos-${seed}`;
    await client.core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitFor(`ServiceAccount ${namespace}/default`, () => client.core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true));
    const result = await runChaos(client, namespace, { faults, seed, log });
    const passed = chaosPassed(result, faults);
    if (values.json) {
      const { status, digestEqual, restarts, lostSteps, seconds, faultKinds } = result;
      process.stdout.write(`${JSON.stringify({ faults: result.faults, faultKinds, status, digestEqual, restarts, lostSteps, seconds, seed, expectedRestarts: result.expectedRestarts, restartMetric: result.restartMetric, recomputedSteps: result.recomputedSteps, leftovers: result.leftovers, problems: result.problems, passed })}\n`);
    } else {
      process.stdout.write(`${summary(result, seed, passed)}\n`);
    }
    return passed ? 0 : 1;
  } finally {
    await stopCluster(state);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[chaos] ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
