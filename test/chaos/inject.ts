// One injector per fault kind: each does the fault to the real test cluster (agent control socket,
// control-plane processes, operator processes) and undoes it when the fault has a duration. Faults
// that end by themselves (a restart, a takeover) are left to the run's settle step.
import type { ClusterClient } from '../cluster/control.ts';
import { restartComponent } from '../cluster/restart-component.ts';
import { exec, sleep } from '../cluster/util.ts';
import { stagePods } from '../e2e/operator/helpers.ts';
import type { FaultKind, PlannedFault } from './fault-plan.ts';
import type { OperatorFleet } from './operator-fleet.ts';

export interface InjectContext {
  client: ClusterClient;
  namespace: string;
  job: string;
  stages: number;
  fleet: OperatorFleet;
  /** Waits until the job has restarted once more than before this fault (used by partitions). */
  waitForRestart: () => Promise<void>;
  /** Called before an operator replica is SIGKILLed, so its metrics are scraped while it lives. */
  beforeOperatorKill: (identity: string) => Promise<void>;
}

/** What was hit, for the run's log. */
export type Injector = (fault: PlannedFault, ctx: InjectContext) => Promise<string>;

const stagePod = (ctx: InjectContext, fault: PlannedFault): string => `${ctx.job}-stage-${fault.target % ctx.stages}`;

async function stageNode(ctx: InjectContext, fault: PlannedFault): Promise<string> {
  const pod = (await stagePods(ctx.client, ctx.namespace, ctx.job)).find((p) => p.metadata?.name === stagePod(ctx, fault));
  const node = pod?.spec?.nodeName;
  if (!node) throw new Error(`${stagePod(ctx, fault)} has no node yet`);
  return node;
}

async function podNetns(ctx: InjectContext, pod: string): Promise<string> {
  const run = (await ctx.client.agentPods()).find((p) => p.key === `${ctx.namespace}/${pod}`);
  if (!run) throw new Error(`the agent does not run ${ctx.namespace}/${pod}`);
  return run.netns;
}

const stageKill: Injector = async (fault, ctx) => {
  const pod = stagePod(ctx, fault);
  await ctx.client.killPod(ctx.namespace, pod, 'SIGKILL');
  return pod;
};

const stageFreeze: Injector = async (fault, ctx) => {
  const pod = stagePod(ctx, fault);
  await ctx.client.killPod(ctx.namespace, pod, 'SIGSTOP');
  // Shorter than the 10 s a neighbour waits for a silent peer: the pipeline stalls, then goes on.
  await sleep(fault.durationMs);
  await ctx.client.killPod(ctx.namespace, pod, 'SIGCONT');
  return `${pod} for ${fault.durationMs} ms`;
};

const nodeStop: Injector = async (fault, ctx) => {
  const node = await stageNode(ctx, fault);
  await ctx.client.stopNode(node);
  await sleep(fault.durationMs);
  await ctx.client.startNode(node);
  return `${node} (under ${stagePod(ctx, fault)}) for ${fault.durationMs} ms`;
};

const podPartition: Injector = async (fault, ctx) => {
  const pod = stagePod(ctx, fault);
  await ctx.client.partitionPod(ctx.namespace, pod);
  try {
    await ctx.waitForRestart();
  } finally {
    // Normally the restart deleted the pod already; heal in case it did not.
    await ctx.client.healPod(ctx.namespace, pod).catch(() => undefined);
  }
  return pod;
};

/**
 * A token bucket of 1 Mbit/s with 400 ms of queue on the pod's eth0. `tc netem` (delay, loss) would
 * be the natural tool, but this kernel has no sch_netem module; tbf is built in.
 */
const slowLink: Injector = async (fault, ctx) => {
  const pod = stagePod(ctx, fault);
  const netns = await podNetns(ctx, pod);
  await exec('ip', ['netns', 'exec', netns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms']);
  await sleep(fault.durationMs);
  // The pod (and its netns) may be gone by now if something else restarted the pipeline.
  await exec('ip', ['netns', 'exec', netns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']).catch(() => undefined);
  return `${pod} at 1 Mbit/s for ${fault.durationMs} ms`;
};

const operatorKill: Injector = async (_fault, ctx) => {
  const leader = await ctx.fleet.leader();
  await ctx.beforeOperatorKill(leader);
  await ctx.fleet.kill(leader);
  // Started again at once, like a crash-looping Deployment: either replica may lead next.
  const started = await ctx.fleet.start();
  return `${leader} (restarted as ${started})`;
};

const leaderKill: Injector = async (_fault, ctx) => {
  const leader = await ctx.fleet.leader();
  await ctx.beforeOperatorKill(leader);
  await ctx.fleet.kill(leader);
  // The standby takes over once the dead leader's Lease expires (15 s); only then a new standby.
  const next = await ctx.fleet.leader(60_000);
  const standby = await ctx.fleet.start();
  return `${leader}, ${next} took over, new standby ${standby}`;
};

const apiserverRestart: Injector = async (fault, ctx) => {
  await restartComponent(ctx.client.state, 'kube-apiserver', fault.durationMs);
  return `down ${fault.durationMs} ms`;
};

const etcdRestart: Injector = async (fault, ctx) => {
  await restartComponent(ctx.client.state, 'etcd', fault.durationMs);
  return `down ${fault.durationMs} ms`;
};

export const INJECTORS: Record<FaultKind, Injector> = {
  'stage-kill': stageKill,
  'stage-freeze': stageFreeze,
  'node-stop': nodeStop,
  'pod-partition': podPartition,
  'slow-link': slowLink,
  'operator-kill': operatorKill,
  'leader-kill': leaderKill,
  'apiserver-restart': apiserverRestart,
  'etcd-restart': etcdRestart,
};
