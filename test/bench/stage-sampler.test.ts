import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseProcStatus, startStageSampler } from './stage-sampler.ts';

test('parses peak RSS and threads from /proc/<pid>/status', () => {
  assert.deepEqual(parseProcStatus('Name:\tnode\nVmHWM:\t  177000 kB\nVmRSS:\t  150000 kB\nThreads:\t11\n'), { peakRssBytes: 177000 * 1024, threads: 11 });
  assert.equal(parseProcStatus('Name:\tnode\n'), undefined);
});

test('finds active stage processes by title and samples them', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const child = spawn(process.execPath, ['-e', "process.title = 'pipetrain stage 2/3 of sampled'; setTimeout(() => {}, 3000)"], { stdio: 'ignore' });
  try {
    await sleep(400); // the title is set once the child has started
    const sampler = startStageSampler(process.pid, 50);
    await sleep(300);
    const samples = sampler.stop();
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.stage, 1);
    assert.ok(samples[0]!.peakRssBytes > 10e6, `a Node process has more than 10 MB resident: ${samples[0]!.peakRssBytes}`);
    assert.ok(samples[0]!.threads >= 2);
  } finally {
    child.kill();
  }
});
