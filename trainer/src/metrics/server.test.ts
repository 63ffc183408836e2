import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server.ts';
import { createStageMetrics } from './stage-metrics.ts';

async function withServer(options: Partial<MetricsServerOptions>, body: (server: MetricsServer, base: string) => Promise<void>): Promise<void> {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  const server = await startMetricsServer({ port: 0, registry: metrics.registry, status: () => metrics.status(), ...options });
  try {
    await body(server, `http://127.0.0.1:${server.port}`);
  } finally {
    await server.close();
  }
}

/** Sends raw bytes and returns whatever the server answers before closing (or after 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(2000, () => socket.destroy());
  });
}

test('GET /metrics serves the registry with its content type', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  metrics.observeStep({ step: 6, wallSeconds: 1, computeSeconds: 1, idleSeconds: 0, samples: 10 });
  await withServer({ registry: metrics.registry }, async (_server, base) => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), metrics.registry.contentType);
    assert.match(await response.text(), /^pipetrain_step\{job="mnist",stage="1"\} 7$/m);
    const head = await fetch(`${base}/metrics?x=1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });
});

test('GET /healthz answers ok, 503 when unhealthy and 500 when the check throws', async () => {
  let healthy: boolean | Error = true;
  const check = () => {
    if (healthy instanceof Error) throw healthy;
    return healthy;
  };
  await withServer({ healthy: check }, async (_server, base) => {
    let response = await fetch(`${base}/healthz`);
    assert.deepEqual([response.status, await response.text()], [200, 'ok\n']);
    healthy = false;
    response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 503);
    await response.text();
    healthy = new Error('link down');
    response = await fetch(`${base}/healthz`);
    assert.deepEqual([response.status, await response.text()], [500, 'Health check failed: link down\n']);
  });
});

test('GET /status serves status() as JSON; a throwing status() gives 500 with the message', async () => {
  let fail = false;
  const status = () => {
    if (fail) throw new Error('no session yet');
    return { job: 'mnist', stage: 1, step: 3 };
  };
  await withServer({ status }, async (_server, base) => {
    let response = await fetch(`${base}/status`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { job: 'mnist', stage: 1, step: 3 });
    fail = true;
    response = await fetch(`${base}/status`);
    assert.deepEqual([response.status, await response.text()], [500, 'Status failed: no session yet\n']);
  });
});

test('status() of a real stage round-trips through /status', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  metrics.setPhase('connecting');
  await withServer({ registry: metrics.registry, status: () => metrics.status() }, async (_server, base) => {
    assert.deepEqual(await (await fetch(`${base}/status`)).json(), metrics.status());
  });
});

test('unknown paths give 404, other methods 405, and a failing registry 500', async () => {
  const registry = new Registry();
  new Gauge({
    name: 'pipetrain_broken',
    help: 'A gauge whose collect() throws.',
    registers: [registry],
    collect() {
      throw new Error('collector exploded');
    },
  });
  await withServer({ registry }, async (_server, base) => {
    let response = await fetch(`${base}/nope`);
    assert.equal(response.status, 404);
    await response.text();
    response = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
    await response.text();
    response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 500);
    assert.match(await response.text(), /collector exploded/);
    // Still serving afterwards.
    assert.equal((await fetch(`${base}/status`)).status, 200);
  });
});

test('malformed requests get an error answer and never take the server down', async () => {
  await withServer({}, async (server, base) => {
    assert.match(await raw(server.port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await raw(server.port, 'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 404/);
    assert.match(await raw(server.port, 'GET /metrics HTTP/1.1\r\nContent-Length: nope\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await raw(server.port, `GET /${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });
});

test('close() does not wait for keep-alive connections and can be called twice', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  const server = await startMetricsServer({ port: 0, registry: metrics.registry, status: () => ({}) });
  const agentResponse = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/healthz', headers: { Connection: 'keep-alive' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(agentResponse, 200);
  const started = Date.now();
  await Promise.all([server.close(), server.close()]);
  assert.ok(Date.now() - started < 1000, 'closed promptly');
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`));
});

test('validates the port and reports a port in use', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  await assert.rejects(startMetricsServer({ port: 70_000, registry: metrics.registry, status: () => ({}) }), { name: 'TypeError', message: /port must be an integer from 0 to 65535/ });
  await withServer({}, async (server) => {
    assert.ok(server.port > 0);
    // A second server on the same port reports the error instead of crashing.
    await assert.rejects(startMetricsServer({ port: server.port, registry: metrics.registry, status: () => ({}) }), { code: 'EADDRINUSE' });
  });
});
