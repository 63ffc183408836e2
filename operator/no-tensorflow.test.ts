import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

// The operator never trains: loading TensorFlow.js would cost it ~75 MB of its 300 MB budget
// (docs/benchmarks.md, "Operator at scale"). Checked in a fresh process, through the CLI entry.
test('`pipetrain operator` does not load TensorFlow.js', async () => {
  const script = `
    await import(${JSON.stringify(new URL('../trainer/src/cli/main.ts', import.meta.url).href)});
    await import(${JSON.stringify(new URL('./operator-command.ts', import.meta.url).href)});
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((path) => path.includes('@tensorflow'))));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), []);
});
