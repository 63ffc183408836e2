// Runs the operator: health and metrics server, informers, leader election, workers; graceful
// shutdown. The same function runs inside tests and as the `pipetrain operator` command.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { DEFAULT_STAGE_COMMAND, DEFAULT_STAGE_IMAGE } from '../trainer/src/contract/index.ts';
import { Controller } from './controller.ts';
import { makeApis } from './k8s-actions.ts';
import { LeaderElector } from './machinery/leader-election.ts';
import { createLogger, type LogFormat, type Logger } from './machinery/log.ts';
import { createOperatorMetrics } from './metrics.ts';
import { parseAddress, startHealthServer } from './machinery/server.ts';

export interface OperatorOptions {
  /** Kubeconfig file; default: in-cluster config, else $KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
  namespace?: string;
  metricsAddress?: string;
  leaderElect?: boolean;
  /** Namespace of the leader Lease. Default: --namespace, $POD_NAMESPACE, or "default". */
  leaseNamespace?: string;
  leaseName?: string;
  logFormat?: LogFormat;
  logger?: Logger;
  stageImage?: string;
  stageCommand?: string[];
  identity?: string;
  workers?: number;
  pollIntervalMs?: number;
}

export interface RunningOperator {
  metricsPort: number;
  controller: Controller;
  isLeader(): boolean;
  stop(): Promise<void>;
}

function loadKubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export async function runOperator(options: OperatorOptions = {}): Promise<RunningOperator> {
  const log = options.logger ?? createLogger(options.logFormat ?? 'json');
  const kc = loadKubeConfig(options.kubeconfig);
  const apis = makeApis(kc);
  const metrics = createOperatorMetrics();
  const identity = options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  const controller = new Controller({
    kc,
    apis,
    namespace: options.namespace,
    log,
    metrics,
    defaultImage: options.stageImage ?? DEFAULT_STAGE_IMAGE,
    stageCommand: options.stageCommand ?? DEFAULT_STAGE_COMMAND,
    identity,
    workers: options.workers,
    pollIntervalMs: options.pollIntervalMs,
  });
  const { host, port } = parseAddress(options.metricsAddress ?? ':8080');
  const server = await startHealthServer({ host, port, registry: metrics.registry, ready: () => controller.informersSynced() });
  log.info('Started operator', { identity, namespace: options.namespace ?? '(all)', metricsPort: server.port, leaderElect: options.leaderElect ?? false });
  // Informers warm up on every replica, so a new leader acts on a full cache at once.
  await controller.startInformers();
  log.info('Synced caches', { synced: controller.informersSynced() });

  let elector: LeaderElector | undefined;
  let leading = false;
  const lead = (on: boolean): void => {
    leading = on;
    metrics.leading(on);
    if (on) controller.startWorkers();
    else void controller.stopWorkers();
  };
  if (options.leaderElect) {
    const namespace = options.leaseNamespace ?? options.namespace ?? process.env.POD_NAMESPACE ?? 'default';
    const name = options.leaseName ?? 'pipetrain-operator';
    elector = new LeaderElector({
      identity,
      name,
      namespace,
      client: {
        get: () => apis.coordination.readNamespacedLease({ name, namespace }),
        create: (body) => apis.coordination.createNamespacedLease({ namespace, body }),
        replace: (body) => apis.coordination.replaceNamespacedLease({ name, namespace, body }),
      },
      onStartedLeading: () => lead(true),
      onStoppedLeading: () => lead(false),
      log: (message, fields) => log.info(message, fields),
    });
    elector.start();
  } else lead(true);

  return {
    metricsPort: server.port,
    controller,
    isLeader: () => leading,
    async stop() {
      log.info('Stopping operator', { identity });
      // Finish in-flight reconciles, then hand the lease over at once instead of after 15 s.
      await controller.stopWorkers();
      await elector?.stop();
      await controller.stop();
      await server.close();
      log.info('Stopped operator', { identity });
    },
  };
}
