// npm run cluster:down — stops the cluster started by `cluster:up` and removes everything it created
// (processes, network namespaces, the bridge, /etc/netns entries, the state directory), plus whatever
// killed test runs left behind.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cleanupStale, stopCluster } from './cluster.ts';
import { currentClusterFile, readState } from './state.ts';
import { errorMessage } from './util.ts';

async function main(): Promise<void> {
  const log = (line: string): void => {
    process.stderr.write(`[cluster:down] ${line}\n`);
  };
  const pointer = currentClusterFile();
  if (existsSync(pointer)) {
    const stateDir = readFileSync(pointer, 'utf8').trim();
    if (existsSync(stateDir)) {
      const state = readState(stateDir);
      log(`stopping cluster ${state.runId}`);
      const t0 = Date.now();
      await stopCluster(state);
      log(`stopped in ${Date.now() - t0} ms`);
    }
    rmSync(pointer, { force: true });
  }
  const stale = await cleanupStale({ includePersistent: true, log });
  log(stale.length ? `also removed stale runs: ${stale.join(', ')}` : 'nothing else left behind');
}

main().then(
  () => process.exit(0), // do not wait for idle keep-alive sockets of the API client
  (err: unknown) => {
    process.stderr.write(`[cluster:down] ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
