// Template tests of charts/pipetrain: render it with `helm template` (default values, every optional
// part on, a namespace-scoped install) and check the objects; `helm lint --strict`; the values schema.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ALL_ON_VALUES, CHART_DIR, REPO_ROOT, helm, kinds, one, render, type K8sObject } from './helm.ts';

const RULES_FILE = join(CHART_DIR, 'files/operator-rbac-rules.yaml');
const MONITORING_APIS = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/PrometheusRule'];

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const fileRules = (): Rule[] => parse(readFileSync(RULES_FILE, 'utf8')) as Rule[];

interface Container {
  name: string;
  image: string;
  args: string[];
  env: Array<{ name: string }>;
  ports: Array<{ name: string; containerPort: number }>;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: Record<string, unknown>;
  volumeMounts: Array<{ mountPath: string }>;
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
}
const podSpecOf = (d: K8sObject) => (d.spec as { template: { spec: PodSpec; metadata: { labels: Record<string, string> } } }).template;

function assertStandardLabels(o: K8sObject): void {
  const labels = o.metadata.labels ?? {};
  for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'helm.sh/chart']) {
    assert.ok(labels[key], `${o.kind}/${o.metadata.name} lacks label ${key}`);
  }
  assert.equal(labels['app.kubernetes.io/instance'], 'pt');
  assert.equal(labels['app.kubernetes.io/managed-by'], 'Helm');
  assert.match(labels['helm.sh/chart'] ?? '', /^pipetrain-\d+\.\d+\.\d+/);
}

test('helm lint --strict passes with default values and with every optional part on', async () => {
  await helm(['lint', '--strict', CHART_DIR]);
  await helm(['lint', '--strict', CHART_DIR, '--values', ALL_ON_VALUES]);
});

test('the chart ships the generated CRD unchanged (`npm run generate:crd` writes both)', () => {
  const generated = readFileSync(join(REPO_ROOT, 'crds/pipetrain.io_pipelinejobs.yaml'), 'utf8');
  const shipped = readFileSync(join(CHART_DIR, 'crds/pipetrain.io_pipelinejobs.yaml'), 'utf8');
  assert.ok(shipped === generated, 'charts/pipetrain/crds/pipetrain.io_pipelinejobs.yaml is stale: run `npm run generate:crd`');
  assert.deepEqual(readdirSync(join(CHART_DIR, 'crds')), ['pipetrain.io_pipelinejobs.yaml']);
});

test('default values render the operator, its ServiceAccount, RBAC and metrics Service, and nothing optional', async () => {
  const objects = await render();
  assert.deepEqual(kinds(objects), ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'Lease', 'Service', 'ServiceAccount']);
  for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition')) assertStandardLabels(o);

  const deployment = one(objects, 'Deployment');
  assert.equal(deployment.metadata.namespace, 'pipetrain-system');
  const template = podSpecOf(deployment);
  const spec = (deployment.spec as { replicas: number; selector: { matchLabels: Record<string, string> } });
  assert.equal(spec.replicas, 1);
  // Selectors use only stable labels, and the pod template carries them.
  assert.deepEqual(Object.keys(spec.selector.matchLabels).sort(), ['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
  for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(template.metadata.labels[k], v);

  const pod = template.spec;
  assert.equal(pod.serviceAccountName, one(objects, 'ServiceAccount').metadata.name);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  const [container] = pod.containers;
  assert.ok(container);
  assert.equal(container.image, 'ghcr.io/pipetrain/pipetrain-operator:0.1.0');
  assert.deepEqual(container.securityContext, {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  });
  assert.ok(container.resources.requests?.cpu && container.resources.requests.memory, 'resource requests');
  assert.ok(container.resources.limits?.cpu && container.resources.limits.memory, 'resource limits');
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.deepEqual(container.ports, [{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
  assert.ok(container.volumeMounts.some((m) => m.mountPath === '/tmp'), 'a writable /tmp for the read-only root');
  assert.deepEqual(container.args, [
    'operator',
    '--metrics-address=:8080',
    '--workers=4',
    '--log-format=json',
    '--leader-elect',
    '--lease-namespace=pipetrain-system',
    '--stage-image=ghcr.io/pipetrain/pipetrain:0.1.0',
  ]);
  assert.ok(container.env.some((e) => e.name === 'POD_NAMESPACE'));

  // The ClusterRole holds exactly the operator's rules file, bound to the ServiceAccount.
  assert.deepEqual(one(objects, 'ClusterRole').rules, fileRules());
  const binding = one(objects, 'ClusterRoleBinding') as K8sObject & { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> };
  assert.equal(binding.roleRef.name, one(objects, 'ClusterRole').metadata.name);
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: one(objects, 'ServiceAccount').metadata.name, namespace: 'pipetrain-system' }]);

  const service = one(objects, 'Service') as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> } };
  assert.deepEqual(service.spec.selector, spec.selector.matchLabels);
  assert.equal(service.spec.ports[0]?.targetPort, 'metrics');
});

