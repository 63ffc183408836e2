// The node agent: pipetrain's stand-in for the kubelet. One process registers N nodes, keeps their
// Leases fresh, and runs every pod the scheduler binds to them as a real process in its own network
// namespace (veth on the cluster's bridge) and mount namespace (volumes and the service-account token
// bind-mounted at their mountPaths), reporting status like a kubelet.
//
//   node test/cluster/agent.ts --state-dir <dir>     (started by cluster.ts; reads <dir>/cluster.json)
//
// Here: the pod lifecycle (start, restart with back-off, terminate) and the node lifecycle. agent/ has
// the parts: network, DNS names, node status, volumes and env, the container's root, probes, pod
// status, the PV provisioner, and the control server for fault injection (its client: control.ts).
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startDnsServer } from './dns.ts';
import { type ClusterState, controlSocket, readState } from './state.ts';
import { errorMessage, sleep, statusCode } from './util.ts';
import { resolveClusterName } from './agent/cluster-names.ts';
import { containerSetup, waitingFor } from './agent/container-image.ts';
import { containerRootScript } from './agent/container-root.ts';
import { startControlServer } from './agent/control-server.ts';
import { NodeHeartbeat } from './agent/node-heartbeat.ts';
import { type NodeApis, postNodeStatus, registerNode, renewLease } from './agent/node-status.ts';
import { PodInputs } from './agent/pod-inputs.ts';
import { createPodNetwork, removeNetwork, removePodNetwork, setPodLink, setupBridge, startApiProxy } from './agent/pod-network.ts';
import { type ProbeHost, watchLiveness, watchReadiness } from './agent/probes.ts';
import { REPO_ROOT, log, nowTime, type NodeRuntime, type PodRun } from './agent/types.ts';
import { allocateGpus, fallbackTerminationMessage, later, newPodRun, signalRun, terminatedState } from './agent/pod-run.ts';
import { StatusWriter } from './agent/status-writer.ts';
import { provisionerFor } from './agent/volume-provisioner.ts';

export { removeNetwork };

export class NodeAgent {
  private readonly kc = new k8s.KubeConfig();
  private readonly core: k8s.CoreV1Api;
  private readonly nodeApis: NodeApis;
  private readonly inputs: PodInputs;
  private readonly probeHost: ProbeHost;
  private readonly nodes = new Map<string, NodeRuntime>();
  private readonly runs = new Map<string, PodRun>(); // by pod uid
  private readonly finished = new Set<string>(); // uids already torn down and deleted
  private readonly freeIndexes: number[] = [];
  private podInformer?: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>;
  private serviceInformer?: k8s.Informer<k8s.V1Service> & k8s.ObjectCache<k8s.V1Service>;
  private servers: { close(): unknown }[] = [];
  private readonly heartbeat: NodeHeartbeat;
  private readonly status: StatusWriter;
  private shuttingDown = false;

  private readonly state: ClusterState;

  constructor(state: ClusterState) {
    this.state = state;
    this.kc.loadFromFile(state.kubeconfig);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.nodeApis = { core: this.core, coordination: this.kc.makeApiClient(k8s.CoordinationV1Api), gateway: state.gateway };
    this.inputs = new PodInputs(this.core, state.gateway, state.stateDir);
    this.heartbeat = new NodeHeartbeat(this.nodeApis, this.nodes);
    this.status = new StatusWriter(this.core, state.gateway);
    this.probeHost = {
      later,
      signal: signalRun,
      markDirty: (run) => this.status.markDirty(run),
      log,
    };
    for (let i = 253; i >= 1; i--) this.freeIndexes.push(i);
    for (const name of state.nodes) this.nodes.set(name, { name, stopped: false, gpusInUse: new Set(), bootID: randomUUID(), readySince: nowTime() });
  }

