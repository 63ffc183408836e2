import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { keepAliveAuthentication, makeKeepAliveClient } from './keep-alive.ts';

const dir = mkdtempSync(join(tmpdir(), 'pipetrain-keepalive-'));
let cert: Buffer;
let server: Server;
let connections = 0;
const authorizations: string[] = [];

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'),
    '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  server = createServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  server.on('secureConnection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function kubeConfig(ca: Buffer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: ca.toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** Sequential requests, as the operator's reconciles send them. */
const REQUESTS = 10;

test('client-node 2.0 alone opens a new TLS connection for every request', async () => {
  const core = kubeConfig(cert).makeApiClient(k8s.CoreV1Api);
  const start = connections;
  for (let i = 0; i < REQUESTS; i++) await core.listNamespace();
  assert.equal(connections - start, REQUESTS);
});

test('the keep-alive client reuses its connections and still authenticates every request', async () => {
  const kc = kubeConfig(cert);
  const core = makeKeepAliveClient(kc, keepAliveAuthentication(kc), k8s.CoreV1Api);
  const start = connections;
  authorizations.length = 0;
  for (let i = 0; i < REQUESTS; i++) await core.listNamespace();
  // undici may open a second connection when the next request starts before it has marked the
  // first connection free again; after that the two are reused.
  assert.ok(connections - start <= 2, `${connections - start} connections for ${REQUESTS} requests`);
  assert.deepEqual(authorizations, Array.from({ length: REQUESTS }, () => 'Bearer secret-token'));
});

test('changed TLS options get a new dispatcher; unchanged ones share it', async () => {
  const kc = kubeConfig(cert);
  const auth = keepAliveAuthentication(kc);
  const dispatcherOf = async (): Promise<unknown> => {
    const context = new k8s.RequestContext('https://127.0.0.1/api/v1/namespaces', k8s.HttpMethod.GET);
    await auth.applySecurityAuthentication(context);
    return context.getDispatcher();
  };
  const first = await dispatcherOf();
  assert.ok(first);
  assert.equal(await dispatcherOf(), first);
  kc.loadFromOptions({ ...JSON.parse(kc.exportConfig()), clusters: [{ ...kc.getCurrentCluster()!, caData: Buffer.from('other CA').toString('base64') }] });
  assert.notEqual(await dispatcherOf(), first);
});
