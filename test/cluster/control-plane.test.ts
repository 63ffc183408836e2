// The real control plane plus our node agent: API server version, CRDs with kubectl, a Deployment
// run by scheduler + controller-manager + agent, DNS between pods, and a Job's back-off.
import assert from 'node:assert/strict';
import { useCluster } from './harness.ts';
import { apiGet } from './cluster.ts';
import { KUBERNETES_VERSION } from './versions.ts';
import { httpServerScript, isReady, nodeContainer, waitForPod, watchPods } from './fixtures.ts';
import { waitFor } from './util.ts';

// An image the agent knows: ENTRYPOINT prints its arguments, CMD is `default`.
const echoImage = { entrypoint: [process.execPath, '-e', `console.log('argv: ' + process.argv.slice(1).join(' '))`], cmd: ['default'] };
const cluster = useCluster({ images: { 'example.test/echo': echoImage } });

cluster.test('the API server answers /version with the pinned version', async ({ client }) => {
  const res = await apiGet(client.state, '/version');
  assert.equal(res.status, 200);
  const version = JSON.parse(res.body) as { gitVersion: string; major: string; minor: string };
  assert.equal(version.gitVersion, KUBERNETES_VERSION);
  assert.equal(`v${version.major}.${version.minor}`, KUBERNETES_VERSION.split('.').slice(0, 2).join('.'));
  const kubectl = JSON.parse(await client.kubectl(['version', '-o', 'json'])) as {
    clientVersion: { gitVersion: string };
    serverVersion: { gitVersion: string };
  };
  assert.equal(kubectl.clientVersion.gitVersion, KUBERNETES_VERSION);
  assert.equal(kubectl.serverVersion.gitVersion, KUBERNETES_VERSION);
});

cluster.test('a CRD applied with kubectl becomes Established and kubectl explain describes it', async ({ client, namespace }) => {
  const group = `${namespace}.pipetrain.dev`;
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'Widget is a test resource.',
              properties: {
                spec: {
                  type: 'object',
                  description: 'spec describes the widget.',
                  properties: { size: { type: 'integer', description: 'size is how many gears the widget has.' } },
                },
              },
            },
          },
        },
      ],
    },
  };
  try {
    await client.kubectl(['apply', '-f', '-'], JSON.stringify(crd));
    await client.waitForCrdEstablished(`widgets.${group}`);
    const explained = await waitFor('kubectl explain', async () => {
      const out = await client.kubectl(['explain', `widgets.spec.size`, `--api-version=${group}/v1`]);
      return out.includes('size is how many gears') ? out : undefined;
    }, 30_000, 500);
    assert.match(explained, /KIND:\s+Widget/);
    await client.kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3 } }));
    assert.equal((await client.kubectl(['get', '-n', namespace, `widgets.${group}`, 'w', '-o', 'jsonpath={.spec.size}'])).trim(), '3');
  } finally {
    await client.kubectl(['delete', 'crd', `widgets.${group}`, '--wait=false']).catch(() => undefined);
  }
});

cluster.test('a Deployment of 2 replicas becomes Available with pods run by the agent', async ({ client, namespace, t }) => {
  const created = Date.now();
  await client.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              nodeContainer('web', httpServerScript(8080, 'hello'), {
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
              }),
            ],
          },
        },
      },
    },
  });
  let running: number | undefined;
  await waitFor('Deployment web Available with 2 ready replicas', async () => {
    if (running === undefined) {
      const pods = await client.core.listNamespacedPod({ namespace });
      if (pods.items.some((p) => p.status?.phase === 'Running')) running = Date.now() - created;
    }
    const d = await client.apps.readNamespacedDeployment({ name: 'web', namespace });
    return d.status?.availableReplicas === 2 && d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
  }, 60_000, 100);
  t.diagnostic(`created -> first pod Running: ${running} ms; -> Deployment Available: ${Date.now() - created} ms`);

  const replicaSets = await client.apps.listNamespacedReplicaSet({ namespace });
  assert.equal(replicaSets.items.length, 1, 'the controller-manager made one ReplicaSet');
  assert.equal(replicaSets.items[0]?.metadata?.ownerReferences?.[0]?.name, 'web');
  const pods = (await client.core.listNamespacedPod({ namespace })).items;
  assert.equal(pods.length, 2);
  const agentPods = await client.agentPods();
  for (const pod of pods) {
    assert.ok(pod.spec?.nodeName?.startsWith('node-'), 'the scheduler bound the pod to one of our nodes');
    assert.equal(pod.status?.phase, 'Running');
    assert.ok(isReady(pod));
    assert.match(pod.status?.podIP ?? '', new RegExp(`^${client.state.subnet.replace(/\./g, '\\.')}\\.\\d+$`));
    const run = agentPods.find((r) => r.uid === pod.metadata?.uid);
    assert.ok(run?.pid, 'the agent runs a process for the pod');
    process.kill(run.pid, 0); // throws if there is no such process
    assert.match(client.podLogs(namespace, pod.metadata?.name ?? ''), /listening on 8080/);
  }
});

