import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as transport from './index.ts';

void test('the public API exports the agreed names', () => {
  for (const name of ['FrameKind', 'encodeFrame', 'decodeFrame', 'FrameError', 'LinkClosedError', 'listenLink', 'connectLink', 'tokensEqual']) {
    assert.ok(name in transport, name);
  }
  assert.deepEqual(transport.FrameKind, { Activation: 1, Gradient: 2, GradNorm: 3, Heartbeat: 4, Control: 5, TiedGradient: 6, Evaluation: 7 });
});
