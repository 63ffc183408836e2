// Operator metrics: pipetrain_operator_* for the job domain, and controller-runtime's names for the
// reconcile loop and work queue so existing dashboards work (shared/notes/ecosystem.md §2).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CONTROLLER_NAME, Phases, RESTART_REASONS } from './constants.ts';
import type { Observations } from './policy/draft.ts';
import { jobKey } from './children/names.ts';
import type { QueueHooks } from './machinery/queue.ts';

/** One PipelineJob's labels on the per-job series (honorLabels keeps them over the scrape target's). */
export type JobLabels = { namespace: string; job: string };

export type ReconcileResult = 'success' | 'error' | 'requeue_after';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RECOVERY_BUCKETS = [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600];

export function createOperatorMetrics(options: { collectDefault?: boolean } = {}) {
  const registry = new Registry();
  const registers = [registry];
  const controller = CONTROLLER_NAME;
  const reconcileTotal = new Counter({ name: 'pipetrain_operator_reconcile_total', help: 'Reconciles of PipelineJobs by result.', labelNames: ['result'], registers });
  const reconcileDuration = new Histogram({ name: 'pipetrain_operator_reconcile_duration_seconds', help: 'Time one PipelineJob reconcile took.', buckets: DURATION_BUCKETS, registers });
  const jobs = new Gauge({ name: 'pipetrain_operator_jobs', help: 'PipelineJobs by phase.', labelNames: ['phase'], registers });
  const restarts = new Counter({ name: 'pipetrain_operator_restarts_total', help: 'Gang restarts of PipelineJobs by failure reason.', labelNames: ['reason'], registers });
  const detection = new Histogram({ name: 'pipetrain_operator_failure_detection_seconds', help: 'Time from a stage failure (exit, last node heartbeat) to the operator noticing it, where known.', buckets: RECOVERY_BUCKETS, registers });
  const recovery = new Histogram({ name: 'pipetrain_operator_recovery_seconds', help: 'Time from noticing a failure to all stages of the next attempt running.', buckets: RECOVERY_BUCKETS, registers });
  // Per job, under the names and labels the local supervisor uses, so the Job dashboard reads the
  // same series from a cluster as from `pipetrain train` (see docs/metrics.md).
  const jobLabels = ['namespace', 'job'];
  const jobRestarts = new Counter({ name: 'pipetrain_restarts_total', help: 'Pipeline restarts from the last committed checkpoint, by cause.', labelNames: [...jobLabels, 'reason'], registers });
  const jobLostSteps = new Counter({ name: 'pipetrain_lost_steps_total', help: 'Steps computed again after restarts (done before the failure, after the resumed checkpoint).', labelNames: jobLabels, registers });
  const jobDetection = new Histogram({ name: 'pipetrain_failure_detection_seconds', help: 'From a stage failure (exit, last node heartbeat) to the operator noticing it, where known.', labelNames: jobLabels, buckets: RECOVERY_BUCKETS, registers });
  const jobRecovery = new Histogram({ name: 'pipetrain_recovery_duration_seconds', help: 'From a detected failure to the first step completed after the resume.', labelNames: jobLabels, buckets: RECOVERY_BUCKETS, registers });
  // Jobs with series. A job's series start at 0 on its first reconcile, so that rate() and
  // increase() see its first restart (a series born at 1 shows no increase).
  const tracked = new Map<string, JobLabels>();
  const trackJob = (job: JobLabels): void => {
    if (tracked.has(jobKey(job.namespace, job.job))) return;
    tracked.set(jobKey(job.namespace, job.job), job);
    for (const reason of RESTART_REASONS) jobRestarts.inc({ ...job, reason }, 0);
    jobLostSteps.inc(job, 0);
    jobDetection.zero(job);
    jobRecovery.zero(job);
  };
  const forgetJob = (job: JobLabels): void => {
    if (!tracked.delete(jobKey(job.namespace, job.job))) return;
    for (const reason of RESTART_REASONS) jobRestarts.remove({ ...job, reason });
    for (const metric of [jobLostSteps, jobDetection, jobRecovery]) metric.remove(job);
  };
  const informerRestarts = new Counter({ name: 'pipetrain_operator_informer_restarts_total', help: 'Watches re-established after an error, by resource.', labelNames: ['resource'], registers });
  const leader = new Gauge({ name: 'pipetrain_operator_leader', help: '1 while this replica holds the leader Lease.', registers });
  // controller-runtime names
  const crReconcile = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller.', labelNames: ['controller', 'result'], registers });
  const crErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller.', labelNames: ['controller'], registers });
  const crTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller.', labelNames: ['controller'], buckets: DURATION_BUCKETS, registers });
  const activeWorkers = new Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller.', labelNames: ['controller'], registers });
  const wqLabels = ['name'];
  const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue.', labelNames: wqLabels, registers });
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue.', labelNames: wqLabels, registers });
  const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue.', labelNames: wqLabels, registers });
  const queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: wqLabels, buckets: DURATION_BUCKETS, registers });
  const workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: wqLabels, buckets: DURATION_BUCKETS, registers });
  if (options.collectDefault ?? true) collectDefaultMetrics({ register: registry });

  // Known label values start at 0 so the series exist before the first event.
  for (const result of ['success', 'error', 'requeue_after'] as const) {
    reconcileTotal.inc({ result }, 0);
    crReconcile.inc({ controller, result }, 0);
  }
  for (const phase of Phases) jobs.set({ phase }, 0);
  for (const reason of RESTART_REASONS) restarts.inc({ reason }, 0);
  crErrors.inc({ controller }, 0);
  activeWorkers.set({ controller }, 0);
  const name = { name: controller };
  depth.set(name, 0);
  adds.inc(name, 0);
  retries.inc(name, 0);

  const queueHooks: QueueHooks = {
    depth: (d) => depth.set(name, d),
    added: () => adds.inc(name),
    retried: () => retries.inc(name),
    queued: (s) => queueDuration.observe(name, s),
    worked: (s) => workDuration.observe(name, s),
  };

  return {
    registry,
    queueHooks,
    reconciled(result: ReconcileResult, seconds: number): void {
      reconcileTotal.inc({ result });
      reconcileDuration.observe(seconds);
      crReconcile.inc({ controller, result });
      crTime.observe({ controller }, seconds);
      if (result === 'error') crErrors.inc({ controller });
    },
    workers: (n: number) => activeWorkers.set({ controller }, n),
    jobsByPhase(counts: Record<string, number>): void {
      for (const phase of Phases) jobs.set({ phase }, counts[phase] ?? 0);
    },
    /** Turns one reconcile's observations of a job into metrics (and starts the job's series at 0). */
    observed(job: JobLabels, seen: Observations): void {
      trackJob(job);
      if (seen.restartReason) {
        restarts.inc({ reason: seen.restartReason });
        jobRestarts.inc({ ...job, reason: seen.restartReason });
        jobLostSteps.inc(job, seen.lostSteps ?? 0);
      }
      if (seen.detectionSeconds !== undefined) {
        detection.observe(seen.detectionSeconds);
        jobDetection.observe(job, seen.detectionSeconds);
      }
      if (seen.recoverySeconds !== undefined) recovery.observe(seen.recoverySeconds);
      if (seen.trainingAgainSeconds !== undefined) jobRecovery.observe(job, seen.trainingAgainSeconds);
    },
    /** A deleted job's series go with it: per-job series must not pile up in a long-lived operator. */
    forgetJob,
    /** Leadership lost: the new leader counts from here on; this replica keeps no per-job series. */
    forgetAllJobs(): void {
      for (const job of [...tracked.values()]) forgetJob(job);
    },
    informerRestarted: (resource: string) => informerRestarts.inc({ resource }),
    leading: (isLeader: boolean) => leader.set(isLeader ? 1 : 0),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