test('every optional part on: monitors, rules, dashboards and NetworkPolicies with the extra labels', async () => {
  const objects = await render({ values: [ALL_ON_VALUES] });
  assert.deepEqual(kinds(objects), [
    'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'CustomResourceDefinition', 'Deployment',
    'Lease', 'NetworkPolicy', 'NetworkPolicy', 'PodMonitor', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor',
  ]);
  for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition')) assertStandardLabels(o);
  for (const o of objects.filter((x) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'ConfigMap'].includes(x.kind))) {
    assert.equal(o.metadata.labels?.release, 'kube-prometheus-stack', `${o.kind} carries monitoring.labels`);
  }
  assert.equal(one(objects, 'ServiceMonitor').metadata.labels?.team, 'ml');
  assert.equal((one(objects, 'Deployment').spec as { replicas: number }).replicas, 2);

  const serviceMonitor = one(objects, 'ServiceMonitor').spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
  const service = one(objects, 'Service') as K8sObject & { spec: { selector: Record<string, string> } };
  assert.deepEqual(serviceMonitor.selector.matchLabels, service.spec.selector);
  for (const [k, v] of Object.entries(serviceMonitor.selector.matchLabels)) assert.equal(service.metadata.labels?.[k], v, `Service label ${k}`);
  assert.equal(serviceMonitor.endpoints[0]?.port, 'metrics');
  assert.equal((serviceMonitor.endpoints[0] as { honorLabels?: boolean } | undefined)?.honorLabels, true, 'keeps the PipelineJob labels of the per-job series');

  const podMonitor = one(objects, 'PodMonitor').spec as { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; honorLabels: boolean }>; namespaceSelector: unknown };
  assert.deepEqual(podMonitor.selector.matchLabels, { 'app.kubernetes.io/name': 'pipetrain', 'app.kubernetes.io/managed-by': 'pipetrain-operator', 'app.kubernetes.io/component': 'stage' });
  assert.equal(podMonitor.podMetricsEndpoints[0]?.port, 'metrics');
  assert.equal(podMonitor.podMetricsEndpoints[0]?.honorLabels, true, 'keeps the PipelineJob name in the job label');
  assert.deepEqual(podMonitor.namespaceSelector, { any: true });

  // The PrometheusRule is files/alerts.yaml with the runbook URL filled in.
  const alerts = parse(readFileSync(join(CHART_DIR, 'files/alerts.yaml'), 'utf8').replaceAll('RUNBOOK_URL', 'https://example.com/runbook')) as object;
  assert.deepEqual(one(objects, 'PrometheusRule').spec, alerts);

  // One ConfigMap per dashboard, carrying the sidecar label and the JSON file unchanged.
  const dashboardFiles = readdirSync(join(CHART_DIR, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
  assert.equal(dashboardFiles.length, 3);
  const configMaps = objects.filter((o) => o.kind === 'ConfigMap') as Array<K8sObject & { data: Record<string, string> }>;
  for (const file of dashboardFiles) {
    const cm = configMaps.find((c) => c.data[file] !== undefined);
    assert.ok(cm, `a ConfigMap holds ${file}`);
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    assert.equal(cm.metadata.annotations?.grafana_folder, 'pipetrain');
    assert.deepEqual(JSON.parse(cm.data[file] ?? ''), JSON.parse(readFileSync(join(CHART_DIR, 'dashboards', file), 'utf8')));
  }

  // NetworkPolicies in each job namespace: links only from stage pods, metrics from the operator and Prometheus.
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  assert.deepEqual(policies.map((p) => p.metadata.namespace).sort(), ['research', 'training']);
  type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: { matchLabels?: Record<string, string> } };
  const policy = policies[0]?.spec as { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ from: Peer[]; ports: Array<{ port: string }> }> };
  assert.deepEqual(policy.policyTypes, ['Ingress']);
  assert.equal(policy.podSelector.matchLabels['app.kubernetes.io/component'], 'stage');
  const [links, metrics] = policy.ingress;
  assert.deepEqual(links?.ports.map((p) => p.port), ['link']);
  assert.deepEqual(links?.from, [{ podSelector: { matchLabels: policy.podSelector.matchLabels } }]);
  assert.deepEqual(metrics?.ports.map((p) => p.port), ['metrics']);
  assert.deepEqual(metrics?.from[0]?.podSelector?.matchLabels, (one(objects, 'Deployment').spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
  assert.deepEqual(metrics?.from[0]?.namespaceSelector?.matchLabels, { 'kubernetes.io/metadata.name': 'pipetrain-system' });
  assert.deepEqual(metrics?.from[1], { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } });
});

