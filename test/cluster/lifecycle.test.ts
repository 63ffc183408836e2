// cluster:up / cluster:down leave nothing behind, and a killed run is cleaned up by the next start.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, startCluster } from './cluster.ts';
import { clusterSkipReason } from './harness.ts';
import { ClusterClient } from './control.ts';
import { type ClusterState, bridgeName, netnsPrefix, readState } from './state.ts';
import { nodeContainer, isReady, waitForPod } from './fixtures.ts';
import { exec, pidAlive, sleep } from './util.ts';

const skip = clusterSkipReason();

/** What of a run is still on the host: live component processes, network namespaces, the bridge, /etc/netns entries. */
async function leftovers(state: ClusterState, podPids: number[]): Promise<string[]> {
  const found: string[] = [];
  for (const [name, pid] of Object.entries(state.pids)) if (pidAlive(pid)) found.push(`process ${name} (${pid})`);
  for (const pid of podPids) if (pidAlive(pid)) found.push(`pod process ${pid}`);
  const netns = await exec('ip', ['netns', 'list']);
  for (const line of netns.split('\n')) if (line.startsWith(netnsPrefix(state.runId))) found.push(`netns ${line}`);
  const links = await exec('ip', ['-o', 'link', 'show']);
  if (links.includes(bridgeName(state.runId))) found.push(`bridge ${bridgeName(state.runId)}`);
  if (existsSync('/etc/netns')) {
    const entries = await exec('ls', ['/etc/netns']);
    for (const e of entries.split('\n')) if (e.startsWith(netnsPrefix(state.runId))) found.push(`/etc/netns/${e}`);
  }
  if (existsSync(state.stateDir)) found.push(`state dir ${state.stateDir}`);
  return found;
}

function runScript(script: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'test/cluster', script)], { cwd: REPO_ROOT, env, timeout: 180_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${script}: ${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

test('a killed run is cleaned up by the next start, and cluster:up / cluster:down leave nothing behind', { skip, timeout: 300_000 }, async (t) => {
  // Separate registry, so this test never touches a developer's own `cluster:up` cluster.
  const registry = mkdtempSync(join(tmpdir(), 'pipetrain-clusters-'));
  const env = { ...process.env, PIPETRAIN_CLUSTERS_DIR: registry };
  process.env.PIPETRAIN_CLUSTERS_DIR = registry;
  const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    // 1. A "test run" (owner) starts a cluster with a running pod, then dies with its agent: nothing cleans up.
    const killed = await startCluster({ nodes: 1, ownerPid: owner.pid ?? null });
    const client = new ClusterClient(killed);
    await client.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'orphan' }, spec: { containers: [nodeContainer('sleep', 'setInterval(() => {}, 1000)', { readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } })] } },
    });
    await waitForPod(client, 'default', 'orphan', 'Ready', isReady);
    const podPids = (await client.agentPods()).map((r) => r.pid ?? 0).filter(Boolean);
    assert.equal(podPids.length, 1);
    owner.kill('SIGKILL');
    process.kill(killed.pids.agent ?? 0, 'SIGKILL');
    await sleep(200);
    assert.ok((await leftovers(killed, podPids)).length > 3, 'the killed run left processes and namespaces');

    // 2. `cluster:up` removes the stale run before starting.
    const t0 = Date.now();
    const up = await runScript('up.ts', env);
    t.diagnostic(`cluster:up (1 stale run to clean, warm tools) took ${Date.now() - t0} ms`);
    assert.match(up.stdout, /export KUBECONFIG=/);
    assert.deepEqual(await leftovers(killed, podPids), []);
    const current = readState(readFileSync(join(registry, 'current'), 'utf8').trim());
    const nodes = await new ClusterClient(current).kubectl(['get', 'nodes', '-o', 'name']);
    assert.equal(nodes.trim().split('\n').length, 3);
    const upPodPids: number[] = [];

    // 3. `cluster:down` stops everything it started.
    await runScript('down.ts', env);
    assert.deepEqual(await leftovers(current, upPodPids), []);
  } finally {
    owner.kill('SIGKILL');
    await runScript('down.ts', env).catch(() => undefined);
    delete process.env.PIPETRAIN_CLUSTERS_DIR;
    rmSync(registry, { recursive: true, force: true });
  }
});
