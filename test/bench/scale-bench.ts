// The operator at scale on the real test control plane: 300 PipelineJobs of 4 stages created at
// once. The cluster has no nodes, so the 1,200 stage pods stay Pending (unscheduled): we measure
// the operator, not the pods. Measured: time until every pod exists, reconciles per second (the
// operator's own /metrics), the operator's RSS (it runs as a process of its own: `pipetrain
// operator`) and the API requests it sends, counted by the API server's audit log under the
// operator's own ServiceAccount, in three windows: creating the jobs until every pod exists, until
// the operator is quiet again, and a following idle window in which nothing changes.
// Needs root and the cluster tools (`npm run -s cluster:tools`).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { auditLog, startCluster, stopCluster } from '../cluster/cluster.ts';
import { ClusterClient } from '../cluster/control.ts';
import { createJob, installCrd, REPO, STAGE_COMMAND, tinyJob } from '../e2e/operator/helpers.ts';
import { MANAGED_PODS_SELECTOR } from '../../operator/children/labels.ts';
import { operatorClusterRole } from '../support/rbac.ts';
import { cpuBetween, cpuSnapshot, rssMB, type CpuUse } from './process-stats.ts';

export interface ScaleOptions {
  /** jobs: PipelineJobs created (default 300). */
  jobs?: number;
  /** stages: stages, so pods, per job (default 4). */
  stages?: number;
  /** namespaces: the jobs are spread over this many namespaces (default 5). */
  namespaces?: number;
  /** concurrency: job creations in flight from the benchmark (default 20). */
  concurrency?: number;
  /** idleSeconds: length of the idle window after the operator went quiet (default 30 s). */
  idleSeconds?: number;
  /** workers: the operator's --workers (default: its own default, 4). */
  workers?: number;
}

/** Requests by `verb resource[/subresource]`, e.g. `create pods`; failures (HTTP ≥ 400) by kind and code, e.g. `update pipelinejobs/status 409`. */
export interface RequestCount { total: number; failed: number; byKind: Record<string, number>; failures: Record<string, number> }

export interface ScaleResult {
  jobs: number;
  stages: number;
  namespaces: number;
  concurrency: number;
  workers: number | undefined;
  /** From the first create to the last create answered. */
  createSeconds: number;
  /** From the first create until the benchmark saw the last stage pod (watch). */
  podsSeconds: number;
  /** From every pod existing until the operator was quiet (queue empty, no reconcile for 5 s); undefined: never. */
  settleSeconds: number | undefined;
  idleSeconds: number;
  reconciles: { burst: number; settle: number; idle: number; errors: number; meanSeconds: number };
  /** VmRSS of the operator process in MB (10^6 bytes). */
  rss: { synced: number; peak: number; end: number };
  requests: { startup: RequestCount; burst: RequestCount; settle: RequestCount; idle: RequestCount };
  /** CPU seconds per process from the first create until every pod existed, and how busy the whole machine was. */
  cpu: CpuUse;
}

const NAMESPACE = 'pipetrain-bench';
const SERVICE_ACCOUNT = 'operator';
const OPERATOR_USER = `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;
/** The audit log records the operator's requests only (at Metadata level: no bodies), nothing else. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["${OPERATOR_USER}"]
  - level: None
`;

const progress = (line: string): void => void process.stderr.write(`[scale] ${line}\n`);
const seconds = (fromMs: number, toMs = Date.now()): number => (toMs - fromMs) / 1000;

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

// ---- the operator, as a process of its own -------------------------------------------------------

interface OperatorProcess {
  pid: number;
  metricsPort: number;
  logTail(): string;
  stop(): Promise<void>;
}

