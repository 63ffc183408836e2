// Node loss on the real test control plane: a stage's node dies (`stopNode`: its pods' processes
// are killed and its heartbeats stop). Measured from the node's death to (1) the operator's
// detection (status.lastFailure.detectedAt), (2) every stage pod running again (recoveredAt) and
// (3) every stage reporting a step of the new attempt (polled, so accurate to about 0.5 s).
// Needs root and the cluster tools (`npm run -s cluster:tools`).
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, stopCluster } from '../cluster/cluster.ts';
import { ClusterClient } from '../cluster/control.ts';
import { checkpointedJob, createJob, getJob, installCrd, startOperator } from '../e2e/operator/helpers.ts';
import type { PipelineJobObject } from '../../operator/policy/job.ts';
import { createLogger } from '../../operator/machinery/log.ts';

export interface NodeLossRun { detectSeconds: number; podsRunningSeconds: number; trainingSeconds: number }

async function until(what: string, client: ClusterClient, namespace: string, name: string, check: (job: PipelineJobObject) => boolean, timeoutMs: number): Promise<PipelineJobObject> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(client, namespace, name);
    if (check(job)) return job;
    if (Date.now() > deadline) throw new Error(`${namespace}/${name}: not ${what} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function oneRun(client: ClusterClient, index: number): Promise<NodeLossRun> {
  const namespace = `bench-nodeloss-${index}-${Date.now() % 100000}`;
  await client.core.createNamespace({ body: { metadata: { name: namespace } } });
  await createJob(client, namespace, checkpointedJob('nodeloss', 3000, (s) => (s.failurePolicy = { nodeFailureSeconds: 5 })));
  const running = await until('training', client, namespace, 'nodeloss', (j) => j.status?.phase === 'Running' && (j.status.step ?? 0) >= 2, 120_000);
  const victim = running.status!.stages!.find((s) => s.stage === 1)!.node!;
  const stoppedAt = Date.now();
  await client.stopNode(victim);
  try {
    const recovered = await until('recovered', client, namespace, 'nodeloss', (j) => Boolean(j.status?.lastFailure?.recoveredAt), 120_000);
    await until('training again', client, namespace, 'nodeloss', (j) => (j.status?.stages ?? []).every((s) => typeof s.step === 'number'), 120_000);
    const trainingAt = Date.now();
    const failure = recovered.status!.lastFailure!;
    return {
      detectSeconds: (Date.parse(failure.detectedAt!) - stoppedAt) / 1000,
      podsRunningSeconds: (Date.parse(failure.recoveredAt!) - stoppedAt) / 1000,
      trainingSeconds: (trainingAt - stoppedAt) / 1000,
    };
  } finally {
    await client.startNode(victim);
    await client.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
}

export async function runNodeLossBench(runs = 3): Promise<NodeLossRun[]> {
  const state = await startCluster({ ownerPid: process.pid });
  const client = new ClusterClient(state);
  try {
    await installCrd(client);
    const operator = await startOperator(client, { logger: createLogger('text', () => undefined) });
    try {
      const results: NodeLossRun[] = [];
      for (let i = 0; i < runs; i++) results.push(await oneRun(client, i));
      return results;
    } finally {
      await operator.stop();
    }
  } finally {
    await stopCluster(state);
  }
}

export function formatNodeLossBench(runs: NodeLossRun[]): string {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (label: string, pick: (r: NodeLossRun) => number) => `| ${label} | ${runs.map((r) => `${pick(r).toFixed(1)} s`).join(' | ')} | ${median(runs.map(pick)).toFixed(1)} s |`;
  return [
    'Node loss (stopNode under stage 1; failurePolicy.nodeFailureSeconds 5, controller-manager grace 10 s)',
    `| from the node's death to | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | median |`,
    `|---|${runs.map(() => '---').join('|')}|---|`,
    row('failure detected', (r) => r.detectSeconds),
    row('all stage pods running again', (r) => r.podsRunningSeconds),
    row('every stage training again', (r) => r.trainingSeconds),
  ].join('\n');
}
