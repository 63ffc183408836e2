// The Dockerfile read as data, and the facts about the repository's Dockerfile the images rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { baseImages, copiesOf, parseStages, readStages, stageClosure } from './dockerfile.ts';
import { TARGETS } from './targets.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

const SAMPLE = `# syntax=docker/dockerfile:1
ARG BASE=node:24-bookworm-slim
FROM \${BASE} AS deps
COPY package.json \\
     package-lock.json ./
RUN npm ci
FROM deps AS slim
FROM \${BASE} AS app
COPY --from=slim /app/node_modules ./node_modules
COPY src ./src
FROM busybox AS unrelated
`;

test('parseStages substitutes ARG defaults, joins continuations and reads COPY sources', () => {
  const stages = parseStages(SAMPLE);
  assert.deepEqual(stages.map((s) => [s.name, s.from]), [['deps', 'node:24-bookworm-slim'], ['slim', 'deps'], ['app', 'node:24-bookworm-slim'], ['unrelated', 'busybox']]);
  assert.deepEqual(copiesOf(stages[0]!), [{ sources: ['package.json', 'package-lock.json'], dest: './', fromStage: undefined }]);
  assert.deepEqual(copiesOf(stages[2]!)[0], { sources: ['/app/node_modules'], dest: './node_modules', fromStage: 'slim' });
  assert.deepEqual(stageClosure(stages, 'app').map((s) => s.name), ['deps', 'slim', 'app']);
  assert.deepEqual(baseImages(stages, 'app'), ['node:24-bookworm-slim']);
  assert.throws(() => stageClosure(stages, 'nope'), /Dockerfile has no stage "nope" \(stages: deps, slim, app, unrelated\)/);
});

test('the Dockerfile has every target, each on node:24-bookworm-slim, running as a numeric non-root user', () => {
  const stages = readStages(REPO);
  for (const target of TARGETS) {
    assert.deepEqual(baseImages(stages, target), ['node:24-bookworm-slim'], target);
    const users = stageClosure(stages, target).flatMap((s) => s.instructions.filter((i) => i.op === 'USER').map((i) => i.args));
    assert.match(users.at(-1) ?? '', /^[1-9]\d*:\d+$/, `${target}: USER`);
  }
  // The operator's node_modules come from the stage that removed TensorFlow.js.
  assert.ok(!stageClosure(stages, 'operator').some((s) => copiesOf(s).some((c) => c.fromStage === 'deps')), 'operator copies from deps');
});