/** A kubeconfig for a ServiceAccount bound to the operator's ClusterRole (charts/…/operator-rbac-rules.yaml). */
async function operatorKubeconfig(client: ClusterClient): Promise<string> {
  const rbac = client.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const role = operatorClusterRole('pipetrain-bench-operator');
  await client.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await client.core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: SERVICE_ACCOUNT } } });
  await rbac.createClusterRole({ body: role });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: role.metadata!.name! },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name! },
      subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }],
    },
  });
  const request = await client.core.createNamespacedServiceAccountToken({ name: SERVICE_ACCOUNT, namespace: NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const file = join(client.state.stateDir, 'operator.kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: `https://127.0.0.1:${client.state.apiPort}`, 'certificate-authority': client.state.caFile } }],
    users: [{ name: SERVICE_ACCOUNT, user: { token: request.status!.token } }],
    contexts: [{ name: SERVICE_ACCOUNT, context: { cluster: 'test', user: SERVICE_ACCOUNT } }],
    'current-context': SERVICE_ACCOUNT,
  };
  writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
  return file;
}

/** `pipetrain operator`, started as a child process; resolves once it serves /metrics. */
async function spawnOperator(kubeconfig: string, workers: number | undefined): Promise<OperatorProcess> {
  const args = [`${REPO}operator/bin/pipetrain.js`, 'operator', '--kubeconfig', kubeconfig, '--metrics-address', '127.0.0.1:0', '--log-format', 'json'];
  args.push('--stage-image', 'pipetrain/test:dev', '--stage-command', STAGE_COMMAND.join(' '));
  if (workers !== undefined) args.push('--workers', String(workers));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let metricsPort: number | undefined;
  let buffered = '';
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 40) lines.shift();
      const port = /"msg":"Started operator".*"metricsPort":(\d+)/.exec(line)?.[1];
      if (port) metricsPort = Number(port);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logTail = (): string => lines.join('\n');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
  };
  const deadline = Date.now() + 60_000;
  while (metricsPort === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the operator exited (${child.exitCode ?? child.signalCode}):\n${logTail()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the operator did not start within 60 s:\n${logTail()}`);
    }
    await sleep(100);
  }
  return { pid: child.pid!, metricsPort, logTail, stop };
}

interface Scrape { reconciles: number; errors: number; depth: number; durationSum: number; durationCount: number }

/** The operator's reconcile counters and queue depth from its /metrics. */
async function scrape(port: number): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const sum = (pattern: RegExp): number => [...text.matchAll(pattern)].reduce((s, m) => s + Number(m[1]), 0);
  return {
    reconciles: sum(/^pipetrain_operator_reconcile_total\{[^}]*\} (\S+)$/gm),
    errors: sum(/^pipetrain_operator_reconcile_total\{result="error"\} (\S+)$/gm),
    depth: sum(/^workqueue_depth\{[^}]*\} (\S+)$/gm),
    durationSum: sum(/^pipetrain_operator_reconcile_duration_seconds_sum (\S+)$/gm),
    durationCount: sum(/^pipetrain_operator_reconcile_duration_seconds_count (\S+)$/gm),
  };
}

async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the operator's /readyz was not ok within ${timeoutMs} ms`);
    await sleep(200);
  }
}

// ---- counting the operator's requests ------------------------------------------------------------

interface AuditEvent {
  auditID: string;
  verb: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp: string;
  responseStatus?: { code?: number };
}

interface Window { name: keyof ScaleResult['requests']; fromMs: number; toMs: number }

/** Every request of the operator's user, once each (a watch logs two stages), in the window it was received in. */
function countRequests(file: string, windows: readonly Window[]): ScaleResult['requests'] {
  const counts = Object.fromEntries(windows.map((w) => [w.name, { total: 0, failed: 0, byKind: {}, failures: {} }])) as unknown as ScaleResult['requests'];
  const seen = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as AuditEvent;
    if (event.user?.username !== OPERATOR_USER || seen.has(event.auditID)) continue;
    seen.add(event.auditID);
    const at = Date.parse(event.requestReceivedTimestamp);
    const window = windows.find((w) => at >= w.fromMs && at < w.toMs);
    if (!window) continue;
    const count = counts[window.name];
    const ref = event.objectRef ?? {};
    const kind = `${event.verb} ${ref.resource ?? '?'}${ref.subresource ? `/${ref.subresource}` : ''}`;
    count.total += 1;
    const code = event.responseStatus?.code ?? 0;
    if (code >= 400) {
      count.failed += 1;
      count.failures[`${kind} ${code}`] = (count.failures[`${kind} ${code}`] ?? 0) + 1;
    }
    count.byKind[kind] = (count.byKind[kind] ?? 0) + 1;
  }
  return counts;
}

// ---- the benchmark ---------------------------------------------------------------------------------

