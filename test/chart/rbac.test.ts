// The RBAC rules on a real API server: the operator's service account can do what the operator
// needs and nothing more sensitive (kubectl auth can-i --as=system:serviceaccount:<ns>:<sa>).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useCluster } from '../cluster/harness.ts';
import { installCrd } from '../e2e/operator/helpers.ts';
import { operatorClusterRole, operatorRules } from '../support/rbac.ts';

test('the rules file is a list of PolicyRules with no wildcards', () => {
  const rules = operatorRules();
  assert.ok(rules.length > 0);
  for (const rule of rules) {
    assert.ok(rule.verbs.length > 0);
    assert.ok(!rule.verbs.includes('*') && !(rule.resources ?? []).includes('*') && !(rule.apiGroups ?? []).includes('*'), JSON.stringify(rule));
  }
});

const cluster = useCluster({ nodes: 1 });

const allowed = [
  'list pipelinejobs.pipetrain.io', 'watch pipelinejobs.pipetrain.io', 'get pipelinejobs.pipetrain.io', 'delete pipelinejobs.pipetrain.io',
  'update pipelinejobs.pipetrain.io --subresource=status',
  'list pods', 'watch pods', 'create pods', 'delete pods',
  'create services', 'create secrets', 'create persistentvolumeclaims', 'create events',
  'list nodes', 'watch nodes',
  'list leases.coordination.k8s.io -n kube-node-lease', 'watch leases.coordination.k8s.io -n kube-node-lease',
  'get leases.coordination.k8s.io', 'create leases.coordination.k8s.io', 'update leases.coordination.k8s.io',
];
const denied = [
  // Secrets: create only (the job token); never read anyone's.
  'get secrets', 'list secrets', 'watch secrets', 'delete secrets',
  'create pods --subresource=exec', 'get pods --subresource=log', 'create pods --subresource=eviction', 'update pods', 'patch pods',
  'update pipelinejobs.pipetrain.io', 'create pipelinejobs.pipetrain.io', 'patch pipelinejobs.pipetrain.io',
  'update nodes', 'delete nodes', 'patch nodes --subresource=status',
  'create clusterroles.rbac.authorization.k8s.io', 'create rolebindings.rbac.authorization.k8s.io', 'create serviceaccounts --subresource=token',
  'create customresourcedefinitions.apiextensions.k8s.io', 'get configmaps', 'delete services', 'delete persistentvolumeclaims',
];

cluster.test('kubectl auth can-i: the operator can do what it needs and nothing more sensitive', async ({ client, namespace }) => {
  await installCrd(client);
  const role = operatorClusterRole(`pipetrain-operator-${namespace}`);
  await client.kubectl(['apply', '-f', '-'], JSON.stringify(role));
  await client.kubectl(['create', 'serviceaccount', 'operator', '-n', namespace]);
  await client.kubectl(['create', 'clusterrolebinding', role.metadata?.name ?? '', `--clusterrole=${role.metadata?.name}`, `--serviceaccount=${namespace}:operator`]);
  const as = `--as=system:serviceaccount:${namespace}:operator`;
  const canI = async (check: string): Promise<boolean> => {
    const args = ['auth', 'can-i', ...check.split(' '), as];
    const clusterScoped = /^\S+ (nodes|clusterroles|customresourcedefinitions)\b/.test(check);
    if (!check.includes(' -n ') && !clusterScoped) args.push('-n', namespace);
    return client.kubectl(args).then(
      (out) => out.trim() === 'yes',
      // "no" exits 1 with an empty stderr (ClusterClient then reports "Command failed") or only a
      // warning (cluster-scoped resource); anything else is a real error.
      (error: Error) => (/: (Command failed|Warning: resource '\w+' is not namespace scoped)/.test(error.message) ? false : Promise.reject(error)),
    );
  };
  try {
    for (const check of allowed) assert.equal(await canI(check), true, `the operator must be able to: ${check}`);
    for (const check of denied) assert.equal(await canI(check), false, `the operator must not be able to: ${check}`);
  } finally {
    await client.kubectl(['delete', 'clusterrolebinding,clusterrole', role.metadata?.name ?? '', '--ignore-not-found']);
  }
});
