// Restarting a control-plane component the hard way (SIGKILL, a pause, the same command again), for
// fault tests: a crash of etcd or the API server under a running job.
import { apiGet, httpOk, startProcess } from './cluster.ts';
import type { ClusterState } from './state.ts';
import { pidAlive, sleep, waitFor } from './util.ts';

/**
 * Kills a control-plane component (SIGKILL: no graceful shutdown), keeps it down for `downMs`, starts
 * it again with the same command and waits until it is healthy: a crash and a restart, for fault tests.
 */
export async function restartComponent(state: ClusterState, name: 'etcd' | 'kube-apiserver', downMs: number): Promise<void> {
  const command = state.commands?.[name];
  const pid = state.pids[name];
  if (!command || !pid) throw new Error(`${name} was not started by this cluster`);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitFor(`${name} (pid ${pid}) to exit`, () => !pidAlive(pid), 10_000, 50);
  await sleep(downMs);
  startProcess(state, name, command.cmd, command.args);
  if (name === 'etcd') await waitFor('etcd /health', () => httpOk(`http://127.0.0.1:${state.etcdPort}/health`), 30_000, 100);
  else await waitFor('kube-apiserver /readyz', async () => (await apiGet(state, '/readyz').catch(() => ({ status: 0 }))).status === 200, 90_000, 200);
}
