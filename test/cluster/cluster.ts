// Starts and stops a test cluster: etcd, kube-apiserver (127.0.0.1 only), kube-scheduler,
// kube-controller-manager and the node agent, all as real processes in a fresh state directory.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { removeNetwork } from './agent.ts';
import {
  type ClusterState,
  BRIDGE_PATTERN,
  NETNS_PATTERN,
  RUN_ID_PATTERN,
  bridgeName,
  clustersRoot,
  componentLog,
  readState,
} from './state.ts';
import { ensureTools } from './tools.ts';
import { defaultImages, type ImageConfig } from './images.ts';
import { cmdline, exec, freePort, pidAlive, sleep, waitFor } from './util.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StartOptions {
  /** Number of nodes the agent registers (default 3; 0: none, so pods stay Pending, unscheduled). */
  nodes?: number;
  /** Owner process; the cluster counts as stale once it is gone. `null`: lives until `cluster:down`. */
  ownerPid?: number | null;
  /** kube-controller-manager's --node-monitor-grace-period in seconds (default 10). */
  nodeMonitorGracePeriodSeconds?: number;
  /** Extra or overriding image ENTRYPOINT/CMD entries (see images.ts). */
  images?: Record<string, ImageConfig>;
  /** An audit `Policy` (YAML); the API server then writes its audit log to `auditLog(stateDir)`. */
  auditPolicy?: string;
  log?: (line: string) => void;
}

const noLog = (): void => undefined;

function generatePki(dir: string, gateway: string): Promise<unknown> {
  const ext = join(dir, 'apiserver.ext');
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:127.0.0.1,IP:${gateway},IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,` +
        'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
      '',
    ].join('\n'),
  );
  const o = (args: string[]): Promise<string> => exec('openssl', args);
  return Promise.all([
    o(['genrsa', '-out', join(dir, 'sa.key'), '2048']),
    o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '3650', '-subj', '/CN=pipetrain-test-ca'])
      .then(() => o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'apiserver.key'), '-out', join(dir, 'apiserver.csr'), '-subj', '/CN=kube-apiserver']))
      .then(() =>
        o(['x509', '-req', '-in', join(dir, 'apiserver.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial',
          '-out', join(dir, 'apiserver.crt'), '-days', '3650', '-extfile', ext]),
      ),
  ]);
}

function kubeconfigYaml(state: Pick<ClusterState, 'apiPort' | 'caFile' | 'adminToken'>): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: pipetrain-test
  cluster:
    server: https://127.0.0.1:${state.apiPort}
    certificate-authority: ${state.caFile}
users:
- name: admin
  user:
    token: ${state.adminToken}
contexts:
- name: pipetrain-test
  context: {cluster: pipetrain-test, user: admin, namespace: default}
current-context: pipetrain-test
`;
}