/** Watches the operator's stage pods; `count()` is how many distinct pods were seen. */
async function watchPods(client: ClusterClient): Promise<{ count(): number; stop(): void }> {
  const seen = new Set<string>();
  const informer = k8s.makeInformer(client.kc, '/api/v1/pods', () => client.core.listPodForAllNamespaces({ labelSelector: MANAGED_PODS_SELECTOR }), MANAGED_PODS_SELECTOR);
  let stopped = false;
  informer.on('add', (pod) => seen.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`));
  // client-node's informer does not restart a failed watch by itself.
  informer.on('error', () => void sleep(1_000).then(() => (stopped ? undefined : informer.start().catch(() => undefined))));
  await informer.start();
  return {
    count: () => seen.size,
    stop: () => {
      stopped = true;
      void informer.stop();
    },
  };
}

/** Quiet: the queue is empty and no reconcile ran for `quietMs`. Resolves with the time it took, or undefined. */
async function waitQuiet(port: number, quietMs: number, timeoutMs: number): Promise<number | undefined> {
  const start = Date.now();
  let last = await scrape(port);
  let changedAt = Date.now();
  while (Date.now() - start < timeoutMs) {
    await sleep(500);
    const now = await scrape(port);
    if (now.reconciles !== last.reconciles || now.depth > 0) changedAt = Date.now();
    last = now;
    if (Date.now() - changedAt >= quietMs) return seconds(start, changedAt);
  }
  return undefined;
}

export async function runScaleBench(options: ScaleOptions = {}): Promise<ScaleResult> {
  const jobs = options.jobs ?? 300;
  const stages = options.stages ?? 4;
  const namespaceCount = options.namespaces ?? 5;
  const concurrency = options.concurrency ?? 20;
  const idleSeconds = options.idleSeconds ?? 30;
  const expectedPods = jobs * stages;

  // No nodes: the pods are created and stay Pending, so 1,200 of them fit on a small machine.
  const state = await startCluster({ nodes: 0, ownerPid: process.pid, auditPolicy: AUDIT_POLICY, log: progress });
  const client = new ClusterClient(state);
  let operator: OperatorProcess | undefined;
  let pods: Awaited<ReturnType<typeof watchPods>> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    await installCrd(client);
    const namespaces = Array.from({ length: namespaceCount }, (_, i) => `bench-scale-${i}`);
    for (const name of namespaces) await client.core.createNamespace({ body: { metadata: { name } } });
    const kubeconfig = await operatorKubeconfig(client);
    pods = await watchPods(client);

    const startupFrom = Date.now();
    operator = await spawnOperator(kubeconfig, options.workers);
    const { pid, metricsPort } = operator;
    await waitReady(metricsPort, 60_000);
    await sleep(2_000); // let start-up settle before the baseline
    const rss = { synced: rssMB(pid), peak: 0, end: 0 };
    rss.peak = rss.synced;
    sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssMB(pid))), 200);
    progress(`operator ${pid} ready on :${metricsPort}, RSS ${rss.synced.toFixed(0)} MB`);

    // (a) Create every job (bounded concurrency), until every stage pod exists.
    const processes = { ...state.pids, operator: pid, benchmark: process.pid };
    const before = await scrape(metricsPort);
    const cpuBefore = cpuSnapshot(processes);
    const burstFrom = Date.now();
    const bodies = Array.from({ length: jobs }, (_, i) => ({
      namespace: namespaces[i % namespaceCount]!,
      body: tinyJob(`scale-${String(i).padStart(3, '0')}`, (s) => ((s.pipeline as Record<string, unknown>).stages = stages)),
    }));
    let created = 0;
    let createdAt = 0;
    const creating = inParallel(bodies, concurrency, async ({ namespace, body }) => {
      await createJob(client, namespace, body);
      created += 1;
      createdAt = Date.now();
    });
    let lastReport = Date.now();
    let failure: unknown;
    creating.catch((error: unknown) => (failure = error));
    while (pods.count() < expectedPods) {
      if (failure) throw failure;
      if (seconds(burstFrom) > 180) throw new Error(`only ${pods.count()}/${expectedPods} pods after 180 s`);
      if (Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        progress(`${seconds(burstFrom).toFixed(0)} s: ${created}/${jobs} jobs created, ${pods.count()}/${expectedPods} pods, operator RSS ${rssMB(pid).toFixed(0)} MB`);
      }
      await sleep(100);
    }
    const podsAt = Date.now();
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(processes));
    await creating;
    const afterBurst = await scrape(metricsPort);
    progress(`all ${expectedPods} pods exist after ${seconds(burstFrom, podsAt).toFixed(1)} s; waiting for the operator to go quiet`);

    // Until the operator is quiet (status writes for the pods' Pending state, the scheduler's updates).
    const settleSeconds = await waitQuiet(metricsPort, 5_000, 120_000);
    const settledAt = Date.now();
    const afterSettle = await scrape(metricsPort);
    progress(settleSeconds === undefined ? 'the operator did not go quiet within 120 s' : `quiet after ${settleSeconds.toFixed(1)} s; idle window of ${idleSeconds} s`);

    // (b) Nothing changes: the operator should send (almost) nothing.
    await sleep(idleSeconds * 1000);
    const idleTo = Date.now();
    const afterIdle = await scrape(metricsPort);
    rss.end = rssMB(pid);
    clearInterval(sampler);
    await operator.stop();
    const requests = countRequests(auditLog(state.stateDir), [
      { name: 'startup', fromMs: startupFrom, toMs: burstFrom },
      { name: 'burst', fromMs: burstFrom, toMs: podsAt },
      { name: 'settle', fromMs: podsAt, toMs: settledAt },
      { name: 'idle', fromMs: settledAt, toMs: idleTo },
    ]);
    return {
      jobs,
      stages,
      namespaces: namespaceCount,
      concurrency,
      workers: options.workers,
      createSeconds: seconds(burstFrom, createdAt),
      podsSeconds: seconds(burstFrom, podsAt),
      settleSeconds,
      idleSeconds: seconds(settledAt, idleTo),
      reconciles: {
        burst: afterBurst.reconciles - before.reconciles,
        settle: afterSettle.reconciles - afterBurst.reconciles,
        idle: afterIdle.reconciles - afterSettle.reconciles,
        errors: afterIdle.errors - before.errors,
        meanSeconds: (afterIdle.durationSum - before.durationSum) / Math.max(1, afterIdle.durationCount - before.durationCount),
      },
      rss,
      requests,
      cpu,
    };
  } catch (error) {
    if (operator) progress(`operator log (last lines):\n${operator.logTail()}`);
    throw error;
  } finally {
    clearInterval(sampler);
    pods?.stop();
    await operator?.stop();
    await stopCluster(state);
  }
}

export function formatScaleBench(r: ScaleResult): string {
  const perJob = (c: RequestCount): string => (c.total / r.jobs).toFixed(2);
  const kinds = (c: RequestCount): string =>
    Object.entries(c.byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ') || '—';
  const failed = (c: RequestCount): string =>
    c.failed ? ` (${c.failed} failed: ${Object.entries(c.failures).map(([kind, n]) => `${kind} ×${n}`).join(', ')})` : '';
  const pods = r.jobs * r.stages;
  const cpuUse = [
    ...Object.entries(r.cpu.seconds)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${s.toFixed(1)} s`),
    `machine ${(r.cpu.machineBusy * 100).toFixed(0)} % busy (${r.cpu.cores} cores)`,
  ].join(', ');
  const settle = r.settleSeconds === undefined ? 'did not go quiet within 120 s' : `${r.settleSeconds.toFixed(1)} s`;
  return [
    `${r.jobs} PipelineJobs × ${r.stages} stages = ${pods} pods in ${r.namespaces} namespaces, ${r.concurrency} creates in flight; no nodes (pods stay Pending); operator --workers ${r.workers ?? 'default (4)'}`,
    '',
    '| what | measured | goal |',
    '|---|---|---|',
    `| every stage pod exists (from the first create) | ${r.podsSeconds.toFixed(1)} s (the jobs were all created after ${r.createSeconds.toFixed(1)} s) | ≤ 60 s |`,
    `| reconciles until every pod existed | ${r.reconciles.burst}: ${(r.reconciles.burst / r.podsSeconds).toFixed(1)}/s | |`,
    `| then until quiet (queue empty, 5 s without a reconcile) | ${r.reconciles.settle} reconciles, ${settle} | |`,
    `| reconciles in the idle window (${r.idleSeconds.toFixed(0)} s) | ${r.reconciles.idle} | 0 |`,
    `| reconcile errors; mean reconcile time | ${r.reconciles.errors}; ${(r.reconciles.meanSeconds * 1000).toFixed(0)} ms | |`,
    `| operator RSS: synced and idle / peak / at the end | ${r.rss.synced.toFixed(0)} / ${r.rss.peak.toFixed(0)} / ${r.rss.end.toFixed(0)} MB | < 300 MB |`,
    `| API requests per job: create → every pod exists | ${perJob(r.requests.burst)} (${r.requests.burst.total}${failed(r.requests.burst)}) | |`,
    `| API requests per job: then until quiet | ${perJob(r.requests.settle)} (${r.requests.settle.total}${failed(r.requests.settle)}) | |`,
    `| API requests per job: idle window | ${perJob(r.requests.idle)} (${r.requests.idle.total}${failed(r.requests.idle)}) | ≈ 0 |`,
    `| CPU from the first create until every pod existed | ${cpuUse} | |`,
    '',
    '| window | the operator\'s API requests (audit log) |',
    '|---|---|',
    `| start-up (before any job) | ${kinds(r.requests.startup)}${failed(r.requests.startup)} |`,
    `| create → every pod exists | ${kinds(r.requests.burst)}${failed(r.requests.burst)} |`,
    `| then until quiet | ${kinds(r.requests.settle)}${failed(r.requests.settle)} |`,
    `| idle | ${kinds(r.requests.idle)}${failed(r.requests.idle)} |`,
  ].join('\n');
}
