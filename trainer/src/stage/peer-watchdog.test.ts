import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectLink, listenLink, type Link } from '../transport/index.ts';
import { watchPeer } from './peer-watchdog.ts';

async function linkPair(): Promise<[Link, Link]> {
  const options = { token: 'secret-token-for-tests', maxPayloadBytes: 1024 };
  const server = await listenLink({ ...options, port: 0 });
  const [a, b] = await Promise.all([connectLink({ ...options, url: `ws://127.0.0.1:${server.port}` }), server.accept()]);
  await server.close();
  return [a, b];
}

test('two live peers keep each other alive', async () => {
  const [a, b] = await linkPair();
  let silent = false;
  const wa = watchPeer(a, { intervalMs: 20, timeoutMs: 200, onSilent: () => (silent = true) });
  const wb = watchPeer(b, { intervalMs: 20, timeoutMs: 200, onSilent: () => (silent = true) });
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(silent, false);
  assert.ok(b.stats.framesReceived > 10);
  wa.stop();
  wb.stop();
  await Promise.all([a.close(), b.close()]);
});

test('a peer that stops sending heartbeats is reported silent', async () => {
  const [a, b] = await linkPair();
  let silentFor = 0;
  const started = Date.now();
  const wa = watchPeer(a, { intervalMs: 20, timeoutMs: 300, onSilent: (ms) => (silentFor = ms) });
  // b never answers: like a frozen process or a partitioned pod.
  while (silentFor === 0 && Date.now() - started < 3000) await new Promise((r) => setTimeout(r, 20));
  assert.ok(silentFor > 300, `silent for ${silentFor} ms`);
  assert.ok(Date.now() - started < 1500);
  wa.stop();
  await Promise.all([a.close(), b.close()]);
});

test('stopping the watchdog when the link closes normally reports nothing', async () => {
  const [a, b] = await linkPair();
  let silent = false;
  watchPeer(a, { intervalMs: 20, timeoutMs: 100, onSilent: () => (silent = true) });
  await b.close('finished');
  await a.closed;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(silent, false);
});
