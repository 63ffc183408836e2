// Operator metrics: pipetrain_operator_* for the job domain, and controller-runtime's names for the
// reconcile loop and work queue so existing dashboards work (shared/notes/ecosystem.md §2).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CONTROLLER_NAME, Phases, Reasons } from './constants.ts';
import type { QueueHooks } from './queue.ts';

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
  for (const reason of [Reasons.StageFailed, Reasons.PeerLost, Reasons.PodDeleted, Reasons.PodEvicted, Reasons.NodeNotReady, Reasons.NodeLeaseExpired, Reasons.NodeGone]) restarts.inc({ reason }, 0);
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
    restarted: (reason: string) => restarts.inc({ reason }),
    detected: (seconds: number) => detection.observe(seconds),
    recovered: (seconds: number) => recovery.observe(seconds),
    informerRestarted: (resource: string) => informerRestarts.inc({ resource }),
    leading: (isLeader: boolean) => leader.set(isLeader ? 1 : 0),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
