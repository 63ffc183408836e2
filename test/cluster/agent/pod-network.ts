// The cluster network of the node agent: one bridge per run, a network namespace and veth per pod,
// per-pod resolv.conf and hosts, and a TCP proxy that lets pods reach the loopback-only API server.
import { mkdirSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { connect, createServer as createTcpServer, type Server } from 'node:net';
import { join } from 'node:path';
import { type ClusterState, bridgeName, netnsPrefix } from '../state.ts';
import { exec } from '../util.ts';
import { API_PROXY_PORT, CLUSTER_DOMAIN, type PodRun } from './types.ts';

export async function setupBridge(state: ClusterState): Promise<void> {
  const br = state.bridge;
  await exec('ip', ['link', 'add', br, 'type', 'bridge']);
  await exec('ip', ['addr', 'add', `${state.gateway}/24`, 'dev', br]);
  await exec('ip', ['link', 'set', br, 'up']);
  // No forwarding from the bridge: pods reach the host's bridge address and each other, nothing else.
  writeFileSync(`/proc/sys/net/ipv4/conf/${br}/forwarding`, '0');
}

export async function createPodNetwork(state: ClusterState, run: PodRun): Promise<void> {
  const { netns, hostVeth, ip } = run;
  await exec('ip', ['netns', 'add', netns]);
  await exec('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await exec('ip', ['link', 'set', hostVeth, 'master', state.bridge, 'up']);
  await exec('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  await exec('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
  await exec('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  // `ip netns exec` bind-mounts these over /etc/resolv.conf and /etc/hosts for the pod's process.
  const etc = `/etc/netns/${netns}`;
  mkdirSync(etc, { recursive: true });
  const ns = run.pod.metadata?.namespace ?? 'default';
  writeFileSync(
    join(etc, 'resolv.conf'),
    `nameserver ${state.gateway}\nsearch ${ns}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\noptions ndots:5\n`,
  );
  const hostname = run.pod.spec?.hostname ?? run.pod.metadata?.name ?? 'pod';
  const subdomain = run.pod.spec?.subdomain;
  const fqdn = subdomain ? `${hostname}.${subdomain}.${ns}.svc.${CLUSTER_DOMAIN} ` : '';
  writeFileSync(join(etc, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${fqdn}${hostname}\n`);
}

export async function removePodNetwork(run: PodRun): Promise<void> {
  // Delete the veth explicitly: a namespace outlives `ip netns del` while anything still holds it
  // (e.g. sockets of a partitioned pod), and its veth name would then block the next pod's.
  await exec('ip', ['link', 'del', run.hostVeth]).catch(() => undefined);
  await exec('ip', ['netns', 'del', run.netns]).catch(() => undefined);
  rmSync(`/etc/netns/${run.netns}`, { recursive: true, force: true });
}

/** Takes the pod's link down (a partition) or up again. */
export async function setPodLink(run: PodRun, up: boolean): Promise<void> {
  await exec('ip', ['link', 'set', run.hostVeth, up ? 'up' : 'down']);
}

/** TCP proxy from the bridge address to the loopback-only API server, for pods' in-cluster clients. */
export function startApiProxy(state: ClusterState): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer((socket) => {
      const upstream = connect(state.apiPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    server.once('error', reject);
    server.listen(API_PROXY_PORT, state.gateway, () => resolve(server));
  });
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
