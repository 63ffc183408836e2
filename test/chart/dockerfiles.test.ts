// The container images, checked without a Docker engine: every COPY source exists in the build context
// (and is not excluded by .dockerignore), the entry script exists, the images run as non-root, and the
// GPU image matches tfjs-node-gpu's CUDA 11.2 / cuDNN 8.1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_STAGE_COMMAND } from '../../trainer/src/contract/index.ts';
import { registerOperator } from '../../operator/operator-command.ts';
import { buildProgram } from '../../trainer/src/cli/main.ts';
import { REPO_ROOT } from './helm.ts';

const DOCKERFILES = ['operator/Dockerfile', 'trainer/Dockerfile', 'trainer/Dockerfile.gpu'];

interface Instruction { op: string; args: string }
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => { const i = l.indexOf(' '); return { op: l.slice(0, i).toUpperCase(), args: l.slice(i + 1).trim() }; });
}
/** Repository paths a Dockerfile copies into /app (WORKDIR), as `source → destination`. */
function copiedPaths(instructions: Instruction[]): { source: string; dest: string }[] {
  return instructions
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = (parts.at(-1) ?? '').replace(/^\/app\//, '').replace(/^\.\/?/, '').replace(/\/$/, '');
      return parts.slice(0, -1).map((source) => ({ source: source.replace(/\/$/, ''), dest: dest === '' ? source.replace(/\/$/, '') : dest }));
    });
}
/** True when `/app/<path>` comes from a COPY of the repository's `<path>` (or a folder holding it). */
const copiedFromRepo = (instructions: Instruction[], path: string): boolean =>
  copiedPaths(instructions).some(({ source, dest }) => source === dest && (path === dest || path.startsWith(`${dest}/`)));

const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

for (const file of DOCKERFILES) {
  test(`${file}: COPY sources exist and are in the build context; entry script exists; non-root`, () => {
    const instructions = parseDockerfile(readFileSync(join(REPO_ROOT, file), 'utf8'));
    const stages = instructions.filter((i) => i.op === 'FROM');
    assert.ok(stages.length >= 2, 'multi-stage');
    const copies = instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='));
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        assert.ok(existsSync(join(REPO_ROOT, source)), `${file}: COPY source ${source} exists`);
        assert.ok(!ignored.includes(source.split('/')[0] ?? ''), `${file}: ${source} is not excluded by .dockerignore`);
      }
    }
    const entry = instructions.find((i) => i.op === 'ENTRYPOINT');
    assert.ok(entry);
    const argv = JSON.parse(entry.args) as string[];
    assert.equal(argv[0], 'node');
    const script = argv[1]?.replace(/^\/app\//, '') ?? '';
    assert.ok(existsSync(join(REPO_ROOT, script)), `entry script ${script} exists`);
    assert.ok(copiedFromRepo(instructions, script), `${script} is copied into /app`);
    const user = instructions.filter((i) => i.op === 'USER').at(-1);
    assert.ok(user && !/^(0|root)\b/.test(user.args), 'runs as non-root');
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    assert.match(runs, /npm ci --omit=dev/, 'only production dependencies');
    if (file.endsWith('.gpu')) {
      assert.match(stages.map((s) => s.args).join('\n'), /nvidia\/cuda:11\.2\.\d+-cudnn8-runtime/);
      assert.match(runs, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
    } else {
      assert.match(stages[stages.length - 1]?.args ?? '', /^node:24-bookworm-slim/);
    }
  });
}

test('the stage command the operator uses exists in the stage image layout', () => {
  const [node, script, subcommand] = DEFAULT_STAGE_COMMAND;
  assert.equal(node, 'node');
  assert.ok(script?.startsWith('/app/'), script);
  const path = (script ?? '').replace(/^\/app\//, '');
  assert.ok(existsSync(join(REPO_ROOT, path)), `${path} exists`);
  for (const file of ['trainer/Dockerfile', 'trainer/Dockerfile.gpu']) {
    assert.ok(copiedFromRepo(parseDockerfile(readFileSync(join(REPO_ROOT, file), 'utf8')), path), `${file} copies ${path}`);
  }
  // The subcommands the images run are registered by the CLI.
  const commands = buildProgram().commands.map((c) => c.name());
  assert.ok(commands.includes(subcommand ?? ''), `${subcommand} in ${commands.join(', ')}`);
  assert.ok(!commands.includes('operator'), 'the stage CLI has no operator in it');
  assert.ok(buildProgram([registerOperator]).commands.some((c) => c.name() === 'operator'), "the operator's CLI adds it");
});
