// The cluster resolver on its own: A answers, NXDOMAIN outside the zone, NODATA for AAAA.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { test } from 'node:test';
import { startDnsServer } from './dns.ts';

test('the cluster resolver answers A queries from its callback and never forwards', async () => {
  const names: Record<string, string[]> = { 'a.peers.ns.svc.cluster.local': ['10.250.1.2'], 'web.ns.svc.cluster.local': ['10.250.1.3', '10.250.1.4'] };
  const socket = await startDnsServer('127.0.0.1', 0, (name) => names[name]);
  try {
    const address = socket.address();
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${address.port}`]);
    assert.deepEqual(await resolver.resolve4('A.Peers.ns.svc.cluster.local'), ['10.250.1.2']);
    assert.deepEqual((await resolver.resolve4('web.ns.svc.cluster.local')).sort(), ['10.250.1.3', '10.250.1.4']);
    await assert.rejects(resolver.resolve4('example.com'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve6('web.ns.svc.cluster.local'), { code: 'ENODATA' });
  } finally {
    socket.close();
  }
});
