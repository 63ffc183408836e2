import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Frame } from './frame.ts';
import { FrameKind } from './kinds.ts';
import { listenLink } from './server.ts';
import { connectLink } from './client.ts';
import { CloseCode, truncateReason } from './link.ts';
import { LinkClosedError } from './link-api.ts';
import { ReceiveTimeoutError } from './mailbox.ts';
import { linkPair, logSink, TOKEN } from '../../../test/support/link-helpers.ts';
import type { SendBufferPool } from './send-buffers.ts';

const activation = (step: number, microBatch: number, n = 4, fill = step): Frame => ({
  kind: FrameKind.Activation,
  step,
  microBatch,
  dtype: 'float32',
  shape: [n],
  data: new Float32Array(n).fill(fill),
});

void test('frames flow both ways and wait in the mailbox until received', async () => {
  const sent: number[] = [];
  const pair = await linkPair({}, { onSent: (bytes) => sent.push(bytes) });
  try {
    await pair.client.send(activation(1, 0));
    await pair.client.send(activation(1, 1, 3, 9));
    const early = await pair.accepted.receive(FrameKind.Activation, 1, 1, 2000);
    assert.deepEqual(early.data, new Float32Array(3).fill(9));
    assert.equal((await pair.accepted.receive(FrameKind.Activation, 1, 0, 2000)).step, 1);

    const waiting = pair.client.receive(FrameKind.Gradient, 1, 0, 2000);
    const gradient: Frame = { ...activation(1, 0), kind: FrameKind.Gradient, dtype: 'float64', data: new Float64Array(4).fill(-1) };
    await pair.accepted.send(gradient);
    assert.deepEqual(await waiting, gradient);

    assert.equal(pair.client.stats.framesSent, 2);
    assert.equal(pair.accepted.stats.framesReceived, 2);
    assert.equal(pair.accepted.stats.bytesReceived, pair.client.stats.bytesSent);
    assert.equal(sent.length, 2);
    await assert.rejects(pair.accepted.receive(FrameKind.Activation, 2, 0, 30), ReceiveTimeoutError);
  } finally {
    await pair.closeAll();
  }
});

void test('masked and zero-masked clients deliver identical frames', async () => {
  for (const zeroMask of [true, false]) {
    const pair = await linkPair({}, { zeroMask });
    try {
      const frame = { ...activation(3, 2, 1000), data: Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i)) };
      await pair.client.send(frame);
      assert.deepEqual(await pair.accepted.receive(FrameKind.Activation, 3, 2, 2000), frame);
    } finally {
      await pair.closeAll();
    }
  }
});

void test('send rejects invalid and too large frames locally, keeping the link open', async () => {
  const pair = await linkPair({ maxPayloadBytes: 1024 }, { maxPayloadBytes: 1024 });
  try {
    await assert.rejects(pair.client.send(activation(0, 0, 257)), { name: 'FrameError' });
    await assert.rejects(pair.client.send({ ...activation(0, 0), shape: [5] }), { name: 'FrameError' });
    await pair.client.send(activation(0, 0, 256));
    assert.equal((await pair.accepted.receive(FrameKind.Activation, 0, 0, 2000)).data.length, 256);
  } finally {
    await pair.closeAll();
  }
});

void test('close ends both sides; pending and later calls reject with LinkClosedError', async () => {
  const pair = await linkPair();
  const pending = assert.rejects(pair.accepted.receive(FrameKind.Activation, 9, 0), LinkClosedError);
  await pair.client.send(activation(8, 0));
  await pair.accepted.receive(FrameKind.Activation, 8, 0, 2000);
  await pair.client.send(activation(7, 0)); // arrives before the close and stays receivable
  await pair.client.close('training finished');
  assert.deepEqual(await pair.client.closed, { code: 1000, reason: 'training finished', byPeer: false });
  assert.deepEqual(await pair.accepted.closed, { code: 1000, reason: 'training finished', byPeer: true });
  await pending;
  assert.equal((await pair.accepted.receive(FrameKind.Activation, 7, 0)).step, 7);
  await assert.rejects(pair.accepted.receive(FrameKind.Activation, 10, 0), LinkClosedError);
  await assert.rejects(pair.client.send(activation(1, 0)), LinkClosedError);
  await pair.accepted.close(); // idempotent
  await pair.server.close();
});