test('a namespace-scoped install splits the same rules into a Role, a ClusterRole for nodes and a read-only Role for node Leases', async () => {
  const objects = await render({ set: ['operator.watchNamespace=ml'] });
  const role = one(objects, 'Role', 'pt-pipetrain-operator') as K8sObject & { rules: Rule[] };
  const cluster = one(objects, 'ClusterRole') as K8sObject & { rules: Rule[] };
  const nodeLeases = one(objects, 'Role', 'pt-pipetrain-operator-node-leases') as K8sObject & { rules: Rule[] };
  assert.equal(role.metadata.namespace, 'ml');
  assert.equal(nodeLeases.metadata.namespace, 'kube-node-lease');
  // Role + ClusterRole together are exactly the rules file, in order.
  const isNodes = (r: Rule) => r.resources.includes('nodes');
  assert.deepEqual(role.rules, fileRules().filter((r) => !isNodes(r)));
  assert.deepEqual(cluster.rules, fileRules().filter(isNodes));
  for (const rule of nodeLeases.rules) {
    assert.deepEqual(rule.resources, ['leases']);
    for (const verb of rule.verbs) assert.ok(['get', 'list', 'watch'].includes(verb), `kube-node-lease grants only reads, not ${verb}`);
  }
  assert.equal(objects.filter((o) => o.kind === 'RoleBinding').length, 2);
  assert.equal(objects.filter((o) => o.kind === 'ClusterRoleBinding').length, 1);
  const args = podSpecOf(one(objects, 'Deployment')).spec.containers[0]?.args ?? [];
  assert.ok(args.includes('--namespace=ml'));
  assert.ok(!args.some((a) => a.startsWith('--lease-namespace')), 'the leader Lease lives in the watched namespace');
});

test('the values schema rejects unknown keys and wrong types', async () => {
  // Helm's own schema messages (the error also echoes the command line, so match more than the key).
  await assert.rejects(render({ set: ['operator.replica=2'] }), /at '\/operator': additional properties 'replica' not allowed/);
  await assert.rejects(render({ set: ['typo=1'] }), /at '': additional properties 'typo' not allowed/);
  await assert.rejects(render({ set: ['operator.replicas=two'] }), /at '\/operator\/replicas': got string, want integer/);
  await assert.rejects(render({ set: ['serviceMonitor.enabled=yes'] }), /at '\/serviceMonitor\/enabled': got string, want boolean/);
  await assert.rejects(render({ set: ['image.pullPolicy=Sometimes'] }), /at '\/image\/pullPolicy': value must be one of/);
});