cluster.test('two pods behind a headless Service reach each other by DNS name over TCP', async ({ client, namespace }) => {
  await client.core.createNamespacedService({
    namespace,
    body: { metadata: { name: 'peers' }, spec: { clusterIP: 'None', selector: { app: 'peer' }, ports: [{ name: 'tcp', port: 9000 }] } },
  });
  // Each pod serves its hostname on :9000 and keeps dialling the other by its DNS name until it answers.
  const script = (peer: string): string => `
    const net = require('net');
    const me = require('os').hostname();
    // (a tcpSocket probe closes at once, which resets the connection: ignore socket errors)
    net.createServer((s) => { s.on('error', () => {}); s.end(process.env.HOSTNAME); }).listen(9000);
    const name = '${peer}.peers.' + process.env.NS + '.svc.cluster.local';
    const dial = () => {
      const c = net.connect(9000, name);
      let got = '';
      c.on('data', (d) => (got += d));
      c.on('end', () => { console.log('reached ' + name + ' answer=' + got); });
      c.on('error', (e) => { console.log('retry ' + e.code); setTimeout(dial, 500); });
    };
    void me;
    dial();`;
  for (const [self, peer] of [['a', 'b'], ['b', 'a']] as const) {
    await client.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: `peer-${self}`, labels: { app: 'peer' } },
        spec: {
          hostname: self,
          subdomain: 'peers',
          containers: [
            nodeContainer('peer', script(peer), {
              env: [{ name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
              readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 },
            }),
          ],
        },
      },
    });
  }
  for (const [self, peer] of [['a', 'b'], ['b', 'a']] as const) {
    await waitFor(`peer-${self} reaching ${peer}`, () => client.podLogs(namespace, `peer-${self}`).includes(`answer=${peer}`), 60_000, 200);
  }
  const a = await client.core.readNamespacedPod({ name: 'peer-a', namespace });
  assert.ok(isReady(a));
});

cluster.test('a Job whose pod exits 1 is retried per its backoffLimit, with restart counts visible', async ({ client, namespace }) => {
  let maxRestarts = 0;
  const watcher = await watchPods(client, namespace, (pod) => {
    maxRestarts = Math.max(maxRestarts, pod.status?.containerStatuses?.[0]?.restartCount ?? 0);
  });
  try {
    await client.batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'fails' },
        spec: {
          backoffLimit: 2,
          template: {
            spec: {
              restartPolicy: 'OnFailure',
              containers: [nodeContainer('fail', `console.log('attempt'); process.exit(1)`)],
            },
          },
        },
      },
    });
    const job = await waitFor('Job fails to fail', async () => {
      const j = await client.batch.readNamespacedJob({ name: 'fails', namespace });
      return j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
    }, 60_000, 200);
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'BackoffLimitExceeded');
    assert.ok(maxRestarts >= 2, `restart count reached ${maxRestarts}, expected the backoffLimit 2`);
  } finally {
    watcher.stop();
  }
});

