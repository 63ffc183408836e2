// The heartbeat of every running node: its Lease renewed every LEASE_RENEW_MS, its Ready status every
// 5th round, and Ready posted again at once when the controller-manager marked a running node not Ready.
import type * as k8s from '@kubernetes/client-node';
import { errorMessage, sleep } from '../util.ts';
import { type NodeApis, postNodeStatus, renewLease } from './node-status.ts';
import { LEASE_RENEW_MS, log, nowTime, type NodeRuntime } from './types.ts';

export class NodeHeartbeat {
  private readonly apis: NodeApis;
  private readonly nodes: ReadonlyMap<string, NodeRuntime>;
  private timer?: NodeJS.Timeout;
  private rounds = 0;
  private lastRoundMs = 0;

  constructor(apis: NodeApis, nodes: ReadonlyMap<string, NodeRuntime>) {
    this.apis = apis;
    this.nodes = nodes;
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), LEASE_RENEW_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Like a kubelet, which re-posts its status when the controller-manager overwrote it: if a running node
   * is seen not Ready (its heartbeat was late on a loaded machine), post Ready again at once.
   */
  repostIfMarkedNotReady(seen: k8s.V1Node): void {
    const node = this.nodes.get(seen.metadata?.name ?? '');
    if (!node || node.stopped || node.reposting) return;
    const ready = seen.status?.conditions?.find((c) => c.type === 'Ready');
    if (!ready || ready.status === 'True') return;
    log(`node ${node.name} was marked Ready=${ready.status} (${ready.reason ?? ''}) although it runs: posting Ready again`);
    node.reposting = true;
    node.readySince = nowTime();
    postNodeStatus(this.apis, node)
      .catch((err: unknown) => log(`posting status of ${node.name} failed: ${errorMessage(err)}`))
      .finally(() => (node.reposting = false));
  }

  /** Renews every running node's Lease in parallel; every 5th round also refreshes the Ready heartbeat. */
  private async beat(): Promise<void> {
    // Diagnostics for loaded machines: a late timer means this process was starved of CPU.
    const now = Date.now();
    const late = this.lastRoundMs ? now - this.lastRoundMs - LEASE_RENEW_MS : 0;
    this.lastRoundMs = now;
    if (late > 1000) log(`heartbeat timer fired ${late} ms late (event loop starved)`);
    this.rounds += 1;
    const postStatus = this.rounds % 5 === 0;
    const running = [...this.nodes.values()].filter((node) => !node.stopped);
    await Promise.all(running.map((node) => this.beatOne(node, postStatus)));
  }

  private async beatOne(node: NodeRuntime, postStatus: boolean): Promise<void> {
    try {
      const t0 = Date.now();
      await Promise.race([
        renewLease(this.apis, node),
        sleep(LEASE_RENEW_MS * 2).then(() => Promise.reject(new Error('no answer within 4 s'))),
      ]);
      if (Date.now() - t0 > 1000) log(`lease renewal of ${node.name} took ${Date.now() - t0} ms`);
      if (postStatus && !node.stopped) await postNodeStatus(this.apis, node);
    } catch (err) {
      log(`heartbeat of ${node.name} failed: ${errorMessage(err)}`);
    }
  }
}
