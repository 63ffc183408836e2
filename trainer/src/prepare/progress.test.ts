import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProgress, progressWriter } from './progress.ts';

const progress = { bytesRead: 25e6, totalBytes: 100e6, documents: 1200, documentsKept: 1100, tokens: 6.5e6 };

test('the progress line shows MB read, the share done, MB/s, documents and tokens', () => {
  assert.equal(formatProgress(progress, 5), 'prepare: 25.0/100.0 MB (25%), 5.0 MB/s, 1,100 of 1,200 documents kept, 6.5 M tokens');
});

test('a terminal gets one rewritten line, a log a line every 10 s, and both the final figures', () => {
  let clock = 0;
  const tty: string[] = [];
  const onTerminal = progressWriter((text) => tty.push(text), true, () => clock);
  onTerminal.update(progress);
  clock = 100;
  onTerminal.update(progress); // too soon: not shown
  clock = 1000;
  onTerminal.update({ ...progress, bytesRead: 100e6 });
  onTerminal.done();
  assert.equal(tty.length, 3);
  assert.ok(tty[0]!.startsWith('\rprepare: 25.0/100.0 MB'));
  assert.ok(tty[1]!.startsWith('\rprepare: 100.0/100.0 MB (100%), 100.0 MB/s'));
  assert.equal(tty[2], '\n');

  clock = 0;
  const log: string[] = [];
  const inLog = progressWriter((text) => log.push(text), false, () => clock);
  inLog.update(progress);
  clock = 5000;
  inLog.update({ ...progress, bytesRead: 50e6 });
  inLog.done();
  assert.deepEqual(log.map((line) => line.slice(0, 30)), ['prepare: 25.0/100.0 MB (25%), ', 'prepare: 50.0/100.0 MB (50%), ']);
  assert.ok(log.every((line) => line.endsWith('\n')));
});
