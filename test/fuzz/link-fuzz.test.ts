// Fuzzed frames and ws traffic against a live stage link (trainer/src/transport on loopback): it
// never crashes, never holds more than a bounded number of messages of at most maxPayload, and
// closes with the code the case calls for. 5000 cases here; the bench runs 100k (test/bench/fuzz-bench.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLinkFuzz, runLyingLengths } from '../support/fuzz/link-fuzz.ts';
import { fuzzSeed, replayHint } from '../support/fuzz/rng.ts';

void test('5000 fuzzed link cases: frames delivered exactly, every violation closed with its code, memory bounded', async (t) => {
  const seed = fuzzSeed();
  const hint = replayHint(seed, 'node test/run-tests.js test/fuzz/link-fuzz');
  t.diagnostic(hint);
  const result = await runLinkFuzz({ seed, cases: 5000 });
  t.diagnostic(JSON.stringify({ ...result, failures: result.failures.length }));
  assert.deepEqual(result.failures, [], hint);
  assert.ok(result.cases >= 5000, hint);
  // Every kind of case really ran, so none of the checks is vacuous.
  const labels = ['valid', 'unauthorized', 'frame:dims-lie', 'frame:rank', 'frame:too-big', 'ws:length-over-2^53', 'ws:short-body', 'text:invalid-utf8'];
  // Screened as a stage's upstream end: due frames delivered; garbled evaluation and tied frames and wrong keys closed with 1008.
  labels.push('protocol:due', 'protocol:evaluation:full-rows', 'protocol:evaluation:step-not-evaluated', 'protocol:tied:transposed', 'protocol:tied:wrong-direction', 'protocol:key:two-steps-ahead', 'protocol:key:micro-batch-never-due');
  for (const label of labels) {
    assert.ok((result.byLabel[label] ?? 0) > 0, `${label} ran (${hint})`);
  }
  for (const code of [1000, 1002, 1003, 1006, 1007, 1008, 1009]) assert.ok((result.byCloseCode[code] ?? 0) > 0, `close code ${code} seen (${hint})`);
  // Headers claimed up to 2^63 bytes. Growth here includes garbage not yet collected (~1.5k
  // connections' worth); one claim honoured would be >= 2 GiB.
  assert.ok(result.largestClaim >= 2 ** 53, hint);
  assert.ok(result.peakArrayBufferGrowth < 128 * 2 ** 20, `peak growth ${result.peakArrayBufferGrowth} bytes (${hint})`);
});

void test('lying lengths allocate nothing: 400 headers claiming up to 2^62 bytes leave memory within a few maxPayloads', async (t) => {
  const seed = fuzzSeed();
  const hint = replayHint(seed, 'node test/run-tests.js test/fuzz/link-fuzz');
  t.diagnostic(hint);
  const maxPayloadBytes = 16 * 1024;
  const result = await runLyingLengths(seed, 400, maxPayloadBytes);
  t.diagnostic(JSON.stringify({ ...result, failures: result.failures.length }));
  assert.deepEqual(result.failures, [], hint);
  assert.ok(result.claimedBytes > 2 ** 60, hint);
  // 400 small connections' garbage plus a few messages of at most maxPayload; a claim honoured would be >= 16 KiB x 64.
  assert.ok(result.peakArrayBufferGrowth < 64 * maxPayloadBytes, `peak growth ${result.peakArrayBufferGrowth} bytes (${hint})`);
});
