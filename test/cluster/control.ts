// Talking to a running test cluster: kubectl, pod logs (our `kubectl logs`), and the node agent's
// fault injection over its unix control socket.
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { type ClusterState, controlSocket } from './state.ts';
import { waitFor } from './util.ts';

export interface AgentPod {
  key: string;
  uid: string;
  node: string;
  ip: string;
  netns: string;
  pid: number | null;
  dir: string;
}

function agentCall<T>(state: ClusterState, path: string, body: unknown = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      { socketPath: controlSocket(state.stateDir), path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const parsed = JSON.parse(text || '{}') as T & { error?: string };
          if (res.statusCode === 200) resolve(parsed);
          else reject(new Error(`agent ${path}: ${parsed.error ?? res.statusCode}`));
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A handle on a running cluster for tests and scripts. */
export class ClusterClient {
  readonly kc = new k8s.KubeConfig();
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly batch: k8s.BatchV1Api;

  readonly state: ClusterState;

  constructor(state: ClusterState) {
    this.state = state;
    this.kc.loadFromFile(state.kubeconfig);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.apps = this.kc.makeApiClient(k8s.AppsV1Api);
    this.batch = this.kc.makeApiClient(k8s.BatchV1Api);
  }

  /** Runs the pinned kubectl against this cluster; resolves with stdout. */
  kubectl(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        join(this.state.binDir, 'kubectl'),
        args,
        { env: { ...process.env, KUBECONFIG: this.state.kubeconfig }, timeout: 60_000, maxBuffer: 32 * 2 ** 20 },
        (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout)),
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  /**
   * Waits until the CustomResourceDefinition `name` (plural.group) is Established. Not `kubectl wait
   * --for=condition=Established`: it fails at once ("conditions accessor error: <nil>") when it looks
   * before the API server has written the CRD's first condition, which a busy machine shows (CI).
   */
  async waitForCrdEstablished(name: string, timeoutMs = 30_000): Promise<void> {
    const established = async () => (await this.kubectl(['get', `crd/${name}`, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'])).trim() === 'True';
    await waitFor(`crd/${name} to be Established`, established, timeoutMs);
  }

  /** Output of the pod's container (all restarts appended), like `kubectl logs`. '' if it never ran. */
  podLogs(namespace: string, name: string): string {
    const base = join(this.state.stateDir, 'pods', namespace, name);
    if (!existsSync(base)) return '';
    const runs = readdirSync(base)
      .map((uid) => join(base, uid, 'log'))
      .filter((p) => existsSync(p))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    const latest = runs.at(-1);
    return latest ? readFileSync(latest, 'utf8') : '';
  }

  /** Output of every run of the pod (one per pod uid, so per restart of a job), oldest first. */
  allPodLogs(namespace: string, name: string): string[] {
    const base = join(this.state.stateDir, 'pods', namespace, name);
    if (!existsSync(base)) return [];
    return readdirSync(base)
      .map((uid) => join(base, uid, 'log'))
      .filter((p) => existsSync(p))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
      .map((p) => readFileSync(p, 'utf8'));
  }

  /** Kills the node's pod processes and stops its heartbeats: the controller-manager then marks it NotReady. */
  stopNode(name: string): Promise<unknown> {
    return agentCall(this.state, '/stop-node', { name });
  }

  /** Brings a stopped node back (Ready again; its old pods are forgotten, as after a reboot). */
  startNode(name: string): Promise<unknown> {
    return agentCall(this.state, '/start-node', { name });
  }

  /** Cuts the pod off the bridge (its veth goes down): no DNS, no API, no peers. */
  partitionPod(namespace: string, name: string): Promise<unknown> {
    return agentCall(this.state, '/partition-pod', { namespace, name });
  }

  healPod(namespace: string, name: string): Promise<unknown> {
    return agentCall(this.state, '/heal-pod', { namespace, name });
  }

  /** Sends a signal to the pod's process group; the agent then applies the restart policy. */
  async killPod(namespace: string, name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    return (await agentCall<{ pid: number }>(this.state, '/kill-pod', { namespace, name, signal })).pid;
  }

  /** Pods the agent currently runs, with their process ids and network namespaces. */
  agentPods(): Promise<AgentPod[]> {
    return agentCall<AgentPod[]>(this.state, '/pods');
  }
}