test('monitoring objects need the monitoring.coreos.com API unless apiCheck is off; replicas > 1 need leader election', async () => {
  await assert.rejects(render({ set: ['serviceMonitor.enabled=true'] }), /does not serve monitoring\.coreos\.com\/v1\/ServiceMonitor/);
  await assert.rejects(render({ set: ['prometheusRule.enabled=true'] }), /PrometheusRule/);
  const objects = await render({ set: ['serviceMonitor.enabled=true', 'podMonitor.enabled=true', 'prometheusRule.enabled=true'], apiVersions: MONITORING_APIS });
  assert.deepEqual(objects.filter((o) => o.apiVersion === 'monitoring.coreos.com/v1').map((o) => o.kind).sort(), ['PodMonitor', 'PrometheusRule', 'ServiceMonitor']);
  await assert.rejects(render({ set: ['operator.replicas=2', 'operator.leaderElection=false'] }), /leaderElection/);
});

test('values.yaml has a comment above every value', () => {
  const lines = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8').split('\n');
  const missing: string[] = [];
  const parents: Array<{ indent: number; key: string }> = [];
  lines.forEach((line, i) => {
    const match = /^(\s*)([\w.-]+):/.exec(line);
    if (!match) return;
    const indent = match[1]?.length ?? 0;
    while (parents.length > 0 && (parents.at(-1)?.indent ?? 0) >= indent) parents.pop();
    const insideDefault = parents.some((p) => p.key === 'resources');
    parents.push({ indent, key: match[2] ?? '' });
    if (insideDefault) return; // the default value of `resources` is one documented map
    const previous = lines[i - 1]?.trim() ?? '';
    if (!previous.startsWith('#')) missing.push(`${i + 1}: ${line.trim()}`);
  });
  assert.deepEqual(missing, [], 'values without a comment line above them');
  // And the schema knows every top-level key of values.yaml.
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
  const values = parse(lines.join('\n')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(values).sort(), Object.keys(schema.properties).sort());
});

test('the release owns the leader Lease the operator elects with, so helm uninstall deletes it', async () => {
  const lease = one(await render(), 'Lease');
  assert.equal(lease.metadata.name, 'pipetrain-operator', 'the name operator/main.ts elects with');
  const args = (podSpecOf(one(await render(), 'Deployment')).spec.containers[0] as { args: string[] }).args;
  assert.ok(args.includes(`--lease-namespace=${lease.metadata.namespace}`), args.join(' '));
  const scoped = one(await render({ set: ['operator.watchNamespace=team-a'] }), 'Lease');
  assert.equal(scoped.metadata.namespace, 'team-a', 'a namespace-scoped operator keeps its Lease in the watched namespace');
  assert.deepEqual(kinds(await render({ set: ['operator.leaderElection=false'] })).filter((k) => k === 'Lease'), []);
});

test('NOTES.txt tells the user what to do next', () => {
  // `helm install --dry-run` needs a reachable cluster to print NOTES, so the template itself is checked.
  const notes = readFileSync(join(CHART_DIR, 'templates/NOTES.txt'), 'utf8');
  assert.match(notes, /rollout status deployment\/\{\{ include "pipetrain.fullname" \. \}\}-operator/);
  assert.match(notes, /kubectl get pj -w/);
  assert.match(notes, /port-forward service\/\{\{ include "pipetrain.fullname" \. \}\}-metrics/);
  assert.match(notes, /kubectl apply --server-side/, 'how to upgrade the CRD');
  assert.match(notes, /jsonpath='\{\.items\[0\]\.status\.podIP\}'\):\{\{ \.Values\.operator\.metricsPort \}\}\/metrics/, 'how to reach metrics without port-forward (the test cluster)');
});
