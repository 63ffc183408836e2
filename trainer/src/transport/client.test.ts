import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connectLink, ConnectError } from './client.ts';
import { listenLink } from './server.ts';
import { FrameKind } from './kinds.ts';
import { TOKEN } from '../../../test/support/link-helpers.ts';

/** A loopback port that was free a moment ago (bound on port 0, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

void test('connectLink keeps retrying a refused connection until the server listens', async () => {
  const port = await freePort();
  const connecting = connectLink({ token: TOKEN, maxPayloadBytes: 1024, url: `ws://127.0.0.1:${port}/`, connectTimeoutMs: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const server = await listenLink({ token: TOKEN, maxPayloadBytes: 1024, port });
  try {
    const client = await connecting;
    const accepted = await server.accept(2000);
    await client.send({ kind: FrameKind.Activation, step: 1, microBatch: 0, dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) });
    assert.deepEqual((await accepted.receive(FrameKind.Activation, 1, 0, 2000)).data, Float32Array.of(1, 2));
    await Promise.all([client.close(), accepted.close()]);
  } finally {
    await server.close();
  }
});

void test('connectLink gives up after connectTimeoutMs', async () => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/`;
  await assert.rejects(connectLink({ token: TOKEN, maxPayloadBytes: 1024, url, connectTimeoutMs: 200 }), (error: unknown) => {
    return error instanceof ConnectError && error.status === undefined && /ECONNREFUSED/.test(error.message);
  });
});

void test('connectLink validates its options', async () => {
  await assert.rejects(connectLink({ token: 'a b', maxPayloadBytes: 1024, url: 'ws://127.0.0.1:1/' }), TypeError);
});
