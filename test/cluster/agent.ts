// The node agent: pipetrain's stand-in for the kubelet. One process registers N nodes, keeps their
// Leases fresh, and runs every pod the scheduler binds to them as a real process in its own network
// namespace (veth on the cluster's bridge) and mount namespace (volumes and the service-account token
// bind-mounted at their mountPaths), reporting status like a kubelet.
//
//   node test/cluster/agent.ts --state-dir <dir>     (started by cluster.ts; reads <dir>/cluster.json)
//
// A control server on the unix socket <dir>/agent.sock serves fault injection for tests (see control.ts).
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync, writeFileSync, existsSync, readdirSync, lstatSync, readlinkSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server } from 'node:net';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { startDnsServer } from './dns.ts';
import { containerArgv } from './images.ts';
import {
  type ClusterState,
  bridgeName,
  controlSocket,
  hostVethName,
  netnsName,
  podDir,
  readState,
  netnsPrefix,
} from './state.ts';
import { errorMessage, exec, shq, sleep, statusCode } from './util.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** Resolves symlinks in `path` as seen from the host's root (the pod's overlay root starts identical). */
export function resolveInRoot(path: string, depth = 0): string {
  const parts = normalize(`/${path}`).split('/').filter(Boolean);
  let resolved = '';
  for (let i = 0; i < parts.length; i++) {
    const next = `${resolved}/${parts[i]}`;
    let link: string | undefined;
    try {
      if (lstatSync(next).isSymbolicLink()) link = readlinkSync(next);
    } catch {
      return [next, ...parts.slice(i + 1)].join('/');
    }
    if (link !== undefined && depth < 20) {
      const target = link.startsWith('/') ? link : `${resolved}/${link}`;
      return resolveInRoot([target, ...parts.slice(i + 1)].join('/'), depth + 1);
    }
    resolved = next;
  }
  return normalize(resolved || '/');
}

const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};

