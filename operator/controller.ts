// The controller: informers map every event to the owning job's key on a coalescing work queue;
// workers (only while leading) reconcile one key at a time from the cache, write the status once,
// then emit the queued events. Nothing a reconcile throws escapes: it is logged, counted and retried
// with per-key exponential back-off.
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../trainer/src/api/schema.ts';
import { DEFAULT_METRICS_PORT } from '../trainer/src/contract/index.ts';
import { ItemBackoff } from './machinery/backoff.ts';
import { Labels, NODE_LEASE_NAMESPACE } from './constants.ts';
import { Watched } from './machinery/informers.ts';
import type { PipelineJobObject } from './policy/job.ts';
import { childActions, eventRecorder, writeStatus, type Apis } from './k8s-actions.ts';
import { errorMessage, isConflict } from './machinery/k8s-errors.ts';
import { MANAGED_PODS_SELECTOR } from './children/labels.ts';
import type { Logger } from './machinery/log.ts';
import type { OperatorMetrics } from './metrics.ts';
import { jobKey, splitKey } from './children/names.ts';
import { ProgressPoller } from './policy/progress-poller.ts';
import { WorkQueue } from './machinery/queue.ts';
import { reconcileJob, type ReconcileEnv } from './policy/reconcile.ts';
import { stableJson } from './machinery/stable-json.ts';

export interface ControllerOptions {
  kc: k8s.KubeConfig;
  apis: Apis;
  /** Watch one namespace only; undefined: all namespaces. */
  namespace?: string;
  log: Logger;
  metrics: OperatorMetrics;
  defaultImage: string;
  stageCommand: string[];
  identity: string;
  workers?: number;
  pollIntervalMs?: number;
}

export class Controller {
  readonly jobs: Watched<PipelineJobObject & k8s.KubernetesObject>;
  readonly pods: Watched<k8s.V1Pod>;
  readonly nodes: Watched<k8s.V1Node>;
  readonly leases: Watched<k8s.V1Lease>;
  readonly poller: ProgressPoller;
  private queue?: WorkQueue;
  private workers: Promise<void>[] = [];
  private readonly recordEvent: ReturnType<typeof eventRecorder>;

  private readonly options: ControllerOptions;

  constructor(options: ControllerOptions) {
    this.options = options;
    const { kc, apis, namespace: ns, log, metrics } = options;
    // One informer per watched kind; each maps its events to the keys of the jobs concerned.
    const watch = <T extends k8s.KubernetesObject>(resource: string, path: string, list: k8s.ListPromise<T>, onChange: (object: T) => void, labelSelector?: string) =>
      new Watched<T>({ log, resource, onRestart: () => metrics.informerRestarted(resource), informer: k8s.makeInformer(kc, path, list, labelSelector), onChange });
    const custom = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
    const inNamespace = (path: string) => (ns ? `${path}/namespaces/${ns}` : path);
    this.jobs = watch(
      PLURAL,
      `${inNamespace(`/apis/${API_GROUP}/${API_VERSION}`)}/${PLURAL}`,
      () => (ns ? apis.custom.listNamespacedCustomObject({ ...custom, namespace: ns }) : apis.custom.listClusterCustomObject(custom)) as Promise<k8s.KubernetesListObject<PipelineJobObject & k8s.KubernetesObject>>,
      (job) => this.enqueue(jobKey(job.metadata?.namespace ?? '', job.metadata?.name ?? '')),
    );
    this.pods = watch(
      'pods',
      `${inNamespace('/api/v1')}/pods`,
      () => (ns ? apis.core.listNamespacedPod({ namespace: ns, labelSelector: MANAGED_PODS_SELECTOR }) : apis.core.listPodForAllNamespaces({ labelSelector: MANAGED_PODS_SELECTOR })),
      (pod) => {
        const job = pod.metadata?.labels?.[Labels.job];
        if (job) this.enqueue(jobKey(pod.metadata?.namespace ?? '', job));
      },
      MANAGED_PODS_SELECTOR,
    );
    // A node turning NotReady (or vanishing) concerns every job with a stage pod on it.
    this.nodes = watch('nodes', '/api/v1/nodes', () => apis.core.listNode(), (node) => {
      for (const pod of this.pods.cache.list()) {
        const job = pod.metadata?.labels?.[Labels.job];
        if (job && pod.spec?.nodeName === node.metadata?.name) this.enqueue(jobKey(pod.metadata?.namespace ?? '', job));
      }
    });
    // Lease renewals (every few seconds per node) enqueue nothing: reconciles re-check when a lease would expire.
    this.leases = watch('leases', `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`, () => apis.coordination.listNamespacedLease({ namespace: NODE_LEASE_NAMESPACE }), () => undefined);
    this.poller = new ProgressPoller({
      pods: () => this.pods.cache.list(),
      metricsPort: (namespace, name) => {
        const port = (this.jobs.cache.get(name, namespace)?.spec as { metricsPort?: unknown } | undefined)?.metricsPort;
        return typeof port === 'number' ? port : DEFAULT_METRICS_PORT;
      },
      onChange: (key) => this.enqueue(key),
      intervalMs: options.pollIntervalMs,
    });
    this.recordEvent = eventRecorder(apis.core, options.identity);
  }

