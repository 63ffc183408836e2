// npm run cluster:up — starts a cluster that keeps running until `npm run cluster:down`.
// Options: --nodes N (default 3). A cluster left by an earlier `cluster:up` or a killed test run is removed first.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { cleanupStale, startCluster } from './cluster.ts';
import { currentClusterFile } from './state.ts';
import { errorMessage } from './util.ts';

async function main(): Promise<void> {
  const i = process.argv.indexOf('--nodes');
  const nodes = i > 0 ? Number(process.argv[i + 1]) : 3;
  const log = (line: string): void => {
    process.stderr.write(`[cluster:up] ${line}\n`);
  };
  const t0 = Date.now();
  await cleanupStale({ includePersistent: true, log });
  const state = await startCluster({ nodes, ownerPid: null, log });
  mkdirSync(dirname(currentClusterFile()), { recursive: true });
  writeFileSync(currentClusterFile(), state.stateDir);
  process.stdout.write(
    [
      `Cluster ${state.runId} is up (${((Date.now() - t0) / 1000).toFixed(1)} s): ${state.nodes.length} nodes, API https://127.0.0.1:${state.apiPort}`,
      `State and component logs: ${state.stateDir} (logs/, pods/<namespace>/<pod>/<uid>/log)`,
      '',
      `  export KUBECONFIG=${state.kubeconfig}`,
      `  export PATH=${state.binDir}:$PATH`,
      '  kubectl get nodes',
      '',
      'Stop it with: npm run cluster:down',
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0), // do not wait for idle keep-alive sockets of the API client
  (err: unknown) => {
    process.stderr.write(`[cluster:up] ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
