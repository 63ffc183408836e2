// The container images, checked without a Docker engine: every COPY source exists in the build context
// (and is not excluded by .dockerignore), the entry script exists, the images run as non-root, and the
// GPU image matches tfjs-node-gpu's CUDA 11.2 / cuDNN 8.1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './helm.ts';

const DOCKERFILES = ['operator/Dockerfile', 'trainer/Dockerfile', 'trainer/Dockerfile.gpu'];

interface Instruction { op: string; args: string }
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => { const i = l.indexOf(' '); return { op: l.slice(0, i).toUpperCase(), args: l.slice(i + 1).trim() }; });
}
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
    assert.ok(copies.some((c) => script.startsWith(c.args.split(/\s+/).at(-1)?.replace(/^\.\//, '') ?? '#')), `${script} is copied into /app`);
    const user = instructions.filter((i) => i.op === 'USER').at(-1);
    assert.ok(user && !/^(0|root)\b/.test(user.args), 'runs as non-root');
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    assert.match(runs, /npm ci --omit=dev/, 'only production dependencies');
    if (file.endsWith('.gpu')) {
      assert.match(stages.map((s) => s.args).join('\n'), /nvidia\/cuda:11\.2\.\d+-cudnn8-runtime/);
      assert.match(runs, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
    } else {
      assert.match(stages[stages.length - 1]?.args ?? '', /^node:20-bookworm-slim/);
    }
  });
}

test('the stage command the operator uses exists in the stage image layout', () => {
  const constants = readFileSync(join(REPO_ROOT, 'operator/constants.ts'), 'utf8');
  assert.match(constants, /DEFAULT_STAGE_COMMAND = \['node', '\/app\/trainer\/bin\/pipetrain\.js', 'stage'\]/);
  assert.ok(existsSync(join(REPO_ROOT, 'trainer/bin/pipetrain.js')));
  // The `stage` and `operator` subcommands are registered by the CLI the images run.
  const cli = readFileSync(join(REPO_ROOT, 'trainer/src/cli/main.ts'), 'utf8');
  assert.match(cli, /registerOperator/);
  assert.match(cli, /[Ss]tage/);
});