void test('send waits while the peer does not read (bounded buffering), then drains', async () => {
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: 1 << 20 });
  const accepting = server.accept(5000);
  const client = await connectLink({ token: TOKEN, maxPayloadBytes: 1 << 20, url: `ws://127.0.0.1:${server.port}/`, highWaterMarkBytes: 1 << 20 });
  const accepted = await accepting;
  // Stop reading on the accepting side: its socket is the only consumer of the client's bytes.
  const raw = (accepted as unknown as { ws: WebSocket }).ws;
  raw.pause();
  const frames = 64; // 64 MiB, far beyond loopback socket buffers
  let resolved = 0;
  const sends = Array.from({ length: frames }, (_, i) => client.send(activation(i, 0, (1 << 20) / 4)).then(() => resolved++));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(resolved < frames, `only part of the sends may complete while the peer is paused (got ${resolved})`);
  raw.resume();
  for (let i = 0; i < frames; i++) await accepted.receive(FrameKind.Activation, i, 0, 10_000);
  await Promise.all(sends);
  assert.equal(resolved, frames);
  await Promise.all([client.close(), accepted.close()]);
  await server.close();
});

void test('a sender awaiting each send reuses its encode buffers: unfinished writes count toward the high-water mark', async () => {
  const highWaterMarkBytes = 256 * 1024;
  const pair = await linkPair({}, { highWaterMarkBytes });
  // Count encode buffers the pool could not supply (one frame size here, so idle bytes tell).
  const pool = (pair.client as unknown as { sendBuffers: SendBufferPool }).sendBuffers;
  const acquire = pool.acquire.bind(pool);
  let fresh = 0;
  pool.acquire = (size: number) => {
    if (pool.idleBytes < size) fresh++;
    return acquire(size);
  };
  const frames = 200; // 64 KiB each, 12.5 MiB in all: the kernel takes most writes at once
  for (let i = 0; i < frames; i++) await pair.client.send(activation(i, 0, 16 * 1024));
  for (let i = 0; i < frames; i++) assert.equal((await pair.accepted.receive(FrameKind.Activation, i, 0, 10_000)).data[0], i);
  // At most the high-water mark plus a frame is unfinished, plus the frame being encoded.
  assert.ok(fresh <= Math.ceil(highWaterMarkBytes / (64 * 1024)) + 2, `allocated ${fresh} encode buffers for ${frames} frames`);
  await pair.closeAll();
});

void test('a peer overflowing the mailbox is disconnected with 1008', async () => {
  const sink = logSink();
  const pair = await linkPair({ maxQueuedFrames: 3, log: sink.log });
  for (let i = 0; i < 5; i++) void pair.client.send(activation(i, 0)).catch(() => undefined);
  const info = await pair.accepted.closed;
  assert.equal(info.code, CloseCode.PolicyViolation);
  assert.match(info.reason, /mailbox full/);
  assert.equal((await pair.client.closed).code, CloseCode.PolicyViolation);
  assert.ok(sink.entries.some((e) => e.message === 'Closed link after a protocol violation'));
  await pair.server.close();
});

void test('a screen lets fitting frames into the mailbox and closes with 1008 on the first it refuses, waiting ones included', async () => {
  const sink = logSink();
  const pair = await linkPair({ log: sink.log });
  const longReason = `step 7 is not due: ${'x'.repeat(200)}`;
  await pair.client.send(activation(1, 0));
  await pair.client.send(activation(7, 0));
  await new Promise((resolve) => setTimeout(resolve, 50)); // both wait in the mailbox
  pair.accepted.screen((frame) => (frame.step === 7 ? longReason : undefined));
  const info = await pair.accepted.closed;
  assert.deepEqual(info, { code: CloseCode.PolicyViolation, reason: longReason, byPeer: false }, 'this side keeps the whole reason');
  const peer = await pair.client.closed;
  assert.equal(peer.code, CloseCode.PolicyViolation);
  assert.equal(peer.reason, truncateReason(longReason), 'the peer gets what fits a close frame');
  assert.equal((await pair.accepted.receive(FrameKind.Activation, 1, 0)).step, 1, 'a frame that passed is still delivered');
  assert.ok(sink.entries.some((e) => e.message === 'Closed link after a protocol violation' && e.fields?.code === 1008));
  await pair.server.close();
});

void test('truncateReason keeps close reasons within 123 bytes', () => {
  assert.equal(truncateReason('short'), 'short');
  assert.equal(Buffer.byteLength(truncateReason('é'.repeat(200))), 122);
});