cluster.test('a pod gets env, volumes, a working dir and a service-account token as a kubelet would', async ({ client, namespace }) => {
  await client.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } } });
  await client.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'conf' }, data: { mode: 'fast', 'app.yaml': 'a: 1\n' } } });
  await client.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: { metadata: { name: 'shared' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } },
  });
  const script = `
    const fs = require('fs');
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    const out = {
      cwd: process.cwd(), pod: process.env.POD, ns: process.env.NS, ip: process.env.IP, node: process.env.NODE,
      password: process.env.PASSWORD, mode: process.env.MODE, file: fs.readFileSync('/etc/app/app.yaml', 'utf8'),
      secretFile: fs.readFileSync('/etc/creds/password', 'utf8'), saNamespace: fs.readFileSync(sa + '/namespace', 'utf8'),
    };
    fs.writeFileSync('/shared/' + process.env.POD, 'hello');
    const req = require('https').request({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
      path: '/api/v1/namespaces/' + process.env.NS + '/pods', ca: fs.readFileSync(sa + '/ca.crt'),
      headers: { authorization: 'Bearer ' + fs.readFileSync(sa + '/token', 'utf8') } }, (res) => {
      let body = ''; res.on('data', (d) => (body += d));
      res.on('end', () => { out.api = res.statusCode + ' ' + JSON.parse(body).message; console.log('RESULT ' + JSON.stringify(out)); });
    });
    req.on('error', (e) => console.log('RESULT ' + JSON.stringify({ ...out, api: e.message })));
    req.end();`;
  const pod = (name: string) => ({
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      containers: [
        nodeContainer('main', script, {
          workingDir: '/tmp',
          env: [
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'conf', key: 'mode' } } },
          ],
          volumeMounts: [
            { name: 'app', mountPath: '/etc/app' },
            { name: 'creds', mountPath: '/etc/creds', readOnly: true },
            { name: 'shared', mountPath: '/shared' },
          ],
        }),
      ],
      volumes: [
        { name: 'app', configMap: { name: 'conf' } },
        { name: 'creds', secret: { secretName: 'creds' } },
        { name: 'shared', persistentVolumeClaim: { claimName: 'shared' } },
      ],
    },
  });
  await client.core.createNamespacedPod({ namespace, body: pod('one') });
  await client.core.createNamespacedPod({ namespace, body: pod('two') });
  for (const name of ['one', 'two']) {
    const done = await waitForPod(client, namespace, name, 'Succeeded', (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
    assert.equal(done.status?.phase, 'Succeeded', client.podLogs(namespace, name));
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    const line = client.podLogs(namespace, name).split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, client.podLogs(namespace, name));
    const out = JSON.parse(line.slice('RESULT '.length)) as Record<string, string>;
    assert.deepEqual(
      { cwd: out.cwd, pod: out.pod, ns: out.ns, ip: out.ip, node: out.node, password: out.password, mode: out.mode, file: out.file, secretFile: out.secretFile, saNamespace: out.saNamespace },
      { cwd: '/tmp', pod: name, ns: namespace, ip: done.status?.podIP, node: done.spec?.nodeName, password: 's3cret', mode: 'fast', file: 'a: 1\n', secretFile: 's3cret', saNamespace: namespace },
    );
    // The token is real: the API server knows the pod's ServiceAccount, and RBAC denies it.
    assert.match(out.api ?? '', new RegExp(`^403 .*system:serviceaccount:${namespace}:default`));
  }
  // Both pods wrote into the same claim's directory.
  const pvc = await client.core.readNamespacedPersistentVolumeClaim({ name: 'shared', namespace });
  const pv = await client.core.readPersistentVolume({ name: pvc.spec?.volumeName ?? '' });
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(pv.spec?.hostPath?.path ?? '').sort(), ['one', 'two']);
});

cluster.test('helm installs a chart and --wait sees its Deployment become ready', async ({ client, namespace }) => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { execFile } = await import('node:child_process');
  const chart = mkdtempSync(join(tmpdir(), 'pipetrain-chart-'));
  try {
    mkdirSync(join(chart, 'templates'));
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.1.0\nkubeVersion: ">=1.35.0-0"\n');
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: '{{ .Release.Name }}' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'demo' } },
        template: {
          metadata: { labels: { app: 'demo' } },
          spec: { containers: [nodeContainer('demo', httpServerScript(8080), { readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } })] },
        },
      },
    };
    writeFileSync(join(chart, 'templates', 'deployment.yaml'), JSON.stringify(deployment));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        join(client.state.binDir, 'helm'),
        ['install', 'demo', chart, '--namespace', namespace, '--wait', '--timeout', '60s'],
        { env: { ...process.env, KUBECONFIG: client.state.kubeconfig, HELM_CACHE_HOME: join(chart, '.cache'), HELM_CONFIG_HOME: join(chart, '.config'), HELM_DATA_HOME: join(chart, '.data') } },
        (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
      );
    });
    assert.match(out, /STATUS: deployed/);
    const d = await client.apps.readNamespacedDeployment({ name: 'demo', namespace });
    assert.equal(d.status?.readyReplicas, 1);
  } finally {
    rmSync(chart, { recursive: true, force: true });
  }
});

cluster.test('a container without command runs the image ENTRYPOINT with its args or the image CMD', async ({ client, namespace }) => {
  const pod = (name: string, args?: string[]) => ({
    metadata: { name },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example.test/echo:1.0', args }] },
  });
  await client.core.createNamespacedPod({ namespace, body: pod('with-cmd') });
  await client.core.createNamespacedPod({ namespace, body: pod('with-args', ['x', 'y']) });
  for (const [name, expected] of [['with-cmd', 'argv: default'], ['with-args', 'argv: x y']] as const) {
    const done = await waitForPod(client, namespace, name, 'finished', (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
    assert.equal(done.status?.phase, 'Succeeded');
    assert.equal(client.podLogs(namespace, name).trim(), expected);
  }
});
