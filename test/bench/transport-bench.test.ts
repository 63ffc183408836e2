import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTransportBench, runTransportBench } from './transport-bench.ts';

// Smoke test only: tiny sizes, one repetition, no timing assertions.
void test('runTransportBench measures both transports and formats a table', async () => {
  const results = await runTransportBench({ sizes: [1024, 65536], totalBytesPerSize: 256 * 1024, repetitions: 1, runTimeoutMs: 20_000 });
  assert.deepEqual(results.map((r) => r.payloadBytes), [1024, 65536]);
  for (const r of results) {
    assert.ok(r.wsBytesPerSecond > 0 && r.tcpBytesPerSecond > 0);
    assert.ok(Math.abs(r.ratio - r.wsBytesPerSecond / r.tcpBytesPerSecond) < 1e-9);
  }
  const table = formatTransportBench(results);
  assert.match(table, /^payload\s+ws Link GB\/s\s+raw TCP GB\/s\s+ws\/tcp$/m);
  assert.match(table, /^\s+64 KiB\s/m);
  assert.equal(table.split('\n').length, 3);
});

void test('runTransportBench rejects sizes that are not whole float32 payloads', async () => {
  await assert.rejects(runTransportBench({ sizes: [6] }), TypeError);
});
