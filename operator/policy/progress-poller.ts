// Reads GET /status from the stage pods of running jobs at a bounded rate: each job at most once
// per interval, at most `concurrency` requests in flight, each with a short timeout. Stage pods
// get no API credentials; the operator comes to them. A change in step or loss enqueues the job so
// its status is written (the reconcile reads the latest progress from here).
import type * as k8s from '@kubernetes/client-node';
import { request } from 'node:http';
import { Components, Labels } from '../constants.ts';
import { attemptOf } from './context.ts';
import { jobKey } from '../children/names.ts';
import { mergeReports, type Progress, type StageReport } from './stage-reports.ts';

export interface PollerOptions {
  /** Stage pods of all jobs, from the pod informer's cache. */
  pods(): readonly k8s.V1Pod[];
  /** metricsPort of a job (from the job cache). */
  metricsPort(namespace: string, name: string): number | undefined;
  onChange(key: string): void;
  intervalMs?: number;
  timeoutMs?: number;
  concurrency?: number;
  fetchStatus?: (ip: string, port: number, timeoutMs: number) => Promise<StageReport | undefined>;
}

export class ProgressPoller {
  private readonly latest = new Map<string, Progress>();
  private timer?: NodeJS.Timeout;
  private running = false;

  private readonly options: PollerOptions;

  constructor(options: PollerOptions) {
    this.options = options;
  }

  get(namespace: string, name: string): Progress | undefined {
    return this.latest.get(jobKey(namespace, name));
  }

  start(): void {
    const interval = this.options.intervalMs ?? 2000;
    this.timer = setInterval(() => void this.pollOnce(), interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round over every job with running stage pods (skipped if the last round still runs). */
  async pollOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const jobs = new Map<string, k8s.V1Pod[]>();
      for (const pod of this.options.pods()) {
        const name = pod.metadata?.labels?.[Labels.job];
        // Stage pods only: the data preparation pod serves no /status.
        if (!name || pod.metadata?.labels?.[Labels.component] === Components.prepare || pod.status?.phase !== 'Running' || !pod.status.podIP || pod.metadata?.deletionTimestamp) continue;
        const key = jobKey(pod.metadata?.namespace ?? '', name);
        jobs.set(key, [...(jobs.get(key) ?? []), pod]);
      }
      for (const key of this.latest.keys()) if (!jobs.has(key)) this.latest.delete(key);
      const tasks = [...jobs.entries()].map(([key, pods]) => () => this.pollJob(key, pods));
      await runLimited(tasks, this.options.concurrency ?? 16);
    } finally {
      this.running = false;
    }
  }

  private async pollJob(key: string, pods: k8s.V1Pod[]): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const port = this.options.metricsPort(namespace, name);
    if (port === undefined) return;
    const attempt = Math.max(...pods.map(attemptOf));
    const current = pods.filter((p) => attemptOf(p) === attempt);
    const stages = Math.max(...current.map((p) => Number(p.metadata?.labels?.[Labels.stage] ?? 0))) + 1;
    const fetchStatus = this.options.fetchStatus ?? fetchStageStatus;
    const reports: (StageReport | undefined)[] = new Array(stages).fill(undefined);
    await Promise.all(
      current.map(async (pod) => {
        const stage = Number(pod.metadata?.labels?.[Labels.stage]);
        reports[stage] = await fetchStatus(pod.status?.podIP ?? '', port, this.options.timeoutMs ?? 1000).catch(() => undefined);
      }),
    );
    const merged = mergeReports(reports, attempt, Date.now());
    const before = this.latest.get(key);
    // Keep the last known values when a stage could not be reached this round.
    const next: Progress = before && before.attempt === attempt ? { ...before, ...definedOnly(merged) } : merged;
    this.latest.set(key, next);
    if (!before || before.step !== next.step || before.loss !== next.loss || before.attempt !== next.attempt || before.checkpointStep !== next.checkpointStep || before.recomputedSteps !== next.recomputedSteps) {
      this.options.onChange(key);
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      await task?.().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

export function fetchStageStatus(ip: string, port: number, timeoutMs: number): Promise<StageReport | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port, path: '/status', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.length + body.length > 65_536 ? '' : chunk));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(body) as StageReport) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
