import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mailbox, ReceiveTimeoutError } from './mailbox.ts';
import type { Frame } from './frame.ts';
import { FrameKind } from './kinds.ts';

const frame = (step: number, microBatch: number, value = 0, kind: number = FrameKind.Activation): Frame => ({
  kind,
  step,
  microBatch,
  dtype: 'float32',
  shape: [1],
  data: Float32Array.of(value),
});

void test('frames that arrive before the receiver are kept per key', async () => {
  const box = new Mailbox(10);
  assert.equal(box.put(frame(1, 0, 10)), true);
  assert.equal(box.put(frame(1, 1, 11)), true);
  assert.equal(box.put(frame(1, 0, 10, FrameKind.Gradient)), true);
  assert.equal(box.size, 3);
  assert.equal((await box.take(FrameKind.Activation, 1, 1)).data[0], 11);
  assert.equal((await box.take(FrameKind.Gradient, 1, 0)).kind, FrameKind.Gradient);
  assert.equal((await box.take(FrameKind.Activation, 1, 0)).data[0], 10);
  assert.equal(box.size, 0);
});

void test('a waiting receiver gets the frame when it arrives; same key is FIFO', async () => {
  const box = new Mailbox(10);
  const first = box.take(FrameKind.Activation, 2, 0);
  const second = box.take(FrameKind.Activation, 2, 0);
  box.put(frame(2, 0, 1));
  box.put(frame(2, 0, 2));
  assert.equal((await first).data[0], 1);
  assert.equal((await second).data[0], 2);
});

void test('receive times out without consuming a later frame', async () => {
  const box = new Mailbox(10);
  await assert.rejects(box.take(FrameKind.Activation, 3, 0, 20), ReceiveTimeoutError);
  box.put(frame(3, 0, 5));
  assert.equal(box.size, 1);
  assert.equal((await box.take(FrameKind.Activation, 3, 0, 20)).data[0], 5);
});

void test('the bound counts queued frames only', () => {
  const box = new Mailbox(2);
  assert.equal(box.put(frame(0, 0)), true);
  assert.equal(box.put(frame(0, 1)), true);
  assert.equal(box.put(frame(0, 2)), false);
  void box.take(FrameKind.Activation, 9, 9);
  assert.equal(box.put(frame(9, 9)), true, 'delivered to a waiter, not queued');
});

void test('close rejects waiters and later takes, but queued frames are still delivered', async () => {
  const box = new Mailbox(10);
  box.put(frame(4, 0, 4));
  const pending = box.take(FrameKind.Activation, 5, 0);
  const error = new Error('closed');
  box.close(error);
  await assert.rejects(pending, error);
  assert.equal((await box.take(FrameKind.Activation, 4, 0)).data[0], 4);
  await assert.rejects(box.take(FrameKind.Activation, 4, 0), error);
});