  /** Starts all informers; resolves once each has listed (or keeps retrying it in the background). */
  async startInformers(): Promise<void> {
    await Promise.all([this.jobs.start(), this.pods.start(), this.nodes.start(), this.leases.start()]);
    this.poller.start();
  }

  informersSynced(): boolean {
    return [this.jobs, this.pods, this.nodes, this.leases].every((w) => w.synced && w.watching);
  }

  /** Leader only: a fresh queue with every known job, and the workers. */
  startWorkers(): void {
    if (this.queue) return;
    const queue = new WorkQueue({ hooks: this.options.metrics.queueHooks, backoff: new ItemBackoff({ baseMs: 5, maxMs: 300_000 }) });
    this.queue = queue;
    for (const job of this.jobs.cache.list()) queue.add(jobKey(job.metadata?.namespace ?? '', job.metadata?.name ?? ''));
    const count = this.options.workers ?? 4;
    this.options.metrics.workers(count);
    this.workers = Array.from({ length: count }, () => this.work(queue));
  }

  async stopWorkers(): Promise<void> {
    this.queue?.shutDown();
    this.queue = undefined;
    await Promise.all(this.workers);
    this.workers = [];
    this.options.metrics.workers(0);
    this.options.metrics.forgetAllJobs();
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    this.poller.stop();
    await Promise.all([this.jobs.stop(), this.pods.stop(), this.nodes.stop(), this.leases.stop()]);
  }

  private enqueue(key: string): void {
    this.queue?.add(key);
  }

  private async work(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.process(queue, key);
      } finally {
        queue.done(key);
      }
    }
  }

  private async process(queue: WorkQueue, key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const object = this.jobs.cache.get(name, namespace);
    if (!object || object.metadata.deletionTimestamp) {
      queue.forget(key);
      this.options.metrics.forgetJob({ namespace, job: name });
      return;
    }
    const started = performance.now();
    const log = this.options.log.with({ pipelinejob: key });
    try {
      const pods = this.pods.cache.list(namespace).filter((p) => p.metadata?.labels?.[Labels.job] === name);
      const draft = await reconcileJob(object, pods, this.env());
      if (stableJson(draft.status) !== stableJson(object.status ?? {})) {
        await writeStatus(this.options.apis.custom, object, draft.status);
      }
      // Events only after the status write: a retried reconcile never repeats them.
      for (const event of draft.events) {
        log.info(event.message, { reason: event.reason, type: event.type });
        await this.recordEvent(object, event).catch((error: unknown) => log.error('Failed to record Event', { error: errorMessage(error) }));
      }
      this.options.metrics.observed({ namespace, job: name }, draft.observations);
      queue.forget(key);
      if (draft.requeueAfterMs !== undefined) queue.addAfter(key, draft.requeueAfterMs);
      this.options.metrics.reconciled(draft.requeueAfterMs !== undefined ? 'requeue_after' : 'success', (performance.now() - started) / 1000);
    } catch (error) {
      // A Conflict means our cache was behind: retry soon, it is not worth an error line.
      if (!isConflict(error)) log.error('Reconcile failed', { error: errorMessage(error), retries: queue.retries(key) });
      queue.addRateLimited(key);
      this.options.metrics.reconciled('error', (performance.now() - started) / 1000);
    } finally {
      this.countPhases();
    }
  }

  private env(): ReconcileEnv {
    return {
      now: Date.now(),
      actions: childActions(this.options.apis),
      nodes: { node: (n) => this.nodes.cache.get(n), lease: (n) => this.leases.cache.get(n, NODE_LEASE_NAMESPACE), leases: () => this.leases.cache.list() },
      progress: (namespace, name) => this.poller.get(namespace, name),
      defaultImage: this.options.defaultImage,
      stageCommand: this.options.stageCommand,
    };
  }

  private countPhases(): void {
    const counts: Record<string, number> = {};
    for (const job of this.jobs.cache.list()) {
      const phase = job.status?.phase ?? 'Pending';
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    this.options.metrics.jobsByPhase(counts);
  }
}
