// Every broken job of `pipetrain validate`'s table (test/support/broken-jobs.ts) goes through
// `kubectl apply --dry-run=server` on the test cluster: the API server (schema and CEL rules of the
// generated CRD) refuses each one and names the same field as `validate`, except the jobs whose
// check needs shape inference (listed in docs/api.md, OPERATOR_ONLY_CHECKS in crd-rules.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCluster } from '../../cluster/harness.ts';
import { broken } from '../../support/broken-jobs.ts';
import { GPT_JOB, gptYaml } from '../../support/spec-jobs.ts';
import { OPERATOR_ONLY_CHECKS } from '../../../trainer/src/api/crd-rules.ts';
import { installCrd } from './helpers.ts';

const cluster = useCluster({ nodes: 1 });

/** The broken jobs the API server admits, each with the check of OPERATOR_ONLY_CHECKS it needs. */
const NEED_SHAPE_INFERENCE: Record<string, string> = {
  'conv2d on a rank-1 input': 'a conv2d or maxPooling2d layer gets a rank-3 input',
  'kernel larger than the image': 'no layer shrinks the image to nothing',
  'crossentropy on a rank-3 output': 'a crossentropy loss gets a rank-1 output per sample',
};

/** The field `validate` names ('spec.model.layers[0].units'); a trailing list index is dropped, CEL's fieldPath cannot index. */
function fieldOf(expect: string): string | undefined {
  return /^(?:job\.yaml: )?((?:spec|metadata)\.[\w.[\]]*?)(?:\[\d+\])?:/.exec(expect)?.[1];
}

/** kubectl's discovery can lag a CRD that just became Established: that is not a refusal. */
const NOT_DISCOVERED_YET = /no matches for kind|could not find the requested resource|ensure CRDs are installed first/;

async function dryRun(apply: (args: string[], input: string) => Promise<string>, yaml: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await apply(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], yaml);
      return undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (!NOT_DISCOVERED_YET.test(message) || attempt >= 30) return message;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

cluster.test('kubectl apply --dry-run=server refuses every broken job of the validate table, naming its field, but those that need shape inference', async ({ client, namespace }) => {
  for (const check of Object.values(NEED_SHAPE_INFERENCE)) assert.ok(OPERATOR_ONLY_CHECKS.some((c) => c.check.startsWith(check)), `${check} is not listed in docs/api.md`);
  await installCrd(client);
  const apply = (args: string[], input: string) => client.kubectl(['-n', namespace, ...args], input);
  const jobs = broken.filter((job) => job.overrides === undefined);
  assert.ok(jobs.length > 30, `only ${jobs.length} broken jobs`);
  const admitted: string[] = [];
  for (const job of jobs) {
    const refusal = await dryRun(apply, job.yaml);
    if (refusal === undefined) {
      admitted.push(job.name);
      continue;
    }
    assert.ok(!(job.name in NEED_SHAPE_INFERENCE), `${job.name}: refused, so it is no longer an operator-only check: ${refusal}`);
    const field = fieldOf(job.expect);
    // A rule relating layers names its field as spec.model.layers[*].<field> (CEL cannot point at one item).
    if (field !== undefined) assert.ok(refusal.includes(field) || refusal.includes(field.replace(/\[\d+\]/g, '[*]')), `${job.name}: the refusal does not name ${field}: ${refusal}`);
  }
  assert.deepEqual(admitted, Object.keys(NEED_SHAPE_INFERENCE), 'the API server admitted these broken jobs');
});

cluster.test('kubectl apply --dry-run=server admits every example job, the GPT ones included, and a GPT widened by a dense layer', async ({ client, namespace }) => {
  await installCrd(client);
  const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
  const examples = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
  assert.ok(examples.some((file) => file.includes('gpt')), 'no GPT example');
  const apply = (args: string[], input: string) => client.kubectl(['-n', namespace, ...args], input);
  for (const file of examples) assert.equal(await dryRun(apply, readFileSync(join(dir, file), 'utf8')), undefined, `${file} was refused`);
  // Valid, though its blocks are wider than the embedding: a dense layer sets the width they see.
  const widened = GPT_JOB.spec.model.layers.flatMap((layer) => (layer.type === 'positionalEmbedding' ? [layer, { type: 'dense', units: 12 }] : [layer.type === 'transformerBlock' ? { ...layer, heads: 3 } : layer]));
  assert.equal(await dryRun(apply, gptYaml({ 'spec.model.layers': widened.map((l) => (l.type === 'lmHead' ? { type: 'lmHead' } : l)) })), undefined, 'a GPT widened by a dense layer was refused');
});