  async start(): Promise<void> {
    await setupBridge(this.state);
    const view = {
      gateway: this.state.gateway,
      pods: () => this.podInformer?.list() ?? [],
      service: (name: string, namespace: string | undefined) => this.serviceInformer?.get(name, namespace),
    };
    this.servers.push(await startDnsServer(this.state.gateway, 53, (name) => resolveClusterName(name, view)));
    this.servers.push(await startApiProxy(this.state));
    this.servers.push(await startControlServer(controlSocket(this.state.stateDir), this));
    for (const node of this.nodes.values()) await registerNode(this.nodeApis, node);
    this.heartbeat.start();
    this.serviceInformer = this.startInformer('/api/v1/services', () => this.core.listServiceForAllNamespaces());
    this.startInformer('/api/v1/nodes', () => this.core.listNode()).on('update', (node) => this.heartbeat.repostIfMarkedNotReady(node));
    const claims = this.startInformer('/api/v1/persistentvolumeclaims', () => this.core.listPersistentVolumeClaimForAllNamespaces());
    const provision = provisionerFor(this.core, this.state.stateDir);
    claims.on('add', provision);
    claims.on('update', provision);
    this.podInformer = this.startInformer('/api/v1/pods', () => this.core.listPodForAllNamespaces());
    this.podInformer.on('add', (pod) => this.onPod(pod));
    this.podInformer.on('update', (pod) => this.onPod(pod));
    this.podInformer.on('delete', (pod) => this.onPodDeleted(pod));
    log(`agent ready: nodes ${[...this.nodes.keys()].join(', ')}, bridge ${this.state.bridge} ${this.state.gateway}/24`);
  }

  // ---- nodes ---------------------------------------------------------------------------------