/** Starts a component in its own process group, recording its pid and command in the state file. */
export function startProcess(state: ClusterState, name: string, cmd: string, args: string[]): number {
  const out = openSync(componentLog(state.stateDir, name), 'a');
  const child = spawn(cmd, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', out, out], env: { ...process.env } });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${name}`);
  state.pids[name] = child.pid;
  state.commands = { ...state.commands, [name]: { cmd, args } };
  writeFileSync(join(state.stateDir, 'cluster.json'), JSON.stringify(state, null, 2));
  return child.pid;
}

export function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export function apiGet(state: Pick<ClusterState, 'apiPort' | 'caFile' | 'adminToken'>, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: state.apiPort, path, ca: readFileSync(state.caFile), headers: { authorization: `Bearer ${state.adminToken}` }, timeout: 5000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function exitedOrAlive(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return false;
    await sleep(50);
  }
  return pidAlive(pid);
}

/** A /24 under 10.250.0.0/16 that no route of this host overlaps. */
async function pickSubnet(): Promise<string> {
  const routes = await exec('ip', ['-4', 'route', 'show', 'table', 'all']).catch(() => '');
  for (let i = 0; i < 50; i++) {
    const subnet = `10.250.${randomBytes(1)[0] ?? 0}`;
    if (!routes.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free /24 in 10.250.0.0/16');
}

/** Starts a cluster and waits until the API server is healthy and every node is Ready and schedulable. */
export async function startCluster(opts: StartOptions = {}): Promise<ClusterState> {
  const log = opts.log ?? noLog;
  const t0 = Date.now();
  await cleanupStale({ log });
  const binDir = await ensureTools(log);
  const runId = randomBytes(3).toString('hex');
  const stateDir = join(clustersRoot(), runId);
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  mkdirSync(join(stateDir, 'pki'), { recursive: true });
  const subnet = await pickSubnet();
  const nodeCount = opts.nodes ?? 3;
  const [apiPort, etcdPort, peerPort, kcmPort, schedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const pki = join(stateDir, 'pki');
  const state: ClusterState = {
    runId,
    stateDir,
    binDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    adminToken: randomBytes(24).toString('hex'),
    apiPort: apiPort ?? 0,
    etcdPort: etcdPort ?? 0,
    caFile: join(pki, 'ca.crt'),
    nodes: Array.from({ length: nodeCount }, (_, i) => `node-${i}`),
    subnet,
    gateway: `${subnet}.1`,
    bridge: bridgeName(runId),
    nodeMonitorGracePeriodSeconds: opts.nodeMonitorGracePeriodSeconds ?? 10,
    ownerPid: opts.ownerPid === undefined ? process.pid : opts.ownerPid,
    pids: {},
    startedAt: new Date().toISOString(),
    images: { ...defaultImages(REPO_ROOT.replace(/\/$/, '')), ...opts.images },
  };
  writeFileSync(join(stateDir, 'cluster.json'), JSON.stringify(state, null, 2));
  try {
    await generatePki(pki, state.gateway);
    writeFileSync(join(pki, 'tokens.csv'), `${state.adminToken},admin,admin,"system:masters"\n`);
    writeFileSync(state.kubeconfig, kubeconfigYaml(state));
    const bin = (name: string): string => join(binDir, name);

    // etcd (3.5+ has --unsafe-no-fsync; Debian's 3.4 fallback has not)
    const etcdVersion = await exec(bin('etcd'), ['--version']);
    const etcdArgs = [
      '--name=default',
      `--data-dir=${join(stateDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--log-level=warn',
    ];
    if (!/etcd Version: 3\.4\./.test(etcdVersion)) etcdArgs.push('--unsafe-no-fsync=true');
    startProcess(state, 'etcd', bin('etcd'), etcdArgs);
    await waitFor('etcd /health', () => httpOk(`http://127.0.0.1:${etcdPort}/health`), 30_000, 100);
    log(`etcd healthy after ${Date.now() - t0} ms`);

    const audit: string[] = [];
    if (opts.auditPolicy !== undefined) {
      writeFileSync(join(stateDir, 'audit-policy.yaml'), opts.auditPolicy);
      audit.push(`--audit-policy-file=${join(stateDir, 'audit-policy.yaml')}`, `--audit-log-path=${auditLog(stateDir)}`);
    }
    startProcess(state, 'kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--cert-dir=${pki}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki, 'sa.key')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--default-not-ready-toleration-seconds=15',
      '--default-unreachable-toleration-seconds=15',
      '--profiling=false',
      ...audit,
    ]);
    await waitFor('kube-apiserver /readyz', async () => (await apiGet(state, '/readyz')).status === 200, 90_000, 200);
    log(`kube-apiserver ready after ${Date.now() - t0} ms`);

    const kubeconfigFlags = [`--kubeconfig=${state.kubeconfig}`, `--authentication-kubeconfig=${state.kubeconfig}`, `--authorization-kubeconfig=${state.kubeconfig}`];
    startProcess(state, 'kube-controller-manager', bin('kube-controller-manager'), [
      ...kubeconfigFlags,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${join(stateDir, 'kcm-certs')}`,
      '--node-monitor-period=1s',
      `--node-monitor-grace-period=${state.nodeMonitorGracePeriodSeconds}s`,
      '--node-startup-grace-period=20s',
      `--root-ca-file=${state.caFile}`,
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      '--use-service-account-credentials=false',
      '--controllers=*',
      '--v=2', // node-lifecycle transitions are logged at level 2
    ]);
    startProcess(state, 'kube-scheduler', bin('kube-scheduler'), [
      ...kubeconfigFlags,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      `--cert-dir=${join(stateDir, 'scheduler-certs')}`,
    ]);
    startProcess(state, 'agent', process.execPath, [join(REPO_ROOT, 'test/cluster/agent.ts'), '--state-dir', stateDir]);

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const storage = kc.makeApiClient(k8s.StorageV1Api);
    await storage.createStorageClass({
      body: {
        metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: 'pipetrain.dev/node-agent',
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'Immediate',
      },
    });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      `${nodeCount} Ready, untainted nodes`,
      async () => {
        for (const [name, pid] of Object.entries(state.pids)) if (!pidAlive(pid)) throw new Error(`${name} exited; see ${componentLog(stateDir, name)}`);
        const nodes = (await core.listNode()).items;
        const ready = nodes.filter(
          (n) =>
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
            !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'),
        );
        return ready.length === nodeCount;
      },
      90_000,
      200,
    );
    await waitFor('default service account', async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    });
    log(`cluster ${runId} up in ${Date.now() - t0} ms (state ${stateDir})`);
    writeFileSync(join(stateDir, 'cluster.json'), JSON.stringify(state, null, 2));
    return state;
  } catch (err) {
    const tail = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'agent']
      .map((c) => componentLogTail(stateDir, c, 15))
      .join('\n');
    await stopCluster(state, { keepState: true });
    throw new Error(`cluster did not start: ${(err as Error).message}\n${tail}`, { cause: err });
  }
}

/** The API server's audit log (JSON lines), written when the cluster was started with `auditPolicy`. */
export const auditLog = (stateDir: string): string => componentLog(stateDir, 'kube-apiserver-audit');

export function componentLogTail(stateDir: string, component: string, lines: number): string {
  try {
    const text = readFileSync(componentLog(stateDir, component), 'utf8').trimEnd().split('\n');
    return `----- ${component} (last ${Math.min(lines, text.length)} lines) -----\n${text.slice(-lines).join('\n')}`;
  } catch {
    return `----- ${component}: no log -----`;
  }
}

/** Signals a component only if the pid still runs a command that belongs to this state directory. */
function ownedPid(state: ClusterState, pid: number): boolean {
  return pidAlive(pid) && cmdline(pid).includes(state.stateDir);
}

/** Stops every process of the cluster (agent first, so it removes pods and namespaces), then its network and state. */
export async function stopCluster(state: ClusterState, opts: { keepState?: boolean } = {}): Promise<void> {
  const order = ['agent', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  for (const name of order) {
    const pid = state.pids[name];
    if (pid === undefined || !ownedPid(state, pid)) continue;
    // The agent stops gracefully (it removes its pods and namespaces); the rest hold nothing worth keeping.
    try {
      process.kill(-pid, name === 'agent' ? 'SIGTERM' : 'SIGKILL');
    } catch {
      // gone
    }
    if (await exitedOrAlive(pid, name === 'agent' ? 15_000 : 5_000)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
      await exitedOrAlive(pid, 2_000);
    }
  }
  await removeNetwork(state.runId);
  if (!opts.keepState) rmSync(state.stateDir, { recursive: true, force: true });
}

/** Run ids of every node agent running on this host, whatever cache directory it uses. */
function liveAgentRunIds(): Set<string> {
  const ids = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const match = /test\/cluster\/agent\.ts --state-dir \S*\/([0-9a-f]{6})\b/.exec(cmdline(Number(entry)));
    if (match?.[1]) ids.add(match[1]);
  }
  return ids;
}

/**
 * Removes what killed runs left behind: clusters whose owner process is gone (and, with
 * `includePersistent`, clusters started by `cluster:up`), plus network namespaces and bridges
 * of run ids that no live cluster owns.
 */
export async function cleanupStale(opts: { includePersistent?: boolean; log?: (line: string) => void } = {}): Promise<string[]> {
  const log = opts.log ?? noLog;
  const removed: string[] = [];
  const live = new Set<string>();
  const root = clustersRoot();
  for (const runId of existsSync(root) ? readdirSync(root).filter((n) => RUN_ID_PATTERN.test(n)) : []) {
    const dir = join(root, runId);
    let state: ClusterState;
    try {
      state = readState(dir);
    } catch {
      // No readable cluster.json: killed before writing it, or another process is creating it right now.
      const age = Date.now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > 5 * 60_000) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    const agentPid = state.pids.agent;
    const persistentAlive = state.ownerPid === null && agentPid !== undefined && ownedPid(state, agentPid);
    const alive = state.ownerPid === null ? persistentAlive && !opts.includePersistent : pidAlive(state.ownerPid);
    if (alive) {
      live.add(runId);
      continue;
    }
    log(`removing stale cluster ${runId}`);
    await stopCluster(state);
    removed.push(runId);
  }
  const netns = await exec('ip', ['netns', 'list']).catch(() => '');
  const links = await exec('ip', ['-o', 'link', 'show', 'type', 'bridge']).catch(() => '');
  const orphanIds = new Set<string>();
  for (const line of netns.split('\n')) {
    const id = NETNS_PATTERN.exec(line.split(' ')[0] ?? '')?.[1];
    if (id && !live.has(id)) orphanIds.add(id);
  }
  for (const line of links.split('\n')) {
    const id = BRIDGE_PATTERN.exec(line.split(':')[1]?.trim().split('@')[0] ?? '')?.[1];
    if (id && !live.has(id)) orphanIds.add(id);
  }
  if (existsSync('/etc/netns')) {
    for (const entry of readdirSync('/etc/netns')) {
      const id = NETNS_PATTERN.exec(entry)?.[1];
      if (id && !live.has(id)) orphanIds.add(id);
    }
  }
  for (const id of liveAgentRunIds()) orphanIds.delete(id); // clusters of other cache roots
  for (const id of orphanIds) {
    log(`removing stray network of run ${id}`);
    await removeNetwork(id);
    if (!removed.includes(id)) removed.push(id);
  }
  return removed;
}
