// Fault injection through the node agent: a stopped node, a killed process, a partitioned pod,
// and graceful deletion (SIGTERM, grace period, SIGKILL).
import assert from 'node:assert/strict';
import { useCluster } from './harness.ts';
import { httpServerScript, isReady, nodeContainer, waitForPod } from './fixtures.ts';
import { pidAlive, waitFor } from './util.ts';

const cluster = useCluster();

function servingPod(name: string, extra: { nodeName?: string; restartPolicy?: string; grace?: number; script?: string } = {}) {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      nodeSelector: extra.nodeName ? { 'kubernetes.io/hostname': extra.nodeName } : undefined,
      restartPolicy: extra.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: extra.grace,
      containers: [
        nodeContainer('server', extra.script ?? httpServerScript(8080), {
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
        }),
      ],
    },
  };
}

cluster.test('killPod: the process dies and restartPolicy Always restarts it with a restart count', async ({ client, namespace }) => {
  await client.core.createNamespacedPod({ namespace, body: servingPod('crashy') });
  await waitForPod(client, namespace, 'crashy', 'Ready', isReady);
  const pid = await client.killPod(namespace, 'crashy', 'SIGKILL');
  const restarted = await waitForPod(client, namespace, 'crashy', 'restarted and Ready', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isReady(p), 30_000);
  const status = restarted.status?.containerStatuses?.[0];
  assert.equal(status?.lastState?.terminated?.exitCode, 137);
  assert.notEqual(status?.containerID, `process://${pid}`);
  assert.equal(restarted.status?.phase, 'Running');
});

cluster.test('a failing liveness probe gets the process restarted', async ({ client, namespace }) => {
  // Healthy for 2 s after each start, then /healthz answers 500.
  const script = `const t0 = Date.now(); require('http').createServer((q, s) => { s.statusCode = Date.now() - t0 > 2000 ? 500 : 200; s.end(); }).listen(8080);`;
  await client.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'wilting' },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [nodeContainer('server', script, { livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 } })],
      },
    },
  });
  const restarted = await waitForPod(client, namespace, 'wilting', 'restarted by its liveness probe', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 30_000);
  assert.equal(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 143, 'stopped with SIGTERM');
});

cluster.test('partitionPod cuts the pod off (its readiness probe fails) and healPod restores it', async ({ client, namespace }) => {
  await client.core.createNamespacedPod({ namespace, body: servingPod('island') });
  await waitForPod(client, namespace, 'island', 'Ready', isReady);
  await client.partitionPod(namespace, 'island');
  await waitForPod(client, namespace, 'island', 'not ready while partitioned', (p) => !isReady(p), 20_000);
  await client.healPod(namespace, 'island');
  await waitForPod(client, namespace, 'island', 'Ready again', isReady, 20_000);
});

cluster.test('deleting a pod sends SIGTERM, waits the grace period, then SIGKILLs', async ({ client, namespace }) => {
  // One pod exits on SIGTERM, the other ignores it and is killed when its 2 s grace period is over.
  await client.core.createNamespacedPod({ namespace, body: servingPod('polite') });
  const stubborn = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); require('http').createServer((q, s) => s.end('ok')).listen(8080);`;
  await client.core.createNamespacedPod({ namespace, body: servingPod('stubborn', { grace: 2, script: stubborn }) });
  await waitForPod(client, namespace, 'polite', 'Ready', isReady);
  await waitForPod(client, namespace, 'stubborn', 'Ready', isReady);
  const pids = await client.agentPods();
  const stubbornPid = pids.find((r) => r.key === `${namespace}/stubborn`)?.pid;
  assert.ok(stubbornPid);

  for (const name of ['polite', 'stubborn']) await client.core.deleteNamespacedPod({ name, namespace });
  const t0 = Date.now();
  await waitFor('both pods gone', async () => (await client.core.listNamespacedPod({ namespace })).items.length === 0, 20_000, 100);
  assert.match(client.podLogs(namespace, 'polite'), /got SIGTERM/);
  assert.match(client.podLogs(namespace, 'stubborn'), /ignoring SIGTERM/);
  assert.equal(pidAlive(stubbornPid), false);
  assert.ok(Date.now() - t0 >= 1000, 'the stubborn pod was given its grace period');
});

cluster.test('stopNode: the node turns NotReady within the grace period and its pods are marked not ready', async ({ client, namespace, t }) => {
  const victim = 'node-1';
  await client.core.createNamespacedPod({ namespace, body: servingPod('on-victim', { nodeName: victim }) });
  const before = await waitForPod(client, namespace, 'on-victim', 'Ready', isReady);
  assert.equal(before.spec?.nodeName, victim);
  const pid = (await client.agentPods()).find((r) => r.uid === before.metadata?.uid)?.pid;
  assert.ok(pid);

  const stopped = Date.now();
  await client.stopNode(victim);
  assert.equal(pidAlive(pid), false, "the node's processes are gone");
  const grace = client.state.nodeMonitorGracePeriodSeconds;
  await waitFor(`${victim} NotReady`, async () => {
    const node = await client.core.readNode({ name: victim });
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True');
  }, (grace + 15) * 1000, 200);
  const detected = Date.now() - stopped;
  t.diagnostic(`node failure detected after ${detected} ms (node-monitor-grace-period ${grace}s, lease renewed every 2s)`);
  assert.ok(detected <= (grace + 5) * 1000, `NotReady after ${detected} ms, grace period ${grace}s`);
  await waitForPod(client, namespace, 'on-victim', 'marked not ready', (p) => !isReady(p), 20_000);
  const healthy = await client.core.readNode({ name: 'node-0' });
  assert.ok(healthy.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 'other nodes stay Ready');

  // The node comes back (last test of this file, so nothing waits for its taints to be lifted).
  await client.startNode(victim);
  await waitFor(`${victim} Ready again`, async () => {
    const node = await client.core.readNode({ name: victim });
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 30_000, 200);
});
