import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { readLengthPrefixed, writeLengthPrefixed } from './transport-bench-tcp.ts';

void test('length-prefixed messages survive arbitrary chunking on a loopback socket', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  const [socket] = await accepted;
  const sizes = [0, 1, 3, 70_000, 5, 1 << 20];
  const received: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    readLengthPrefixed(socket, (message) => {
      received.push(message);
      if (received.length === sizes.length) resolve();
    });
  });
  for (const [i, size] of sizes.entries()) await writeLengthPrefixed(client, new Uint8Array(size).fill(i + 1));
  await done;
  assert.deepEqual(received.map((m) => m.length), sizes);
  received.forEach((m, i) => assert.ok(m.every((b) => b === i + 1)));
  client.destroy();
  socket.destroy();
  server.close();
});
