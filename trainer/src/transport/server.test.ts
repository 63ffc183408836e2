import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { encodeFrame } from './frame.ts';
import { FrameKind } from './kinds.ts';
import { AcceptTimeoutError, listenLink, type LinkServer } from './server.ts';
import { connectLink, ConnectError } from './client.ts';
import { CloseCode } from './link.ts';
import { LinkClosedError } from './link-api.ts';
import { logSink, TOKEN } from '../../../test/support/link-helpers.ts';

const MAX_PAYLOAD = 4096;

/** A raw ws client (no Link) so tests can misbehave; resolves once open. */
function rawClient(server: LinkServer, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function rawClose(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const url = (server: LinkServer): string => `ws://127.0.0.1:${server.port}/`;

void test('a missing or wrong token is refused with 401 and logged without the token', async () => {
  const sink = logSink();
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, log: sink.log });
  try {
    await assert.rejects(rawClient(server, {}), /Unexpected server response: 401/);
    const wrong = connectLink({ token: 'wrong-token', maxPayloadBytes: MAX_PAYLOAD, url: url(server), connectTimeoutMs: 2000 });
    await assert.rejects(wrong, (error: unknown) => error instanceof ConnectError && error.status === 401);
    const refusals = sink.entries.filter((e) => e.fields?.status === 401);
    assert.equal(refusals.length, 2);
    assert.match(String(refusals[0]?.fields?.remote), /^127\.0\.0\.1:\d+$/);
    assert.ok(!JSON.stringify(sink.entries).includes(TOKEN) && !JSON.stringify(sink.entries).includes('wrong-token'));

    const accepting = server.accept(2000);
    const client = await connectLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, url: url(server) });
    const accepted = await accepting;
    await Promise.all([client.close(), accepted.close()]);
  } finally {
    await server.close();
  }
});

void test('protocol violations close only that connection with a code; the server keeps accepting', async () => {
  const sink = logSink();
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, log: sink.log });
  const tooBigForFrame = encodeFrame({ kind: FrameKind.Activation, step: 0, microBatch: 0, dtype: 'uint8', shape: [MAX_PAYLOAD + 1], data: new Uint8Array(MAX_PAYLOAD + 1) });
  const cases: Array<{ name: string; send: (ws: WebSocket) => void; code: number }> = [
    { name: 'garbage', send: (ws) => ws.send(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])), code: CloseCode.InvalidPayload },
    { name: 'text', send: (ws) => ws.send('{"step": 1}'), code: CloseCode.UnsupportedData },
    { name: 'frame above maxPayloadBytes', send: (ws) => ws.send(tooBigForFrame), code: CloseCode.MessageTooBig },
    { name: 'message above ws maxPayload', send: (ws) => ws.send(Buffer.alloc(MAX_PAYLOAD * 4)), code: CloseCode.MessageTooBig },
  ];
  try {
    for (const c of cases) {
      const accepting = server.accept(2000);
      const ws = await rawClient(server, bearer);
      const link = await accepting;
      const peerSaw = rawClose(ws);
      c.send(ws);
      const info = await link.closed;
      assert.equal(info.code, c.code, c.name);
      assert.equal(info.byPeer, false, c.name);
      assert.ok(info.reason.length > 0, `${c.name}: a reason is given`);
      assert.equal((await peerSaw).code, c.code, c.name);
      await assert.rejects(link.receive(FrameKind.Activation, 0, 0), LinkClosedError);
    }
    assert.ok(sink.entries.filter((e) => e.level === 'warn').length >= cases.length);
    // Still accepting after all that.
    const accepting = server.accept(2000);
    const client = await connectLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, url: url(server) });
    const accepted = await accepting;
    await client.send({ kind: FrameKind.Control, step: 1, microBatch: 0, dtype: 'int32', shape: [], data: Int32Array.of(42) });
    assert.equal((await accepted.receive(FrameKind.Control, 1, 0, 2000)).data[0], 42);
    await Promise.all([client.close(), accepted.close()]);
  } finally {
    await server.close();
  }
});

void test('connections made before accept() are queued; extra ones get 503', async () => {
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, maxPendingConnections: 1 });
  try {
    const first = await connectLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, url: url(server) });
    await first.send({ kind: FrameKind.Heartbeat, step: 0, microBatch: 0, dtype: 'uint8', shape: [0], data: new Uint8Array(0) });
    // The queue is full now: a second peer is refused (and not retried past the short timeout).
    const second = connectLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, url: url(server), connectTimeoutMs: 200 });
    await assert.rejects(second, (error: unknown) => error instanceof ConnectError && error.status === 503);
    const accepted = await server.accept(2000);
    assert.equal((await accepted.receive(FrameKind.Heartbeat, 0, 0, 2000)).kind, FrameKind.Heartbeat);
    await assert.rejects(server.accept(50), AcceptTimeoutError);
    await Promise.all([first.close(), accepted.close()]);
  } finally {
    await server.close();
  }
});

void test('close() refuses waiting accepts, closes unaccepted peers and leaves accepted links open', async () => {
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD });
  const acceptedClient = await connectLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, url: url(server) });
  const accepted = await server.accept(2000);
  const queuedClient = await connectLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD, url: url(server) });
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the server register the second peer
  await server.close();
  assert.equal((await queuedClient.closed).code, CloseCode.GoingAway);
  await assert.rejects(server.accept(), LinkClosedError);
  await acceptedClient.send({ kind: FrameKind.Activation, step: 5, microBatch: 0, dtype: 'float32', shape: [1], data: Float32Array.of(5) });
  assert.equal((await accepted.receive(FrameKind.Activation, 5, 0, 2000)).data[0], 5);
  await Promise.all([acceptedClient.close(), accepted.close()]);
});

void test('plain HTTP requests get 426', async () => {
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: MAX_PAYLOAD });
  try {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(url(server).replace('ws:', 'http:'), (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 426);
  } finally {
    await server.close();
  }
});

void test('invalid options throw a TypeError naming the option', async () => {
  await assert.rejects(listenLink({ token: '', maxPayloadBytes: 1 }), /"token"/);
  await assert.rejects(listenLink({ token: TOKEN, maxPayloadBytes: 0 }), /"maxPayloadBytes"/);
  await assert.rejects(listenLink({ token: TOKEN, maxPayloadBytes: 1, highWaterMarkBytes: -1 }), /"highWaterMarkBytes"/);
});
