import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCheckpoints, humanBytes } from './checkpoints-command.ts';
import { tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { layerFileName, stepDir } from '../checkpoint/layout.ts';

/** Runs the command in-process; output goes to strings, errors throw CommanderError instead of exiting. */
async function run(...args: string[]): Promise<{ out: string; err: string; exitCode: number; error?: CommanderError }> {
  const sink = { out: '', err: '' };
  const program = new Command('pipetrain')
    .exitOverride()
    .configureOutput({ writeOut: (text) => (sink.out += text), writeErr: (text) => (sink.err += text) });
  registerCheckpoints(program, (text) => (sink.out += text), (text) => (sink.err += text));
  const previous = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['checkpoints', ...args], { from: 'user' });
    return { ...sink, exitCode: Number(process.exitCode ?? 0) };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { ...sink, exitCode: error.exitCode, error };
  } finally {
    process.exitCode = previous;
  }
}

void test('lists committed checkpoints newest first: step, time, size, stages, backend, verification', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [5]);
  await writeCheckpoint(dir, 20, [2, 2, 1]);
  await writeCheckpoint(dir, 30, [2, 3], { commit: false });
  const { out, err, exitCode } = await run(dir);
  assert.equal(exitCode, 0);
  assert.equal(err, '');
  const lines = out.split('\n');
  assert.equal(lines[0], `${dir}: 2 committed checkpoints, newest first`);
  assert.match(lines[1]!, /^ {2}STEP {2}COMMITTED AT +SIZE +WRITTEN BY +BACKEND {2}VERIFIED$/);
  assert.match(lines[2]!, /^ {4}20 {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}\d+\.\d KiB {2}3 stages \(2\+2\+1\) {2}cpu {6}yes$/);
  assert.match(lines[3]!, /^ {4}10 {2}.* {2}1 stage \(5\) +cpu {6}yes$/);
  assert.equal(lines[4], '1 uncommitted step folder ignored (step 30)');
});

void test('a checkpoint that does not verify says why, naming the file', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  const file = path.join(stepDir(dir, 10), layerFileName(2));
  const handle = await open(file, 'r+');
  await handle.write(Buffer.from([1]), 0, 1, 120);
  await handle.close();
  const { out, exitCode } = await run(dir);
  assert.equal(exitCode, 0);
  assert.match(out, /: 1 committed checkpoint, newest first \(1 does not verify\)\n/);
  assert.match(out, /2 stages \(2\+3\) {2}cpu {6}NO\n/);
  assert.ok(out.endsWith(`  step 10: ${file}: SHA-256 does not match the manifest\n`));
  assert.match((await run(dir, '--no-verify')).out, /cpu {6}yes\n/, 'sizes are unchanged');
});

void test('--json prints the list, parseable', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 7, [1, 4]);
  const json = JSON.parse((await run(dir, '--json')).out) as { path: string; checkpoints: Array<Record<string, unknown>>; uncommitted: number[] };
  assert.equal(json.path, dir);
  assert.deepEqual(json.uncommitted, []);
  assert.deepEqual(
    json.checkpoints.map(({ step, stages, partition, backend, verified, problems }) => ({ step, stages, partition, backend, verified, problems })),
    [{ step: 7, stages: 2, partition: [1, 4], backend: 'cpu', verified: true, problems: [] }],
  );
});

void test('an empty folder says so (exit 0); a missing path or a file is an error (exit 1)', async (t) => {
  const dir = await tempDir(t);
  assert.deepEqual(await run(dir), { out: `${dir}: no committed checkpoint\n`, err: '', exitCode: 0 });
  const missing = path.join(dir, 'nope');
  assert.deepEqual(await run(missing), { out: '', err: `error: ${missing}: no such folder\n`, exitCode: 1 });
  await writeFile(path.join(dir, 'afile'), '');
  assert.equal((await run(path.join(dir, 'afile'))).err, `error: ${path.join(dir, 'afile')}: not a folder\n`);
});

void test('help explains the listing; the path is required', async () => {
  const help = await run('--help');
  assert.match(help.out, /Usage: pipetrain checkpoints \[options\] <path>/);
  assert.match(help.out, /--no-verify/);
  assert.match(help.out, /Exit status: 0, also when there is no checkpoint yet; 1 when PATH does not exist\./);
  const missing = await run();
  assert.match(missing.err, /missing required argument 'path'/);
});

void test('sizes are human readable in binary units', () => {
  assert.deepEqual([0, 812, 1536, 64 * 2 ** 20, 3 * 2 ** 30].map(humanBytes), ['0 B', '812 B', '1.5 KiB', '64.0 MiB', '3.0 GiB']);
});