  async stopNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    node.stopped = true;
    log(`node ${name} stopped: heartbeats off, killing its pods' processes`);
    const exits: Promise<void>[] = [];
    for (const run of this.runs.values()) {
      if (run.node !== node) continue;
      for (const t of run.timers) clearTimeout(t);
      run.timers.clear();
      if (run.proc && run.exited) exits.push(run.exited);
      signalRun(run, 'SIGKILL');
    }
    await Promise.race([Promise.all(exits), sleep(5000)]);
  }

  async startNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    // Like a rebooted kubelet: forget the old pods (their processes are dead), post Ready again.
    for (const run of [...this.runs.values()]) {
      if (run.node !== node) continue;
      await this.teardown(run);
      this.runs.delete(run.uid);
    }
    node.stopped = false;
    node.bootID = randomUUID();
    node.readySince = nowTime();
    await renewLease(this.nodeApis, node);
    await postNodeStatus(this.nodeApis, node);
    for (const pod of this.podInformer?.list() ?? []) this.onPod(pod);
    log(`node ${name} started again`);
  }

  // ---- informers -----------------------------------------------------------------------------

  private startInformer<T extends k8s.KubernetesObject>(
    path: string,
    list: () => Promise<k8s.KubernetesListObject<T>>,
  ): k8s.Informer<T> & k8s.ObjectCache<T> {
    const informer = k8s.makeInformer<T>(this.kc, path, list);
    informer.on('error', (err: unknown) => {
      if (this.shuttingDown) return;
      log(`informer ${path} failed (${errorMessage(err)}); restarting in 1 s`);
      setTimeout(() => void informer.start().catch(() => undefined), 1000);
    });
    void informer.start().catch((err: unknown) => log(`informer ${path} did not start: ${errorMessage(err)}`));
    return informer;
  }

  // ---- pods ----------------------------------------------------------------------------------

  private onPod(pod: k8s.V1Pod): void {
    if (this.shuttingDown) return;
    const uid = pod.metadata?.uid ?? '';
    const node = this.nodes.get(pod.spec?.nodeName ?? '');
    if (!node || node.stopped || this.finished.has(uid)) return;
    let run = this.runs.get(uid);
    if (run) {
      run.pod = pod;
      if (pod.metadata?.deletionTimestamp && !run.terminating) void this.terminate(run, 'deleted');
      // Someone else (the node-lifecycle controller after a late heartbeat) changed what we report: correct it.
      const apiReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const ourReady = run.ready && run.phase === 'Running' && !!run.proc;
      if (!run.terminating && run.phase !== 'Pending' && !run.patching && (apiReady !== ourReady || pod.status?.phase !== run.phase)) {
        this.status.markDirty(run);
      }
      return;
    }
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      if (pod.metadata?.deletionTimestamp) void this.deletePodObject(pod);
      return;
    }
    const index = this.freeIndexes.pop();
    if (index === undefined) {
      log(`no free pod address for ${pod.metadata?.namespace}/${pod.metadata?.name}`);
      return;
    }
    run = newPodRun(this.state, pod, node, index);
    this.runs.set(uid, run);
    void this.startPod(run);
  }

  private onPodDeleted(pod: k8s.V1Pod): void {
    const run = this.runs.get(pod.metadata?.uid ?? '');
    if (!run) return;
    // Gone from the API (force-deleted or finished by us): stop everything at once.
    run.terminating = true;
    signalRun(run, 'SIGKILL');
    void (run.exited ?? Promise.resolve()).then(() => this.teardown(run)).then(() => {
      this.runs.delete(run.uid);
      this.finished.add(run.uid);
    });
  }

  private async startPod(run: PodRun): Promise<void> {
    const container = run.pod.spec?.containers[0];
    mkdirSync(run.dir, { recursive: true });
    run.startTime = nowTime();
    try {
      await createPodNetwork(this.state, run);
    } catch (err) {
      log(`pod ${run.key}: network setup failed: ${errorMessage(err)}`);
      run.state = { waiting: { reason: 'CreatePodSandboxError', message: errorMessage(err) } };
      this.status.markDirty(run);
      return;
    }
    allocateGpus(run);
    this.status.markDirty(run);
    // Volumes and env may wait for a Secret, ConfigMap or bound claim: retry like a kubelet.
    for (let attempt = 0; ; attempt++) {
      if (run.terminating || run.node.stopped) return;
      try {
        if (!container) throw new Error('pod has no containers');
        await this.launch(run, container);
        return;
      } catch (err) {
        const message = errorMessage(err);
        if (attempt % 10 === 0) log(`pod ${run.key}: cannot start yet: ${message}`);
        run.state = { waiting: waitingFor(err, attempt, container?.image ?? '') };
        this.status.markDirty(run);
        await sleep(Math.min(500 * 2 ** attempt, 3000));
      }
    }
  }

  /** Prepares volumes and env, then starts the container's process. Throws while something is missing. */
  private async launch(run: PodRun, container: k8s.V1Container): Promise<void> {
    const setup = containerSetup(run.pod, container, this.state.images ?? {});
    const volumes = await this.inputs.prepareVolumes(run);
    const env = await this.inputs.resolveEnv(run, container, setup.baseEnv);
    const expand = (s: string): string => s.replace(/\$\((\w+)\)|\$\$/g, (m, v: string | undefined) => (v === undefined ? '$' : (env[v] ?? m)));
    const argv = setup.argv.map(expand);
    const script = containerRootScript(run, container, volumes, setup);
    if (run.terminating || run.node.stopped) return;
    this.spawnProcess(run, container, argv, env, script, setup.describe);
  }

  private spawnProcess(run: PodRun, container: k8s.V1Container, argv: string[], env: Record<string, string>, script: string, describe: string): void {
    const logFd = openSync(join(run.dir, 'log'), 'a');
    // unshare --uts: the pod's `hostname` must not rename the host (ip netns exec gives no UTS namespace).
    const child = spawn('ip', ['netns', 'exec', run.netns, 'unshare', '--uts', 'sh', '-c', script, container.name, ...argv], {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    run.proc = child;
    run.runStartedMs = Date.now();
    run.phase = 'Running';
    run.started = true;
    run.state = { running: { startedAt: nowTime() as unknown as Date } };
    run.ready = !container.readinessProbe;
    if (child.pid) writeFileSync(join(run.dir, 'pid'), String(child.pid));
    log(`pod ${run.key}: started pid ${child.pid} on ${run.node.name} at ${run.ip} from ${describe}: ${argv.join(' ')}`);
    this.status.markDirty(run);
    if (container.readinessProbe) watchReadiness(this.probeHost, run, container.readinessProbe);
    if (container.livenessProbe) watchLiveness(this.probeHost, run, container.livenessProbe);
    run.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        log(`pod ${run.key}: spawn failed: ${err.message}`);
      });
      child.on('close', (code, signal) => {
        resolve();
        this.onExit(run, child, code, signal);
      });
    });
  }

  private onExit(run: PodRun, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (run.proc !== child) return;
    run.proc = undefined;
    run.state = terminatedState(child.pid, code, signal, run.state.running?.startedAt);
    const exitCode = run.state.terminated?.exitCode ?? 0;
    const message = fallbackTerminationMessage(run.pod.spec?.containers[0], exitCode, join(run.dir, 'log'));
    if (message && run.state.terminated) run.state.terminated.message = message;
    run.ready = false;
    log(`pod ${run.key}: pid ${child.pid} exited with ${exitCode}${signal ? ` (${signal})` : ''}`);
    if (run.node.stopped) return; // a dead node reports nothing
    if (run.terminating) {
      this.status.markDirty(run);
      return;
    }
    const policy = run.pod.spec?.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      run.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
      this.status.markDirty(run);
      void this.status.flushed(run).then(() => this.teardown(run));
      return;
    }
    // Back-off: 1 s doubling to 16 s (the kubelet uses 10 s to 5 min), reset after a 10 s healthy run.
    if (Date.now() - run.runStartedMs > 10_000) run.restartCount = Math.max(run.restartCount, 0);
    const delay = Math.min(1000 * 2 ** Math.min(run.restartCount, 4), 16_000);
    run.lastState = run.state;
    run.restartCount += 1;
    run.state = {
      waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container=${run.pod.spec?.containers[0]?.name}` },
    };
    this.status.markDirty(run);
    later(run, delay, () => {
      const container = run.pod.spec?.containers[0];
      if (container && !run.terminating && !run.node.stopped) {
        this.launch(run, container).catch((err: unknown) => {
          run.state = { waiting: { reason: 'CreateContainerConfigError', message: errorMessage(err) } };
          this.status.markDirty(run);
        });
      }
    });
  }

  /** What the control server lists under /pods. */
  pods(): unknown[] {
    return [...this.runs.values()].map((r) => ({ key: r.key, uid: r.uid, node: r.node.name, ip: r.ip, netns: r.netns, pid: r.proc?.pid ?? null, dir: r.dir }));
  }

  async killPod(namespace: string, name: string, signal: NodeJS.Signals): Promise<number> {
    const run = [...this.runs.values()].find((r) => r.key === `${namespace}/${name}`);
    if (!run?.proc?.pid) throw new Error(`pod ${namespace}/${name} has no running process here`);
    const pid = run.proc.pid;
    signalRun(run, signal);
    return pid;
  }

  async setPodNetwork(namespace: string, name: string, up: boolean): Promise<void> {
    const run = [...this.runs.values()].find((r) => r.key === `${namespace}/${name}`);
    if (!run) throw new Error(`pod ${namespace}/${name} is not running here`);
    await setPodLink(run, up);
    log(`pod ${run.key}: network ${up ? 'healed' : 'partitioned'}`);
  }

  /** Frees what a pod held on the node: timers, network, GPUs and its address slot. */
  private async teardown(run: PodRun): Promise<void> {
    if (run.torn) return;
    run.torn = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    await removePodNetwork(run);
    for (const g of run.gpus) run.node.gpusInUse.delete(g);
    // Freed slots go to the back of the line (pop() takes from the end): least recently used first.
    this.freeIndexes.unshift(run.index);
  }

  private async terminate(run: PodRun, why: string): Promise<void> {
    run.terminating = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const grace = run.pod.metadata?.deletionGracePeriodSeconds ?? run.pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (run.proc) {
      log(`pod ${run.key}: ${why}: SIGTERM, grace ${grace}s`);
      signalRun(run, 'SIGTERM');
      const exited = run.exited ?? Promise.resolve();
      const timedOut = await Promise.race([exited.then(() => false), sleep(grace * 1000).then(() => true)]);
      if (timedOut) {
        log(`pod ${run.key}: grace period over: SIGKILL`);
        signalRun(run, 'SIGKILL');
        await exited;
      }
    }
    await this.teardown(run);
    await this.deletePodObject(run.pod);
    this.runs.delete(run.uid);
    this.finished.add(run.uid);
  }

  private async deletePodObject(pod: k8s.V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      });
    } catch (err) {
      const code = statusCode(err);
      if (code !== 404 && code !== 409) log(`deleting pod ${pod.metadata?.namespace}/${pod.metadata?.name} failed: ${errorMessage(err)}`);
    }
  }

  // ---- shutdown ------------------------------------------------------------------------------

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.heartbeat.stop();
    void this.podInformer?.stop().catch(() => undefined);
    void this.serviceInformer?.stop().catch(() => undefined);
    for (const run of this.runs.values()) {
      run.node.stopped = true;
      signalRun(run, 'SIGKILL');
    }
    await Promise.allSettled([...this.runs.values()].map((r) => r.exited));
    await Promise.allSettled([...this.runs.values()].map((r) => this.teardown(r)));
    for (const server of this.servers) server.close();
    await removeNetwork(this.state.runId);
  }
}


async function main(): Promise<void> {
  const i = process.argv.indexOf('--state-dir');
  const stateDir = i > 0 ? process.argv[i + 1] : undefined;
  if (!stateDir) throw new Error('usage: agent.ts --state-dir <dir>');
  const agent = new NodeAgent(readState(stateDir));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    log('agent shutting down');
    void agent.shutdown().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await agent.start();
}

if (process.argv[1]?.endsWith('agent.ts')) {
  main().catch((err: unknown) => {
    log(`agent failed: ${errorMessage(err)}`);
    process.exit(1);
  });
}
