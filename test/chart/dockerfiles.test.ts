// The one Dockerfile, checked without building it (test/images/container.test.ts runs the built images):
// every COPY source exists in the build context and is not left out by .dockerignore, each target's
// entry script is copied into /app, the targets run as non-root, and the stage command the operator
// uses is what the stage image has.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_STAGE_COMMAND } from '../../trainer/src/contract/index.ts';
import { registerOperator } from '../../operator/operator-command.ts';
import { buildProgram } from '../../trainer/src/cli/main.ts';
import { copiesOf, readStages, stageClosure, type Stage } from '../images/dockerfile.ts';
import { isIgnored, parseDockerignore } from '../images/dockerignore.ts';
import { TARGETS } from '../images/targets.ts';
import { REPO_ROOT } from './helm.ts';

const stages = readStages(REPO_ROOT);
const rules = parseDockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));

/** The last value of an instruction across a target's FROM chain (ENTRYPOINT, USER, ...). */
function lastOf(closure: readonly Stage[], op: string): string | undefined {
  return closure.flatMap((s) => s.instructions.filter((i) => i.op === op).map((i) => i.args)).at(-1);
}

/** True when the target copies the repository's `path` (or a folder holding it) to the same place under /app. */
function copiesFromRepo(closure: readonly Stage[], path: string): boolean {
  return closure.some((s) => copiesOf(s).some((c) => !c.fromStage && c.sources.some((source) => {
    const clean = source.replace(/\/$/, '');
    return (path === clean || path.startsWith(`${clean}/`)) && c.dest.replace(/^\.\//, '').replace(/\/$/, '') === clean;
  })));
}

for (const target of TARGETS) {
  test(`Dockerfile target ${target}: COPY sources exist in the build context; entry script copied; non-root`, () => {
    const closure = stageClosure(stages, target);
    for (const copy of closure.flatMap(copiesOf).filter((c) => !c.fromStage)) {
      for (const source of copy.sources) {
        assert.ok(existsSync(join(REPO_ROOT, source)), `COPY source ${source} exists`);
        assert.equal(isIgnored(rules, source.replace(/\/$/, '')), false, `${source} is in the build context`);
      }
    }
    const argv = JSON.parse(lastOf(closure, 'ENTRYPOINT') ?? '[]') as string[];
    assert.equal(argv[0], 'node');
    const script = argv[1]?.replace(/^\/app\//, '') ?? '';
    assert.ok(existsSync(join(REPO_ROOT, script)), `entry script ${script} exists`);
    assert.ok(copiesFromRepo(closure, script), `${script} is copied into /app`);
    assert.doesNotMatch(lastOf(closure, 'USER') ?? 'root', /^(0|root)\b/, 'runs as non-root');
    assert.match(closure.flatMap((s) => s.instructions).filter((i) => i.op === 'RUN').map((i) => i.args).join('\n'), /npm ci --omit=dev/);
  });
}

test('the stage command the operator uses exists in the stage images', () => {
  const [node, script, subcommand] = DEFAULT_STAGE_COMMAND;
  assert.equal(node, 'node');
  assert.ok(script?.startsWith('/app/'), script);
  const path = (script ?? '').replace(/^\/app\//, '');
  for (const target of ['stage', 'stage-gpu']) assert.ok(copiesFromRepo(stageClosure(stages, target), path), `${target} copies ${path}`);
  // The subcommands the images run are registered by the CLI.
  const commands = buildProgram().commands.map((c) => c.name());
  assert.ok(commands.includes(subcommand ?? ''), `${subcommand} in ${commands.join(', ')}`);
  assert.ok(!commands.includes('operator'), 'the stage CLI has no operator in it');
  assert.ok(buildProgram([registerOperator]).commands.some((c) => c.name() === 'operator'), "the operator's CLI adds it");
});
