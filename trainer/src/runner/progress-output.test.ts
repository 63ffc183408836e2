import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createProgressReporter, formatBar, formatDuration } from './progress-output.ts';

function capture(format: 'text' | 'json', everySteps: number) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const reporter = createProgressReporter({ format, everySteps, stream: stream as unknown as NodeJS.WriteStream });
  return { reporter, text: () => text };
}

test('plain output prints one line every N steps and at the end', () => {
  const { reporter, text } = capture('text', 2);
  for (let step = 1; step <= 5; step++) reporter.step({ step, totalSteps: 5, loss: 1 / step, samplesPerSecond: 100, etaSeconds: 5 - step });
  const lines = text().trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(' ')[1]), ['2/5', '4/5', '5/5']);
  assert.match(lines[0]!, /loss 0\.5000 samples\/s 100 eta 3s/);
});

test('json output is one object per line', () => {
  const { reporter, text } = capture('json', 1);
  reporter.step({ step: 1, totalSteps: 2, loss: 0.5, samplesPerSecond: 10, etaSeconds: 1 });
  reporter.info('Started', { stages: 2 });
  const objects = text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objects[0]!.message, 'Completed step');
  assert.equal(objects[0]!.step, 1);
  assert.equal(objects[1]!.stages, 2);
});

test('the bar shows progress, loss, throughput and ETA', () => {
  const bar = formatBar({ step: 6, totalSteps: 12, loss: 0.25, samplesPerSecond: 321.4, etaSeconds: 75 }, 10);
  assert.equal(bar, '█████░░░░░ step 6/12  loss 0.2500  321 samples/s  ETA 1m15s');
});

test('durations are short and readable', () => {
  assert.equal(formatDuration(9.4), '9s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(Infinity), '?');
});

test('an evaluated step is always printed, with the validation loss, perplexity and tokens/s', () => {
  const { reporter, text } = capture('text', 10);
  reporter.step({ step: 3, totalSteps: 20, loss: 2, samplesPerSecond: 10, tokensPerSecond: 640, valLoss: Math.log(6), etaSeconds: 7 });
  reporter.step({ step: 4, totalSteps: 20, loss: 2, samplesPerSecond: 10, tokensPerSecond: 640, etaSeconds: 7 });
  assert.equal(text(), 'step 3/20 loss 2.0000 val loss 1.7918 ppl 6.00 tokens/s 640 eta 7s\n');
  const json = capture('json', 10);
  json.reporter.step({ step: 3, totalSteps: 20, loss: 2, samplesPerSecond: 10, tokensPerSecond: 640, valLoss: Math.log(6), etaSeconds: 7 });
  assert.ok(Math.abs((JSON.parse(json.text()) as { perplexity: number }).perplexity - 6) < 1e-9);
});