const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** metav1.MicroTime wants exactly six fractional digits. */
const microTime = (d = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const nowTime = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

const NODE_CAPACITY = { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2', 'ephemeral-storage': '100Gi' };
const LEASE_RENEW_MS = 2000;
const CLUSTER_DOMAIN = 'cluster.local';
const API_PROXY_PORT = 443;

interface NodeRuntime {
  name: string;
  stopped: boolean;
  uid?: string;
  gpusInUse: Set<number>;
  bootID: string;
  reposting?: boolean;
  /** When the node last became Ready (condition lastTransitionTime). */
  readySince: string;
}

interface PodRun {
  key: string;
  uid: string;
  pod: k8s.V1Pod;
  node: NodeRuntime;
  index: number;
  ip: string;
  netns: string;
  hostVeth: string;
  dir: string;
  gpus: number[];
  proc?: ChildProcess;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  state: k8s.V1ContainerState;
  lastState?: k8s.V1ContainerState;
  restartCount: number;
  ready: boolean;
  started: boolean;
  startTime?: string;
  runStartedMs: number;
  terminating: boolean;
  torn: boolean;
  timers: Set<NodeJS.Timeout>;
  patching: boolean;
  dirty: boolean;
  exited?: Promise<void>;
}

export class NodeAgent {
  private readonly kc = new k8s.KubeConfig();
  private readonly core: k8s.CoreV1Api;
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly nodes = new Map<string, NodeRuntime>();
  private readonly pods = new Map<string, PodRun>(); // by uid
  private readonly finished = new Set<string>(); // uids already torn down and deleted
  private readonly freeIndexes: number[] = [];
  private podInformer?: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>;
  private serviceInformer?: k8s.Informer<k8s.V1Service> & k8s.ObjectCache<k8s.V1Service>;
  private servers: { close(): unknown }[] = [];
  private heartbeat?: NodeJS.Timeout;
  private heartbeats = 0;
  private lastRound = 0;
  private shuttingDown = false;

  private readonly state: ClusterState;

  constructor(state: ClusterState) {
    this.state = state;
    this.kc.loadFromFile(state.kubeconfig);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.coordination = this.kc.makeApiClient(k8s.CoordinationV1Api);
    for (let i = 253; i >= 1; i--) this.freeIndexes.push(i);
    for (const name of state.nodes) this.nodes.set(name, { name, stopped: false, gpusInUse: new Set(), bootID: randomUUID(), readySince: nowTime() });
  }

  async start(): Promise<void> {
    await this.setupBridge();
    this.servers.push(await startDnsServer(this.state.gateway, 53, (name) => this.resolve(name)));
    this.servers.push(await this.startApiProxy());
    this.servers.push(await this.startControlServer());
    for (const node of this.nodes.values()) await this.registerNode(node);
    this.heartbeat = setInterval(() => void this.renewLeases(), LEASE_RENEW_MS);
    this.serviceInformer = this.startInformer('/api/v1/services', () => this.core.listServiceForAllNamespaces());
    this.watchOwnNodes();
    this.startPvcProvisioner();
    this.podInformer = this.startInformer('/api/v1/pods', () => this.core.listPodForAllNamespaces());
    this.podInformer.on('add', (pod) => this.onPod(pod));
    this.podInformer.on('update', (pod) => this.onPod(pod));
    this.podInformer.on('delete', (pod) => this.onPodDeleted(pod));
    log(`agent ready: nodes ${[...this.nodes.keys()].join(', ')}, bridge ${this.state.bridge} ${this.state.gateway}/24`);
  }

  // ---- network -------------------------------------------------------------------------------

  private async setupBridge(): Promise<void> {
    const br = this.state.bridge;
    await exec('ip', ['link', 'add', br, 'type', 'bridge']);
    await exec('ip', ['addr', 'add', `${this.state.gateway}/24`, 'dev', br]);
    await exec('ip', ['link', 'set', br, 'up']);
    // No forwarding from the bridge: pods reach the host's bridge address and each other, nothing else.
    writeFileSync(`/proc/sys/net/ipv4/conf/${br}/forwarding`, '0');
  }

  private async createPodNetwork(run: PodRun): Promise<void> {
    const { netns, hostVeth, ip } = run;
    await exec('ip', ['netns', 'add', netns]);
    await exec('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await exec('ip', ['link', 'set', hostVeth, 'master', this.state.bridge, 'up']);
    await exec('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await exec('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    await exec('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    // `ip netns exec` bind-mounts these over /etc/resolv.conf and /etc/hosts for the pod's process.
    const etc = `/etc/netns/${netns}`;
    mkdirSync(etc, { recursive: true });
    const ns = run.pod.metadata?.namespace ?? 'default';
    writeFileSync(
      join(etc, 'resolv.conf'),
      `nameserver ${this.state.gateway}\nsearch ${ns}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\noptions ndots:5\n`,
    );
    const hostname = run.pod.spec?.hostname ?? run.pod.metadata?.name ?? 'pod';
    const subdomain = run.pod.spec?.subdomain;
    const fqdn = subdomain ? `${hostname}.${subdomain}.${ns}.svc.${CLUSTER_DOMAIN} ` : '';
    writeFileSync(join(etc, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${fqdn}${hostname}\n`);
  }

  private async teardown(run: PodRun): Promise<void> {
    if (run.torn) return;
    run.torn = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    // Delete the veth explicitly: a namespace outlives `ip netns del` while anything still holds it
    // (e.g. sockets of a partitioned pod), and its veth name would then block the next pod's.
    await exec('ip', ['link', 'del', run.hostVeth]).catch(() => undefined);
    await exec('ip', ['netns', 'del', run.netns]).catch(() => undefined);
    rmSync(`/etc/netns/${run.netns}`, { recursive: true, force: true });
    for (const g of run.gpus) run.node.gpusInUse.delete(g);
    // Freed slots go to the back of the line (pop() takes from the end): least recently used first.
    this.freeIndexes.unshift(run.index);
  }

  /** TCP proxy from the bridge address to the loopback-only API server, for pods' in-cluster clients. */
  private startApiProxy(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createTcpServer((socket) => {
        const upstream = connect(this.state.apiPort, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      server.once('error', reject);
      server.listen(API_PROXY_PORT, this.state.gateway, () => resolve(server));
    });
  }

  // ---- DNS -----------------------------------------------------------------------------------

  private resolve(name: string): string[] | undefined {
    const suffix = `.${CLUSTER_DOMAIN}`;
    if (!name.endsWith(suffix)) return undefined;
    const parts = name.slice(0, -suffix.length).split('.');
    const pods = this.podInformer?.list() ?? [];
    if (parts.length === 3 && parts[2] === 'pod') {
      const ip = (parts[0] ?? '').replace(/-/g, '.');
      return pods.some((p) => p.status?.podIP === ip && p.metadata?.namespace === parts[1]) ? [ip] : undefined;
    }
    if (parts.length === 3 && parts[2] === 'svc') {
      const [svcName, ns] = parts;
      if (svcName === 'kubernetes' && ns === 'default') return [this.state.gateway];
      const svc = this.serviceInformer?.get(svcName ?? '', ns);
      if (!svc) return undefined;
      // No kube-proxy: every Service name (headless or not) resolves to its ready endpoints' pod IPs.
      return this.endpoints(svc, pods).map((p) => p.status?.podIP ?? '');
    }
    if (parts.length === 4 && parts[3] === 'svc') {
      const [hostname, subdomain, ns] = parts;
      const svc = this.serviceInformer?.get(subdomain ?? '', ns);
      if (!svc) return undefined;
      const pod = this.endpoints(svc, pods).find((p) => p.spec?.hostname === hostname && p.spec?.subdomain === subdomain);
      return pod ? [pod.status?.podIP ?? ''] : undefined;
    }
    return undefined;
  }

  private endpoints(svc: k8s.V1Service, pods: readonly k8s.V1Pod[]): k8s.V1Pod[] {
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    const notReadyToo = svc.spec?.publishNotReadyAddresses === true;
    return pods.filter((p) => {
      if (p.metadata?.namespace !== svc.metadata?.namespace || !p.status?.podIP || p.metadata?.deletionTimestamp) return false;
      if (p.status.phase !== 'Running' && p.status.phase !== 'Pending') return false;
      const labels = p.metadata?.labels ?? {};
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
      return notReadyToo || (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    });
  }

  // ---- nodes ---------------------------------------------------------------------------------

  private async registerNode(node: NodeRuntime): Promise<void> {
    const created = await this.core.createNode({
      body: {
        metadata: {
          name: node.name,
          labels: {
            'kubernetes.io/hostname': node.name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'node.kubernetes.io/instance-type': 'pipetrain-process',
            'pipetrain.dev/gpu': 'true',
          },
        },
      },
    });
    node.uid = created.metadata?.uid;
    await this.postNodeStatus(node);
    await this.coordination.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: {
        metadata: {
          name: node.name,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid ?? '' }],
        },
        spec: { holderIdentity: node.name, leaseDurationSeconds: 40 },
      },
    });
    await this.renewLease(node);
  }

  private async postNodeStatus(node: NodeRuntime): Promise<void> {
    const now = nowTime();
    const cond = (type: string, status: string, reason: string, message: string): k8s.V1NodeCondition =>
      ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: node.readySince }) as unknown as k8s.V1NodeCondition;
    await this.core.patchNodeStatus(
      {
        name: node.name,
        body: {
          status: {
            capacity: NODE_CAPACITY,
            allocatable: NODE_CAPACITY,
            conditions: [
              cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
              cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
              cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
              cond('Ready', 'True', 'KubeletReady', 'pipetrain node agent is posting ready status'),
            ],
            addresses: [
              { type: 'InternalIP', address: this.state.gateway },
              { type: 'Hostname', address: node.name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
            nodeInfo: {
              architecture: 'amd64',
              bootID: node.bootID,
              containerRuntimeVersion: 'process://pipetrain-agent',
              kernelVersion: '',
              kubeProxyVersion: '',
              kubeletVersion: 'v0.0.0-pipetrain-agent',
              machineID: node.name,
              operatingSystem: 'linux',
              osImage: 'pipetrain process node',
              systemUUID: node.uid ?? node.name,
            },
          },
        },
      },
      smp,
    );
  }

  private async renewLease(node: NodeRuntime): Promise<void> {
    await this.coordination.patchNamespacedLease(
      { name: node.name, namespace: 'kube-node-lease', body: { spec: { holderIdentity: node.name, renewTime: microTime() } } },
      mergePatch,
    );
  }

  /** Renews every running node's Lease in parallel; every 5th round also refreshes the Ready heartbeat. */
  private async renewLeases(): Promise<void> {
    // Diagnostics for loaded machines: a late timer means this process was starved of CPU.
    const now = Date.now();
    const late = this.lastRound ? now - this.lastRound - LEASE_RENEW_MS : 0;
    this.lastRound = now;
    if (late > 1000) log(`heartbeat timer fired ${late} ms late (event loop starved)`);
    this.heartbeats += 1;
    const postStatus = this.heartbeats % 5 === 0;
    await Promise.all(
      [...this.nodes.values()]
        .filter((node) => !node.stopped)
        .map(async (node) => {
          try {
            const t0 = Date.now();
            await Promise.race([
              this.renewLease(node),
              sleep(LEASE_RENEW_MS * 2).then(() => Promise.reject(new Error('no answer within 4 s'))),
            ]);
            if (Date.now() - t0 > 1000) log(`lease renewal of ${node.name} took ${Date.now() - t0} ms`);
            if (postStatus && !node.stopped) await this.postNodeStatus(node);
          } catch (err) {
            log(`heartbeat of ${node.name} failed: ${errorMessage(err)}`);
          }
        }),
    );
  }

  /**
   * Like a kubelet, which re-posts its status when the controller-manager overwrote it: if a running node
   * is seen not Ready (its heartbeat was late on a loaded machine), post Ready again at once.
   */
  private watchOwnNodes(): void {
    const informer = this.startInformer('/api/v1/nodes', () => this.core.listNode());
    const check = (n: k8s.V1Node): void => {
      const node = this.nodes.get(n.metadata?.name ?? '');
      if (!node || node.stopped || node.reposting) return;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'True') return;
      log(`node ${node.name} was marked Ready=${ready.status} (${ready.reason ?? ''}) although it runs: posting Ready again`);
      node.reposting = true;
      node.readySince = nowTime();
      this.postNodeStatus(node)
        .catch((err: unknown) => log(`posting status of ${node.name} failed: ${errorMessage(err)}`))
        .finally(() => (node.reposting = false));
    };
    informer.on('update', check);
  }

  async stopNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    node.stopped = true;
    log(`node ${name} stopped: heartbeats off, killing its pods' processes`);
    const exits: Promise<void>[] = [];
    for (const run of this.pods.values()) {
      if (run.node !== node) continue;
      for (const t of run.timers) clearTimeout(t);
      run.timers.clear();
      if (run.proc && run.exited) exits.push(run.exited);
      this.signal(run, 'SIGKILL');
    }
    await Promise.race([Promise.all(exits), sleep(5000)]);
  }

  async startNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    // Like a rebooted kubelet: forget the old pods (their processes are dead), post Ready again.
    for (const run of [...this.pods.values()]) {
      if (run.node !== node) continue;
      await this.teardown(run);
      this.pods.delete(run.uid);
    }
    node.stopped = false;
    node.bootID = randomUUID();
    node.readySince = nowTime();
    await this.renewLease(node);
    await this.postNodeStatus(node);
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

  /** A PersistentVolume per claim, backed by a directory, pre-bound to the claim (the PV controller binds it). */
  private startPvcProvisioner(): void {
    const informer = this.startInformer('/api/v1/persistentvolumeclaims', () => this.core.listPersistentVolumeClaimForAllNamespaces());
    const provision = (pvc: k8s.V1PersistentVolumeClaim): void => {
      if (pvc.spec?.volumeName || pvc.status?.phase !== 'Pending' || !pvc.metadata?.uid) return;
      const name = `pvc-${pvc.metadata.uid}`;
      const path = join(this.state.stateDir, 'volumes', name);
      mkdirSync(path, { recursive: true });
      this.core
        .createPersistentVolume({
          body: {
            metadata: { name, labels: { 'pipetrain.dev/provisioned-by': 'node-agent' } },
            spec: {
              capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
              accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
              storageClassName: pvc.spec?.storageClassName ?? '',
              persistentVolumeReclaimPolicy: 'Retain',
              volumeMode: 'Filesystem',
              hostPath: { path, type: 'DirectoryOrCreate' },
              claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
            },
          },
        })
        .then(() => log(`provisioned ${name} for ${pvc.metadata?.namespace}/${pvc.metadata?.name}`))
        .catch((err: unknown) => {
          if (statusCode(err) !== 409) log(`provisioning ${name} failed: ${errorMessage(err)}`);
        });
    };
    informer.on('add', provision);
    informer.on('update', provision);
  }

  // ---- pods ----------------------------------------------------------------------------------

  private onPod(pod: k8s.V1Pod): void {
    if (this.shuttingDown) return;
    const uid = pod.metadata?.uid ?? '';
    const node = this.nodes.get(pod.spec?.nodeName ?? '');
    if (!node || node.stopped || this.finished.has(uid)) return;
    let run = this.pods.get(uid);
    if (run) {
      run.pod = pod;
      if (pod.metadata?.deletionTimestamp && !run.terminating) void this.terminate(run, 'deleted');
      // Someone else (the node-lifecycle controller after a late heartbeat) changed what we report: correct it.
      const apiReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const ourReady = run.ready && run.phase === 'Running' && !!run.proc;
      if (!run.terminating && run.phase !== 'Pending' && !run.patching && (apiReady !== ourReady || pod.status?.phase !== run.phase)) {
        this.markDirty(run);
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
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    run = {
      key: `${ns}/${name}`,
      uid,
      pod,
      node,
      index,
      ip: `${this.state.subnet}.${index + 1}`,
      netns: netnsName(this.state.runId, index),
      hostVeth: hostVethName(this.state.runId, index),
      dir: podDir(this.state.stateDir, ns, name, uid),
      gpus: [],
      phase: 'Pending',
      state: { waiting: { reason: 'ContainerCreating' } },
      restartCount: 0,
      ready: false,
      started: false,
      runStartedMs: 0,
      terminating: false,
      torn: false,
      timers: new Set(),
      patching: false,
      dirty: false,
    };
    this.pods.set(uid, run);
    void this.startPod(run);
  }

  private onPodDeleted(pod: k8s.V1Pod): void {
    const run = this.pods.get(pod.metadata?.uid ?? '');
    if (!run) return;
    // Gone from the API (force-deleted or finished by us): stop everything at once.
    run.terminating = true;
    this.signal(run, 'SIGKILL');
    void (run.exited ?? Promise.resolve()).then(() => this.teardown(run)).then(() => {
      this.pods.delete(run.uid);
      this.finished.add(run.uid);
    });
  }

  private async startPod(run: PodRun): Promise<void> {
    const container = run.pod.spec?.containers[0];
    mkdirSync(run.dir, { recursive: true });
    run.startTime = nowTime();
    try {
      await this.createPodNetwork(run);
    } catch (err) {
      log(`pod ${run.key}: network setup failed: ${errorMessage(err)}`);
      run.state = { waiting: { reason: 'CreatePodSandboxError', message: errorMessage(err) } };
      this.markDirty(run);
      return;
    }
    this.allocateGpus(run);
    this.markDirty(run);
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
        run.state = { waiting: { reason: 'CreateContainerConfigError', message } };
        this.markDirty(run);
        await sleep(Math.min(500 * 2 ** attempt, 3000));
      }
    }
  }

  private allocateGpus(run: PodRun): void {
    const container = run.pod.spec?.containers[0];
    const wanted = Number(container?.resources?.limits?.['nvidia.com/gpu'] ?? container?.resources?.requests?.['nvidia.com/gpu'] ?? 0);
    for (let g = 0; run.gpus.length < wanted && g < Number(NODE_CAPACITY['nvidia.com/gpu']); g++) {
      if (!run.node.gpusInUse.has(g)) {
        run.node.gpusInUse.add(g);
        run.gpus.push(g);
      }
    }
  }

  /** Prepares volumes and env, then starts the container's process. Throws while something is missing. */
  private async launch(run: PodRun, container: k8s.V1Container): Promise<void> {
    const volumes = await this.prepareVolumes(run);
    const env = await this.resolveEnv(run, container);
    const expand = (s: string): string => s.replace(/\$\((\w+)\)|\$\$/g, (m, v: string | undefined) => (v === undefined ? '$' : (env[v] ?? m)));
    const argv = containerArgv(container, this.state.images ?? {}).map(expand);
    if (argv.length === 0) {
      throw new Error(`container ${container.name} has no command and image ${container.image} is not in test/cluster/images.ts`);
    }
    // The process gets its own root: an overlay of the host's / (writes land in the pod's directory),
    // with /proc, /sys, /dev and this checkout bound in, a private /run, and the volumes bind-mounted
    // at their mountPaths. Nothing is created on the host outside the state directory.
    const root = join(run.dir, 'root');
    const merged = join(root, 'merged');
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(root, d), { recursive: true });
    const lines = [
      'set -e',
      `hostname ${shq((run.pod.spec?.hostname ?? run.pod.metadata?.name ?? 'pod').slice(0, 63))}`,
      `mount -t overlay overlay -o lowerdir=/,upperdir=${join(root, 'upper')},workdir=${join(root, 'work')} ${shq(merged)}`,
      ...['/proc', '/sys', '/dev'].map((d) => `mount --rbind ${d} ${shq(merged + d)}`),
      `mount -t tmpfs -o mode=755 tmpfs ${shq(merged + resolveInRoot('/run'))}`,
    ];
    // `ip netns exec` bound the pod's resolv.conf and hosts over the host's: carry them into the new root.
    for (const f of ['/etc/resolv.conf', '/etc/hosts']) {
      const target = merged + resolveInRoot(f);
      lines.push(`[ -e ${shq(target)} ] || touch ${shq(target)}`, `mount --bind ${f} ${shq(target)}`);
    }
    const binds: { src: string; target: string; readOnly: boolean }[] = [{ src: REPO_ROOT, target: REPO_ROOT, readOnly: false }];
    for (const mount of container.volumeMounts ?? []) {
      const source = volumes.get(mount.name);
      if (source === undefined) throw new Error(`volumeMount ${mount.name} has no volume`);
      const src = mount.subPath ? join(source, mount.subPath) : source;
      if (mount.subPath) mkdirSync(src, { recursive: true });
      binds.push({ src, target: resolveInRoot(mount.mountPath), readOnly: !!mount.readOnly });
    }
    binds.sort((a, b) => a.target.split('/').length - b.target.split('/').length);
    for (const bind of binds) {
      const target = shq(merged + bind.target);
      lines.push(`mkdir -p ${target}`, `mount --rbind ${shq(bind.src)} ${target}`);
      if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
    }
    const workingDir = container.workingDir ?? REPO_ROOT;
    lines.push(`mkdir -p ${shq(merged + resolveInRoot(workingDir))}`);
    lines.push(`exec chroot ${shq(merged)} sh -c 'cd "$0" && exec "$@"' ${shq(workingDir)} "$@"`);
    if (run.terminating || run.node.stopped) return;
    this.spawnProcess(run, container, argv, env, lines.join('\n'));
  }

  private spawnProcess(run: PodRun, container: k8s.V1Container, argv: string[], env: Record<string, string>, script: string): void {
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
    log(`pod ${run.key}: started pid ${child.pid} on ${run.node.name} at ${run.ip}: ${argv.join(' ')}`);
    this.markDirty(run);
    if (container.readinessProbe) this.watchReadiness(run, container.readinessProbe);
    if (container.livenessProbe) this.watchLiveness(run, container.livenessProbe);
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
    const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3, SIGABRT: 6, SIGSEGV: 11 };
    const exitCode = code ?? 128 + (signal ? (signals[signal] ?? 0) : 0);
    const startedAt = run.state.running?.startedAt;
    run.state = {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        signal: signal ? signals[signal] : undefined,
        startedAt: startedAt as Date,
        finishedAt: nowTime() as unknown as Date,
        containerID: `process://${child.pid}`,
      },
    };
    run.ready = false;
    log(`pod ${run.key}: pid ${child.pid} exited with ${exitCode}${signal ? ` (${signal})` : ''}`);
    if (run.node.stopped) return; // a dead node reports nothing
    if (run.terminating) {
      this.markDirty(run);
      return;
    }
    const policy = run.pod.spec?.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      run.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
      this.markDirty(run);
      void this.afterStatusFlushed(run).then(() => this.teardown(run));
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
    this.markDirty(run);
    this.later(run, delay, () => {
      const container = run.pod.spec?.containers[0];
      if (container && !run.terminating && !run.node.stopped) {
        this.launch(run, container).catch((err: unknown) => {
          run.state = { waiting: { reason: 'CreateContainerConfigError', message: errorMessage(err) } };
          this.markDirty(run);
        });
      }
    });
  }

  private later(run: PodRun, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      fn();
    }, ms);
    run.timers.add(timer);
  }

  private signal(run: PodRun, signal: NodeJS.Signals): void {
    const pid = run.proc?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  async killPod(namespace: string, name: string, signal: NodeJS.Signals): Promise<number> {
    const run = [...this.pods.values()].find((r) => r.key === `${namespace}/${name}`);
    if (!run?.proc?.pid) throw new Error(`pod ${namespace}/${name} has no running process here`);
    const pid = run.proc.pid;
    this.signal(run, signal);
    return pid;
  }

  async setPodNetwork(namespace: string, name: string, up: boolean): Promise<void> {
    const run = [...this.pods.values()].find((r) => r.key === `${namespace}/${name}`);
    if (!run) throw new Error(`pod ${namespace}/${name} is not running here`);
    await exec('ip', ['link', 'set', run.hostVeth, up ? 'up' : 'down']);
    log(`pod ${run.key}: network ${up ? 'healed' : 'partitioned'}`);
  }

  private async terminate(run: PodRun, why: string): Promise<void> {
    run.terminating = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const grace = run.pod.metadata?.deletionGracePeriodSeconds ?? run.pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (run.proc) {
      log(`pod ${run.key}: ${why}: SIGTERM, grace ${grace}s`);
      this.signal(run, 'SIGTERM');
      const exited = run.exited ?? Promise.resolve();
      const timedOut = await Promise.race([exited.then(() => false), sleep(grace * 1000).then(() => true)]);
      if (timedOut) {
        log(`pod ${run.key}: grace period over: SIGKILL`);
        this.signal(run, 'SIGKILL');
        await exited;
      }
    }
    await this.teardown(run);
    await this.deletePodObject(run.pod);
    this.pods.delete(run.uid);
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

  // ---- probes --------------------------------------------------------------------------------

  /**
   * Runs `probe` after its initial delay, then every period, for as long as `run` runs the process
   * it runs now; `onResult` says whether to go on.
   */
  private repeatProbe(run: PodRun, probe: k8s.V1Probe, onResult: (ok: boolean) => boolean, first = true): void {
    const delay = first ? (probe.initialDelaySeconds ?? 0) * 1000 : (probe.periodSeconds ?? 10) * 1000;
    const child = run.proc;
    this.later(run, delay, () => {
      if (run.proc !== child || !child || run.terminating) return;
      void this.probeOnce(run, probe).then((ok) => {
        if (run.proc !== child || run.terminating || run.node.stopped) return;
        if (onResult(ok)) this.repeatProbe(run, probe, onResult, false);
      });
    });
  }

  /** Readiness: Ready after `successThreshold` successes in a row, not Ready after `failureThreshold` failures. */
  private watchReadiness(run: PodRun, probe: k8s.V1Probe): void {
    let successes = 0;
    let failures = 0;
    this.repeatProbe(run, probe, (ok) => {
      successes = ok ? successes + 1 : 0;
      failures = ok ? 0 : failures + 1;
      const ready = run.ready ? failures < (probe.failureThreshold ?? 3) : successes >= (probe.successThreshold ?? 1);
      if (ready !== run.ready) {
        run.ready = ready;
        this.markDirty(run);
      }
      return true;
    });
  }

  /** Liveness: after `failureThreshold` failures in a row, stop the process; the restart policy does the rest. */
  private watchLiveness(run: PodRun, probe: k8s.V1Probe): void {
    const child = run.proc;
    let failures = 0;
    this.repeatProbe(run, probe, (ok) => {
      failures = ok ? 0 : failures + 1;
      if (failures < (probe.failureThreshold ?? 3)) return true;
      const grace = probe.terminationGracePeriodSeconds ?? run.pod.spec?.terminationGracePeriodSeconds ?? 30;
      log(`pod ${run.key}: liveness probe failed ${failures} times: SIGTERM, grace ${grace}s`);
      this.signal(run, 'SIGTERM');
      this.later(run, grace * 1000, () => {
        if (run.proc === child) this.signal(run, 'SIGKILL');
      });
      return false;
    });
  }

  private probeOnce(run: PodRun, probe: k8s.V1Probe): Promise<boolean> {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    const container = run.pod.spec?.containers[0];
    const portOf = (port: number | string): number =>
      typeof port === 'number' ? port : (container?.ports?.find((p) => p.name === port)?.containerPort ?? Number(port));
    return new Promise((resolve) => {
      if (probe.httpGet) {
        const req = httpRequest(
          { host: probe.httpGet.host ?? run.ip, port: portOf(probe.httpGet.port as number | string), path: probe.httpGet.path ?? '/', timeout: timeoutMs },
          (res) => {
            res.resume();
            resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
          },
        );
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      } else if (probe.tcpSocket) {
        const socket = connect(portOf(probe.tcpSocket.port as number | string), run.ip);
        socket.setTimeout(timeoutMs, () => socket.destroy());
        socket.on('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
        socket.on('close', () => resolve(false));
      } else if (probe.exec?.command?.length) {
        const child = spawn('ip', ['netns', 'exec', run.netns, ...probe.exec.command], { stdio: 'ignore', timeout: timeoutMs });
        child.on('close', (code) => resolve(code === 0));
        child.on('error', () => resolve(false));
      } else {
        resolve(true);
      }
    });
  }

  // ---- volumes and env -----------------------------------------------------------------------

  private async prepareVolumes(run: PodRun): Promise<Map<string, string>> {
    const ns = run.pod.metadata?.namespace ?? 'default';
    const result = new Map<string, string>();
    const writeFiles = (dir: string, files: Record<string, Buffer>, mode?: number): void => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), content, { mode: mode ?? 0o644 });
      }
    };
    const pick = (data: Record<string, Buffer>, items: { key: string; path: string }[] | undefined): Record<string, Buffer> => {
      if (!items) return data;
      const out: Record<string, Buffer> = {};
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined) throw new Error(`key ${item.key} not found`);
        out[item.path] = value;
      }
      return out;
    };
    for (const volume of run.pod.spec?.volumes ?? []) {
      const dir = join(run.dir, 'volumes', volume.name);
      if (volume.emptyDir) {
        mkdirSync(dir, { recursive: true });
        result.set(volume.name, dir);
      } else if (volume.hostPath) {
        mkdirSync(volume.hostPath.path, { recursive: true });
        result.set(volume.name, volume.hostPath.path);
      } else if (volume.persistentVolumeClaim) {
        const pvc = await this.core.readNamespacedPersistentVolumeClaim({ name: volume.persistentVolumeClaim.claimName, namespace: ns });
        if (pvc.status?.phase !== 'Bound' || !pvc.spec?.volumeName) throw new Error(`persistentvolumeclaim ${volume.persistentVolumeClaim.claimName} is not bound`);
        const pv = await this.core.readPersistentVolume({ name: pvc.spec.volumeName });
        const path = pv.spec?.hostPath?.path ?? join(this.state.stateDir, 'volumes', pv.metadata?.name ?? 'unknown');
        mkdirSync(path, { recursive: true });
        result.set(volume.name, path);
      } else if (volume.secret) {
        const data = await this.secretData(ns, volume.secret.secretName ?? '', volume.secret.optional);
        writeFiles(dir, pick(data, volume.secret.items), volume.secret.defaultMode);
        result.set(volume.name, dir);
      } else if (volume.configMap) {
        const data = await this.configMapData(ns, volume.configMap.name ?? '', volume.configMap.optional);
        writeFiles(dir, pick(data, volume.configMap.items), volume.configMap.defaultMode);
        result.set(volume.name, dir);
      } else if (volume.downwardAPI) {
        const files: Record<string, Buffer> = {};
        for (const item of volume.downwardAPI.items ?? []) files[item.path] = Buffer.from(this.fieldValue(run, item.fieldRef?.fieldPath ?? ''));
        writeFiles(dir, files, volume.downwardAPI.defaultMode);
        result.set(volume.name, dir);
      } else if (volume.projected) {
        const files: Record<string, Buffer> = {};
        for (const source of volume.projected.sources ?? []) {
          if (source.serviceAccountToken) {
            files[source.serviceAccountToken.path] = Buffer.from(await this.token(run, source.serviceAccountToken));
          } else if (source.configMap) {
            Object.assign(files, pick(await this.configMapData(ns, source.configMap.name ?? '', source.configMap.optional), source.configMap.items));
          } else if (source.secret) {
            Object.assign(files, pick(await this.secretData(ns, source.secret.name ?? '', source.secret.optional), source.secret.items));
          } else if (source.downwardAPI) {
            for (const item of source.downwardAPI.items ?? []) files[item.path] = Buffer.from(this.fieldValue(run, item.fieldRef?.fieldPath ?? ''));
          }
        }
        writeFiles(dir, files, volume.projected.defaultMode);
        result.set(volume.name, dir);
      } else {
        throw new Error(`volume ${volume.name}: only emptyDir, hostPath, persistentVolumeClaim, secret, configMap, downwardAPI and projected are supported`);
      }
    }
    return result;
  }

  private async token(run: PodRun, source: k8s.V1ServiceAccountTokenProjection): Promise<string> {
    const response = await this.core.createNamespacedServiceAccountToken({
      name: run.pod.spec?.serviceAccountName ?? 'default',
      namespace: run.pod.metadata?.namespace ?? 'default',
      body: {
        spec: {
          audiences: source.audience ? [source.audience] : [],
          expirationSeconds: source.expirationSeconds ?? 3607,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: run.pod.metadata?.name, uid: run.uid },
        },
      },
    });
    return response.status?.token ?? '';
  }

  private async secretData(ns: string, name: string, optional?: boolean): Promise<Record<string, Buffer>> {
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace: ns });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = Buffer.from(v);
      return out;
    } catch (err) {
      if (statusCode(err) === 404) {
        if (optional) return {};
        throw new Error(`secret "${name}" not found`, { cause: err });
      }
      throw err;
    }
  }

  private async configMapData(ns: string, name: string, optional?: boolean): Promise<Record<string, Buffer>> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ name, namespace: ns });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v);
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
      return out;
    } catch (err) {
      if (statusCode(err) === 404) {
        if (optional) return {};
        throw new Error(`configmap "${name}" not found`, { cause: err });
      }
      throw err;
    }
  }

  private fieldValue(run: PodRun, path: string): string {
    const meta = run.pod.metadata ?? {};
    const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (label) return (label[1] === 'labels' ? meta.labels : meta.annotations)?.[label[2] ?? ''] ?? '';
    switch (path) {
      case 'metadata.name':
        return meta.name ?? '';
      case 'metadata.namespace':
        return meta.namespace ?? '';
      case 'metadata.uid':
        return meta.uid ?? '';
      case 'spec.nodeName':
        return run.node.name;
      case 'spec.serviceAccountName':
        return run.pod.spec?.serviceAccountName ?? '';
      case 'status.podIP':
      case 'status.podIPs':
        return run.ip;
      case 'status.hostIP':
      case 'status.hostIPs':
        return this.state.gateway;
      case 'metadata.labels':
        return Object.entries(meta.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
      case 'metadata.annotations':
        return Object.entries(meta.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
      default:
        throw new Error(`fieldRef ${path} is not supported`);
    }
  }

  private async resolveEnv(run: PodRun, container: k8s.V1Container): Promise<Record<string, string>> {
    const ns = run.pod.metadata?.namespace ?? 'default';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      HOSTNAME: run.pod.spec?.hostname ?? run.pod.metadata?.name ?? '',
      KUBERNETES_SERVICE_HOST: this.state.gateway,
      KUBERNETES_SERVICE_PORT: String(API_PROXY_PORT),
      KUBERNETES_SERVICE_PORT_HTTPS: String(API_PROXY_PORT),
      KUBERNETES_PORT: `tcp://${this.state.gateway}:${API_PROXY_PORT}`,
    };
    if (run.gpus.length > 0) {
      env.NVIDIA_VISIBLE_DEVICES = run.gpus.join(',');
      env.CUDA_VISIBLE_DEVICES = run.gpus.join(',');
    }
    for (const from of container.envFrom ?? []) {
      const prefix = from.prefix ?? '';
      const data = from.configMapRef
        ? await this.configMapData(ns, from.configMapRef.name ?? '', from.configMapRef.optional)
        : from.secretRef
          ? await this.secretData(ns, from.secretRef.name ?? '', from.secretRef.optional)
          : {};
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v.toString();
    }
    for (const item of container.env ?? []) {
      const source = item.valueFrom;
      let value: string | undefined;
      if (!source) {
        value = (item.value ?? '').replace(/\$\((\w+)\)|\$\$/g, (m, v: string | undefined) => (v === undefined ? '$' : (env[v] ?? m)));
      } else if (source.fieldRef) {
        value = this.fieldValue(run, source.fieldRef.fieldPath);
      } else if (source.secretKeyRef) {
        const ref = source.secretKeyRef;
        const data = await this.secretData(ns, ref.name ?? '', ref.optional);
        value = data[ref.key]?.toString();
        if (value === undefined && !ref.optional) throw new Error(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      } else if (source.configMapKeyRef) {
        const ref = source.configMapKeyRef;
        const data = await this.configMapData(ns, ref.name ?? '', ref.optional);
        value = data[ref.key]?.toString();
        if (value === undefined && !ref.optional) throw new Error(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      } else if (source.resourceFieldRef) {
        const res = source.resourceFieldRef.resource;
        const [kind, name] = res.split('.');
        const quantity = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[name ?? ''];
        value = quantity ?? (name === 'cpu' ? NODE_CAPACITY.cpu : '0');
      }
      if (value !== undefined) env[item.name] = value;
    }
    return env;
  }

  // ---- status --------------------------------------------------------------------------------

  private markDirty(run: PodRun): void {
    run.dirty = true;
    if (!run.patching) void this.flushStatus(run);
  }

  private async flushStatus(run: PodRun): Promise<void> {
    run.patching = true;
    try {
      while (run.dirty) {
        run.dirty = false;
        if (run.node.stopped) break;
        for (let attempt = 0; ; attempt++) {
          try {
            await this.core.patchNamespacedPodStatus(
              { name: run.pod.metadata?.name ?? '', namespace: run.pod.metadata?.namespace ?? '', body: { status: this.podStatus(run) } },
              smp,
            );
            break;
          } catch (err) {
            const code = statusCode(err);
            if (code === 404 || attempt >= 5) break;
            await sleep(200 * (attempt + 1));
          }
        }
      }
    } finally {
      run.patching = false;
    }
  }

  private async afterStatusFlushed(run: PodRun): Promise<void> {
    while (run.patching || run.dirty) await sleep(50);
  }

  private podStatus(run: PodRun): k8s.V1PodStatus {
    const now = nowTime();
    const containers = run.pod.spec?.containers ?? [];
    const old = new Map((run.pod.status?.conditions ?? []).map((c) => [c.type, c]));
    const cond = (type: string, ok: boolean, reason?: string): k8s.V1PodCondition => {
      const status = ok ? 'True' : 'False';
      const prev = old.get(type);
      return {
        type,
        status,
        reason: ok ? undefined : reason,
        lastProbeTime: null as unknown as Date,
        lastTransitionTime: (prev?.status === status ? prev.lastTransitionTime : now) as Date,
      };
    };
    const terminal = run.phase === 'Succeeded' || run.phase === 'Failed';
    const ready = run.ready && run.phase === 'Running' && !!run.proc;
    const first = containers[0];
    const statuses: k8s.V1ContainerStatus[] = containers.map((c, i) =>
      i === 0
        ? {
            name: c.name,
            image: c.image ?? '',
            imageID: `pipetrain-agent://${c.image ?? ''}`,
            containerID: run.proc?.pid ? `process://${run.proc.pid}` : run.state.terminated?.containerID,
            ready,
            started: !!run.proc,
            restartCount: run.restartCount,
            state: run.state,
            lastState: run.lastState ?? {},
          }
        : {
            // Only the first container runs; the others are reported as running stand-ins.
            name: c.name,
            image: c.image ?? '',
            imageID: `pipetrain-agent://${c.image ?? ''}`,
            ready: !terminal,
            started: !terminal,
            restartCount: 0,
            state: terminal ? { terminated: { exitCode: 0, reason: 'Completed' } } : { running: { startedAt: run.startTime as unknown as Date } },
          },
    );
    void first;
    return {
      phase: run.phase,
      hostIP: this.state.gateway,
      hostIPs: [{ ip: this.state.gateway }],
      podIP: run.ip,
      podIPs: [{ ip: run.ip }],
      startTime: run.startTime as unknown as Date,
      conditions: [
        cond('PodReadyToStartContainers', !run.torn),
        cond('Initialized', true),
        cond('ContainersReady', ready, terminal ? 'PodCompleted' : 'ContainersNotReady'),
        cond('Ready', ready, terminal ? 'PodCompleted' : 'ContainersNotReady'),
      ],
      containerStatuses: statuses,
    };
  }

  // ---- control server ------------------------------------------------------------------------

  private startControlServer(): Promise<{ close(): unknown }> {
    const path = controlSocket(this.state.stateDir);
    rmSync(path, { force: true });
    const server = createHttpServer((req, res) => void this.handleControl(req, res));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve(server));
    });
  }

  private async handleControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += (chunk as Buffer).toString();
    const args = (body ? JSON.parse(body) : {}) as { name?: string; namespace?: string; signal?: NodeJS.Signals };
    const reply = (code: number, value: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    try {
      switch (req.url) {
        case '/healthz':
          return reply(200, { ok: true });
        case '/pods':
          return reply(
            200,
            [...this.pods.values()].map((r) => ({ key: r.key, uid: r.uid, node: r.node.name, ip: r.ip, netns: r.netns, pid: r.proc?.pid ?? null, dir: r.dir })),
          );
        case '/stop-node':
          await this.stopNode(args.name ?? '');
          return reply(200, { ok: true });
        case '/start-node':
          await this.startNode(args.name ?? '');
          return reply(200, { ok: true });
        case '/partition-pod':
          await this.setPodNetwork(args.namespace ?? '', args.name ?? '', false);
          return reply(200, { ok: true });
        case '/heal-pod':
          await this.setPodNetwork(args.namespace ?? '', args.name ?? '', true);
          return reply(200, { ok: true });
        case '/kill-pod':
          return reply(200, { pid: await this.killPod(args.namespace ?? '', args.name ?? '', args.signal ?? 'SIGKILL') });
        default:
          return reply(404, { error: `unknown ${req.url}` });
      }
    } catch (err) {
      reply(500, { error: errorMessage(err) });
    }
  }

  // ---- shutdown ------------------------------------------------------------------------------

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    void this.podInformer?.stop().catch(() => undefined);
    void this.serviceInformer?.stop().catch(() => undefined);
    for (const run of this.pods.values()) {
      run.node.stopped = true;
      this.signal(run, 'SIGKILL');
    }
    await Promise.allSettled([...this.pods.values()].map((r) => r.exited));
    await Promise.allSettled([...this.pods.values()].map((r) => this.teardown(r)));
    for (const server of this.servers) server.close();
    await removeNetwork(this.state.runId);
  }
}

/** Deletes every network namespace (killing what runs inside), /etc/netns entry and bridge of a run. */
export async function removeNetwork(runId: string): Promise<void> {
  const prefix = netnsPrefix(runId);
  const list = await exec('ip', ['netns', 'list']).catch(() => '');
  for (const ns of list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix))) {
    const pids = await exec('ip', ['netns', 'pids', ns]).catch(() => '');
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  if (existsSync('/etc/netns')) {
    for (const entry of readdirSync('/etc/netns')) if (entry.startsWith(prefix)) rmSync(join('/etc/netns', entry), { recursive: true, force: true });
  }
  await exec('ip', ['link', 'del', bridgeName(runId)]).catch(() => undefined);
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
