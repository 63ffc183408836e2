import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { layerState, snapshot, tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { layerFileName, manifestFileName, stepDir, stepDirName } from './layout.ts';
import { listCheckpoints } from './list.ts';
import { loadLatestCommitted } from './reader.ts';
import type { LayerState, StageSnapshot } from './types.ts';
import { CheckpointWriter } from './writer.ts';

/** A one-stage, one-layer snapshot holding `mib` MiB of float32 weights. */
function bigSnapshot(step: number, mib: number): StageSnapshot {
  const data = new Float32Array((mib * 2 ** 20) / 4).map((_, i) => i * 0.5);
  const layer: LayerState = { layerIndex: 0, weights: [{ name: 'big/kernel', shape: [data.length], data }], slots: [] };
  return { ...snapshot(step, 0, [1]), layers: [layer] };
}

void test('save() returns before the write completes, and consecutive saves run one after the other', async (t) => {
  const dir = await tempDir(t);
  const writer = new CheckpointWriter(dir);
  const big = bigSnapshot(1, 16);
  const started = performance.now();
  const first = writer.save(big);
  const blockedMs = performance.now() - started;
  const second = writer.save(snapshot(2, 0, [1]));
  assert.ok(blockedMs < 20, `save() blocked ${blockedMs.toFixed(2)} ms`);
  assert.equal(writer.inFlight, true);
  // Read before anything is awaited: an await would let the background write run meanwhile.
  assert.deepEqual(readdirSync(dir), [], 'nothing is written synchronously');
  const order: number[] = [];
  await Promise.all([first.then(() => order.push(1)), second.then(() => order.push(2))]);
  assert.deepEqual(order, [1, 2], 'the small second save waited for the big first one');
  assert.equal(writer.inFlight, false);
  const [a, b] = await Promise.all([first, second]);
  assert.ok(a.ok && b.ok);
  assert.equal(a.info.bytes > 16 * 2 ** 20, true);
  assert.deepEqual(await readdir(dir), [stepDirName(1), stepDirName(2)]);
});

void test('flush() waits for every pending save', async (t) => {
  const dir = await tempDir(t);
  const writer = new CheckpointWriter(dir);
  for (let step = 1; step <= 3; step++) void writer.save(snapshot(step, 0, [5]));
  await writer.flush();
  assert.equal(writer.inFlight, false);
  assert.equal((await readdir(dir)).length, 3);
});

void test('a write that cannot create its folder resolves {ok:false}, is logged and counted', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'afile'), 'not a folder');
  const lines: string[] = [];
  const writer = new CheckpointWriter(path.join(dir, 'afile', 'ckpt'), { log: (level, message) => lines.push(`${level}: ${message}`) });
  const result = await writer.save(snapshot(3, 0, [5]));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.error : '', /ENOTDIR/);
  assert.equal(writer.failures, 1);
  assert.match(lines[0]!, /^error: checkpoint step 3 stage 1 of 1: write failed: ENOTDIR/);
  assert.equal((await writer.save(snapshot(4, 0, [5]))).ok, false);
  assert.equal(writer.failures, 2, 'the writer keeps going and counts each failure');
});

void test('a write failing halfway leaves the previous checkpoint valid and loadable, and no temporary files', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  // Layer 1's final name is taken by a folder, so its rename fails after layer 0 was written.
  await mkdir(path.join(stepDir(dir, 20), layerFileName(1), 'blocker'), { recursive: true });
  const writer = new CheckpointWriter(dir, { autoCommit: true });
  const result = await writer.save(snapshot(20, 0, [2, 3]));
  assert.equal(result.ok, false);
  assert.equal(writer.failures, 1);
  const files = await readdir(stepDir(dir, 20));
  assert.deepEqual(files.sort(), [layerFileName(0), layerFileName(1)], 'no manifest, no temporary file');
  assert.equal((await loadLatestCommitted(dir, { layers: [0, 1, 2, 3, 4] }))?.step, 10);
  assert.deepEqual((await listCheckpoints(dir)).map((c) => [c.step, c.verified]), [[10, true]]);
});

void test('a bad snapshot resolves {ok:false} with an exact sentence and never rejects', async (t) => {
  const dir = await tempDir(t);
  const writer = new CheckpointWriter(dir);
  const result = await writer.save(snapshot(5, 1, [2, 3], { layers: [layerState(0, 5)] }));
  assert.deepEqual(result, { ok: false, error: 'stage 1 of partition [2, 3] holds layers [2, 3, 4]; got [0].' });
  const broken = await writer.save({ step: 1 } as StageSnapshot);
  assert.equal(broken.ok, false);
  assert.equal(writer.failures, 2);
  assert.throws(() => new CheckpointWriter(dir, { keep: 0 }), { name: 'TypeError', message: 'keep must be an integer >= 1; got 0.' });
});

void test('autoCommit: the last stage to finish commits, and keep applies retention after the commit', async (t) => {
  const dir = await tempDir(t);
  const writers = [0, 1].map(() => new CheckpointWriter(dir, { autoCommit: true, keep: 2 }));
  for (const step of [10, 20, 30]) {
    const results = await Promise.all(writers.map((w, stage) => w.save(snapshot(step, stage, [2, 3]))));
    assert.ok(results.some((r) => r.ok && r.info.committed), `step ${step} committed`);
  }
  assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [30, 20]);
});

void test('the manifest is written last, after the layer files', async (t) => {
  const dir = await tempDir(t);
  await new CheckpointWriter(dir).save(snapshot(7, 0, [5]));
  const folder = stepDir(dir, 7);
  const manifest = (await stat(path.join(folder, manifestFileName(0, 1)))).mtimeMs;
  for (let i = 0; i < 5; i++) assert.ok((await stat(path.join(folder, layerFileName(i)))).mtimeMs <= manifest);
});

void test('64 MiB: save() blocking time, event loop delay and throughput against a plain sequential write', async (t) => {
  const dir = await tempDir(t);
  const snap = bigSnapshot(1, 64);
  const bytes = snap.layers[0]!.weights[0]!.data;
  const plainStart = performance.now();
  const handle = await open(path.join(dir, 'plain.bin'), 'w');
  await handle.write(new Uint8Array(bytes.buffer));
  await handle.sync();
  await handle.close();
  const plainSeconds = (performance.now() - plainStart) / 1000;

  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const writer = new CheckpointWriter(dir);
  const started = performance.now();
  const pending = writer.save(snap);
  const blockedMs = performance.now() - started;
  const result = await pending;
  delay.disable();
  assert.ok(result.ok);
  const mib = result.info.bytes / 2 ** 20;
  t.diagnostic(`save() blocked ${blockedMs.toFixed(3)} ms; max event loop delay during the write ${(delay.max / 1e6).toFixed(1)} ms`);
  t.diagnostic(`checkpoint ${(mib / result.info.seconds).toFixed(0)} MiB/s (${result.info.seconds.toFixed(3)} s); plain write+fsync ${(64 / plainSeconds).toFixed(0)} MiB/s (${plainSeconds.toFixed(3)} s)`);
  assert.ok(blockedMs < 20, `save() blocked ${blockedMs.toFixed(2)} ms`);
});
