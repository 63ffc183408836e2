import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameHeaderBytes } from './frame.ts';
import { DEFAULT_HIGH_WATER_MARK_BYTES, DEFAULT_MAX_QUEUED_FRAMES, LinkClosedError, resolveLinkOptions } from './link-api.ts';

void test('resolveLinkOptions applies defaults and sizes ws maxPayload for the largest header', () => {
  const resolved = resolveLinkOptions({ token: 'abc', maxPayloadBytes: 1000 });
  assert.equal(resolved.highWaterMarkBytes, DEFAULT_HIGH_WATER_MARK_BYTES);
  assert.equal(resolved.maxQueuedFrames, DEFAULT_MAX_QUEUED_FRAMES);
  assert.equal(resolved.maxMessageBytes, 1000 + frameHeaderBytes(8));
});

void test('resolveLinkOptions names the bad option', () => {
  assert.throws(() => resolveLinkOptions({ token: 'abc', maxPayloadBytes: 1.5 }), /"maxPayloadBytes" option must be a positive integer/);
  assert.throws(() => resolveLinkOptions({ token: 'abc', maxPayloadBytes: 1, maxQueuedFrames: 0 }), /"maxQueuedFrames"/);
  assert.throws(() => resolveLinkOptions({ token: '', maxPayloadBytes: 1 }), /"token"/);
});

void test('LinkClosedError describes the close', () => {
  const error = new LinkClosedError({ code: 1003, reason: 'text messages are not accepted', byPeer: true });
  assert.equal(error.message, 'Link closed (code 1003: text messages are not accepted, by peer).');
  assert.equal(error.info.code, 1003);
});
