// node:test helper: one running cluster per test file (suite), a fresh namespace per test, and the
// component and pod logs printed when a test fails.
//
//   const cluster = useCluster();
//   cluster.test('a Deployment becomes Available', async ({ client, namespace }) => { ... });
import { after, before, test, type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterClient } from './control.ts';
import { componentLogTail, startCluster, stopCluster, type StartOptions } from './cluster.ts';
import { type ClusterState, componentLog } from './state.ts';
import { errorMessage, isRoot, waitFor } from './util.ts';

export interface ClusterTestContext {
  client: ClusterClient;
  /** A namespace created for this test (deleted afterwards), whose `default` ServiceAccount exists. */
  namespace: string;
  t: TestContext;
}

/** Why cluster tests cannot run here, or undefined when they can. */
export function clusterSkipReason(): string | undefined {
  if (process.env.PIPETRAIN_SKIP_CLUSTER_TESTS) return 'PIPETRAIN_SKIP_CLUSTER_TESTS is set';
  if (!isRoot()) return 'cluster tests need root (network namespaces)';
  return undefined;
}

function grepLog(stateDir: string, component: string, pattern: RegExp, lines: number): string {
  try {
    return readFileSync(componentLog(stateDir, component), 'utf8').split('\n').filter((l) => pattern.test(l)).slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'agent'];

function podLogTails(client: ClusterClient, namespace: string): string {
  const base = join(client.state.stateDir, 'pods', namespace);
  if (!existsSync(base)) return '';
  return readdirSync(base)
    .map((name) => `----- pod ${namespace}/${name} -----\n${client.podLogs(namespace, name).trimEnd().split('\n').slice(-20).join('\n')}`)
    .join('\n');
}

/** A Pod Security Standards level, enforced by the API server's built-in PodSecurity admission. */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface UseClusterOptions extends StartOptions {
  /**
   * Label each test's namespace `pod-security.kubernetes.io/enforce=<level>`, so the API server
   * refuses any pod below it. Job namespaces use `restricted`, as a hardened cluster does.
   */
  podSecurity?: PodSecurityLevel;
}

/** The labels that make the API server enforce a Pod Security level in a namespace. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': 'latest' };
}

export function useCluster(opts: UseClusterOptions = {}): {
  test(name: string, fn: (ctx: ClusterTestContext) => Promise<void>, options?: { timeout?: number }): void;
  client(): ClusterClient;
} {
  const { podSecurity, ...startOptions } = opts;
  const skip = clusterSkipReason();
  let state: ClusterState | undefined;
  let client: ClusterClient | undefined;
  const killOnExit = (): void => {
    // Last resort when the runner exits before `after` ran: stale cleanup on the next start removes the rest.
    for (const pid of Object.values(state?.pids ?? {})) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };

  before(
    async () => {
      if (skip) return;
      state = await startCluster({ ...startOptions, log: (line) => process.stderr.write(`[cluster] ${line}\n`) });
      client = new ClusterClient(state);
      process.once('exit', killOnExit);
    },
    { timeout: 60 * 60_000 }, // a cold tool build on a fresh machine runs inside this hook
  );

  after(
    async () => {
      if (!state) return;
      process.removeListener('exit', killOnExit);
      await stopCluster(state);
    },
    { timeout: 60_000 },
  );

  return {
    client() {
      if (!client) throw new Error('the cluster is not running');
      return client;
    },
    test(name, fn, options = {}) {
      test(name, { skip, timeout: options.timeout ?? 120_000 }, async (t) => {
        if (!client || !state) throw new Error('the cluster did not start');
        const c = client;
        const namespace = `t-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40).replace(/-+$/, '')}-${randomBytes(2).toString('hex')}`;
        const labels = podSecurity ? podSecurityLabels(podSecurity) : undefined;
        await c.core.createNamespace({ body: { metadata: { name: namespace, labels } } });
        try {
          await waitFor(`ServiceAccount ${namespace}/default`, async () => {
            await c.core.readNamespacedServiceAccount({ name: 'default', namespace });
            return true;
          });
          await fn({ client: c, namespace, t });
        } catch (err) {
          const logs = [...COMPONENTS.map((comp) => componentLogTail(c.state.stateDir, comp, comp === 'agent' ? 60 : 25)), podLogTails(c, namespace)];
          const events = await c.core
            .listNamespacedEvent({ namespace })
            .then((l) => l.items.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`).join('\n'))
            .catch((e: unknown) => `events unavailable: ${errorMessage(e)}`);
          const nodes = await c.core
            .listNode()
            .then((l) =>
              l.items
                .map((n) => {
                  const ready = n.status?.conditions?.find((cond) => cond.type === 'Ready');
                  const taints = (n.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`).join(',') || 'none';
                  return `${n.metadata?.name}: Ready=${ready?.status} (${ready?.reason}) taints=${taints}`;
                })
                .join('\n'),
            )
            .catch((e: unknown) => `nodes unavailable: ${errorMessage(e)}`);
          const lifecycle = grepLog(c.state.stateDir, 'kube-controller-manager', /node_lifecycle_controller|taint/, 20);
          process.stderr.write(
            `\n===== test "${name}" failed: logs of cluster ${c.state.runId} =====\n${logs.join('\n')}\n` +
              `----- node lifecycle (kube-controller-manager) -----\n${lifecycle}\n----- nodes -----\n${nodes}\n` +
              `----- events in ${namespace} -----\n${events}\n=====\n`,
          );
          throw err;
        } finally {
          await c.core.deleteNamespace({ name: namespace }).catch(() => undefined);
        }
      });
    },
  };
}
