import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALWAYS_CHANGEABLE, CHANGEABLE_WHILE_SUSPENDED, IMMUTABLE } from './crd-rules.ts';
import { buildCrd } from './crd.ts';
import { staleFiles } from './generate-crd.ts';
import { parsePipelineJobYaml } from './load.ts';
import { jobYaml } from '../../../test/support/spec-jobs.ts';

type Node = Record<string, unknown>;

const openApiSchema = (): Node => {
  const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  const version = crd.spec.versions[0];
  assert.ok(version);
  return version.schema.openAPIV3Schema;
};

/** Every schema node with its path ('.spec.model.layers[]'). */
function walk(node: Node, path = '', out: [string, Node][] = []): [string, Node][] {
  out.push([path, node]);
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) walk(child, `${path}.${key}`, out);
  if (node.items) walk(node.items as Node, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Node, `${path}{}`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf']) for (const [i, child] of ((node[key] ?? []) as Node[]).entries()) walk(child, `${path}/${key}${i}`, out);
  return out;
}

void test('the committed CRD and docs/api.md match a fresh render', () => {
  assert.deepEqual(staleFiles(), [], 'generated files are stale; run: npm run generate:crd');
});

void test('every schema node has a type or preserves unknown fields', () => {
  for (const [path, node] of walk(openApiSchema())) {
    const ok = typeof node.type === 'string' || node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;
    assert.ok(ok, `${path || '(root)'} has no type`);
  }
});

void test('every property has a description starting with its name', () => {
  for (const [path, node] of walk(openApiSchema())) {
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
      if (path === '' && key === 'metadata') continue; // must stay bare: see structural.ts
      assert.ok(typeof child.description === 'string' && child.description.startsWith(`${key}:`), `${path}.${key} lacks a description starting with "${key}:"`);
    }
  }
});

void test('no unions, const, $schema or closed objects remain', () => {
  for (const [path, node] of walk(openApiSchema())) {
    for (const key of ['anyOf', 'oneOf', 'allOf', 'not', 'const', '$schema', 'propertyNames']) assert.equal(node[key], undefined, `${path} has ${key}`);
    assert.notEqual(node.additionalProperties, false, `${path} has additionalProperties: false`);
    assert.ok(!(node.properties && node.additionalProperties), `${path} has both properties and additionalProperties`);
    if (node.type === 'array') assert.equal(node['x-kubernetes-list-type'], 'atomic', `${path} is a list without x-kubernetes-list-type`);
  }
});

void test('metadata is only typed; status is typed down to its leaves', () => {
  const properties = openApiSchema().properties as Record<string, Node>;
  assert.deepEqual(properties.metadata, { type: 'object' });
  const status = properties.status as Node;
  assert.equal(status['x-kubernetes-preserve-unknown-fields'], undefined);
  assert.ok(walk(status).every(([, node]) => node['x-kubernetes-preserve-unknown-fields'] === undefined));
  assert.deepEqual(Object.keys((status.properties as Record<string, Node>).lastFailure?.properties as Node).sort(), ['attempt', 'detectedAt', 'exitCode', 'failedAt', 'lostSteps', 'message', 'node', 'pod', 'reason', 'recoveredAt', 'stage', 'stepAtFailure', 'trainingAt']);
});

void test('CRD defaults equal the defaults the loader fills in', () => {
  const result = parsePipelineJobYaml(jobYaml({ 'spec.checkpoint': { path: '/ckpt' }, 'spec.failurePolicy': {} }), 'job.yaml');
  assert.ok(result.ok);
  let checked = 0;
  for (const [path, node] of walk(openApiSchema())) {
    // Defaults inside an optional object the base job leaves out (a tokens dataset's prepare) apply only when it is given.
    if (node.default === undefined || path.includes('[]') || path.includes('{}') || path.startsWith('.spec.data.dataset.prepare.')) continue;
    const actual: unknown = path.split('.').slice(1).reduce<unknown>((value, key) => (value as Node | undefined)?.[key], result.job);
    if (typeof node.default === 'object') assert.equal(typeof actual, 'object', path);
    else if (!['.spec.pipeline', '.spec.training'].some((p) => path.startsWith(p)) || actual !== undefined) assert.equal(actual, node.default, path);
    checked++;
  }
  assert.ok(checked > 20, `only ${checked} defaults checked`);
});

void test('every spec field has an update rule: immutable, changeable while suspended, or always changeable', () => {
  const spec = (openApiSchema().properties as Record<string, Node>).spec as Node;
  const fields = Object.entries(spec.properties as Record<string, Node>).flatMap(([key, node]) =>
    key === 'pipeline' ? Object.keys(node.properties as Node).map((child) => `pipeline.${child}`) : [key],
  );
  const classified = [...IMMUTABLE, ...CHANGEABLE_WHILE_SUSPENDED, ...ALWAYS_CHANGEABLE];
  assert.deepEqual([...fields].sort(), [...classified].sort(), 'a spec field was added or removed: decide its update rule in crd-rules.ts');
  const rules = spec['x-kubernetes-validations'] as { rule: string; message: string }[];
  for (const field of IMMUTABLE) assert.ok(rules.some((r) => r.message.startsWith(`spec.${field} is immutable`)), field);
  assert.ok(rules.every((r) => !ALWAYS_CHANGEABLE.some((field) => r.rule.includes(`self.${field}`) && field !== 'suspend')), 'no rule holds an always-changeable field');
});

void test('each layer and dataset type gets its required and allowed fields back as CEL rules on the merged node', () => {
  const spec = (openApiSchema().properties as Record<string, Node>).spec as Node;
  const rulesAt = (path: string): string[] => {
    const node = walk(spec).find(([p]) => p === path)?.[1];
    return ((node?.['x-kubernetes-validations'] ?? []) as { rule: string }[]).map((r) => r.rule);
  };
  const layer = rulesAt('.model.layers[]');
  assert.ok(layer.includes("self.type != 'dense' || has(self.units)"), layer.join('\n'));
  assert.ok(layer.includes("self.type != 'embedding' || has(self.units)"), layer.join('\n'));
  assert.ok(layer.includes("!has(self.units) || self.type == 'dense' || self.type == 'embedding'"), 'units belongs to dense and embedding only');
  assert.ok(layer.includes("self.type != 'dropout' || has(self.rate)"));
  const dataset = rulesAt('.data.dataset');
  assert.ok(dataset.includes("self.type != 'file' || has(self.path)"), dataset.join('\n'));
  assert.ok(dataset.includes("self.type != 'synthetic' || has(self.featureShape)"));
});
