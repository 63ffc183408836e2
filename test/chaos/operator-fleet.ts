// Operator replicas as real processes (`pipetrain operator --leader-elect`), so a fault can SIGKILL
// one the way a node crash would: no graceful stop, no Lease released. Their logs go to files in
// the cluster's state directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterClient } from '../cluster/control.ts';
import { waitFor } from '../cluster/util.ts';
import { REPO, STAGE_COMMAND } from '../e2e/operator/helpers.ts';

interface Replica {
  identity: string;
  metricsPort: number;
  child: ChildProcess;
  exited: Promise<void>;
}

export class OperatorFleet {
  private readonly client: ClusterClient;
  private readonly namespace: string;
  private readonly replicas: Replica[] = [];
  private readonly freePort: () => Promise<number>;
  private started = 0;

  constructor(client: ClusterClient, namespace: string, freePort: () => Promise<number>) {
    this.client = client;
    this.namespace = namespace;
    this.freePort = freePort;
  }

  /** Starts a replica named op-<n> with its metrics on a free port; returns its identity. */
  async start(): Promise<string> {
    const identity = `op-${this.started++}`;
    const metricsPort = await this.freePort();
    const log = openSync(join(this.client.state.stateDir, 'logs', `operator-${identity}.log`), 'a');
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'operator/bin/pipetrain.js'), 'operator',
        `--kubeconfig=${this.client.state.kubeconfig}`, `--namespace=${this.namespace}`,
        '--leader-elect', `--lease-namespace=${this.namespace}`, `--identity=${identity}`,
        `--metrics-address=127.0.0.1:${metricsPort}`, '--log-format=text', `--stage-command=${STAGE_COMMAND.join(' ')}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.replicas.push({ identity, metricsPort, child, exited });
    return identity;
  }

  /** The identity in the leader Lease, once one holds it. */
  async leader(timeoutMs = 30_000): Promise<string> {
    return waitFor('an operator leader', async () => {
      const lease = await this.client.kubectl(['get', 'lease', '-n', this.namespace, 'pipetrain-operator', '-o', 'jsonpath={.spec.holderIdentity}']).catch(() => '');
      const holder = lease.trim();
      return this.replicas.some((r) => r.identity === holder && r.child.exitCode === null) ? holder : undefined;
    }, timeoutMs, 200);
  }

  /** SIGKILLs the replica and waits until it is gone. */
  async kill(identity: string): Promise<void> {
    const index = this.replicas.findIndex((r) => r.identity === identity);
    const replica = this.replicas[index];
    if (!replica) throw new Error(`no operator replica ${identity}`);
    replica.child.kill('SIGKILL');
    await replica.exited;
    this.replicas.splice(index, 1);
  }

  /** Identities of the replicas alive now. */
  identities(): string[] {
    return this.replicas.map((r) => r.identity);
  }

  metricsPort(identity: string): number {
    const replica = this.replicas.find((r) => r.identity === identity);
    if (!replica) throw new Error(`no operator replica ${identity}`);
    return replica.metricsPort;
  }

  /** Stops every replica gracefully (SIGTERM releases the Lease), SIGKILL after 10 s. */
  async stopAll(): Promise<void> {
    await Promise.all(this.replicas.map(async (r) => {
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
      await r.exited;
      clearTimeout(timer);
    }));
    this.replicas.length = 0;
  }
}
