// Test helper: runs a real Prometheus (Debian's `prometheus` package, 2.42; ecosystem.md §6) on
// loopback that scrapes the given targets every second, and queries it over the HTTP API.
// Its own log goes to a file and is shown only in error messages. Reused by dashboard/operator tests.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian puts the binary. */
export const DEFAULT_PROMETHEUS_BIN = '/usr/bin/prometheus';
export const INSTALL_HINT =
  "Install Debian's prometheus package (it provides /usr/bin/prometheus and /usr/bin/promtool): " +
  'sudo apt-get update && sudo apt-get install -y prometheus   (.ci/run does this in CI), ' +
  'or point PROMETHEUS_BIN at a Prometheus 2.x binary.';

/** One element of an instant-query result. Vector samples have `value`, matrix series `values`. */
export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as a string] */
  value?: [number, string];
  values?: Array<[number, string]>;
}

export interface PrometheusOptions {
  /** Prometheus binary. Default: $PROMETHEUS_BIN, else /usr/bin/prometheus. */
  binary?: string;
  /**
   * Keep the labels the target exposes when they clash with target labels (`job`, `instance`).
   * Prometheus's default (false) renames a scraped `job` label to `exported_job`. Default false.
   */
  honorLabels?: boolean;
  /** `job_name` of the scrape config (the `job` target label). Default `pipetrain-test`. */
  jobName?: string;
  /** How long to wait for Prometheus to become ready, ms. Default 30000. */
  startTimeoutMs?: number;
}

export interface RunningPrometheus {
  /** Base URL of the Prometheus HTTP API, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Runs an instant query; resolves with the result list (scalars and strings as one sample). */
  query(promql: string): Promise<PromSample[]>;
  /** Polls `promql` every 250 ms until `predicate(result)` holds; throws with diagnostics on timeout. */
  waitFor(promql: string, predicate: (result: PromSample[]) => boolean, timeoutMs: number): Promise<PromSample[]>;
  /** Prometheus's own log so far. */
  logs(): Promise<string>;
  /** Stops Prometheus and removes its config and storage. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (`host:port`, loopback) every second. Throws if the binary is missing. */
export async function startPrometheus(targets: string[], options: PrometheusOptions = {}): Promise<RunningPrometheus> {
  const binary = options.binary ?? process.env.PROMETHEUS_BIN ?? DEFAULT_PROMETHEUS_BIN;
  if (!existsSync(binary)) throw new Error(`Prometheus binary not found at ${binary}. ${INSTALL_HINT}`);
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-prometheus-'));
  try {
    const configFile = join(dir, 'prometheus.yml');
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [
        {
          job_name: options.jobName ?? 'pipetrain-test',
          honor_labels: options.honorLabels ?? false,
          static_configs: [{ targets }],
        },
      ],
    };
    // JSON is YAML, so no YAML library is needed.
    await writeFile(configFile, JSON.stringify(config, null, 2));
    return await launch(binary, dir, configFile, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(binary: string, dir: string, configFile: string, startTimeoutMs: number): Promise<RunningPrometheus> {
  const logFile = join(dir, 'prometheus.log');
  const logs = () => readFile(logFile, 'utf8').catch(() => '');
  // The free port may be taken between probing and binding: retry a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const fd = openSync(logFile, 'a');
    const child = spawn(
      binary,
      [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, 'data')}`],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(-1));
    });
    const halt = async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    };
    try {
      await waitReady(url, exited, startTimeoutMs);
      return makeRunning(url, dir, logs, halt);
    } catch (error) {
      const log = await logs();
      await halt();
      if (attempt < 3 && /address already in use/i.test(log)) continue;
      throw new Error(`${(error as Error).message}\n--- Prometheus log ---\n${tail(log)}`, { cause: error });
    }
  }
}

function makeRunning(url: string, dir: string, logs: () => Promise<string>, halt: () => Promise<void>): RunningPrometheus {
  let stopping: Promise<void> | undefined;
  const query = async (promql: string): Promise<PromSample[]> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success' || !body.data) throw new Error(`Query ${promql} failed (HTTP ${response.status}): ${body.error ?? 'no data'}`);
    const { resultType, result } = body.data;
    if (resultType === 'scalar' || resultType === 'string') return [{ metric: {}, value: result as [number, string] }];
    return result as PromSample[];
  };
  return {
    url,
    query,
    logs,
    async waitFor(promql, predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: PromSample[] | undefined;
      let lastError: unknown;
      while (Date.now() < deadline) {
        try {
          last = await query(promql);
          lastError = undefined;
          if (predicate(last)) return last;
        } catch (error) {
          lastError = error;
        }
        await sleep(250);
      }
      const targets = await fetch(`${url}/api/v1/targets`)
        .then((r) => r.text())
        .catch((error: unknown) => `(unavailable: ${String(error)})`);
      throw new Error(
        [
          `Timed out after ${timeoutMs} ms waiting for ${promql}.`,
          `Last result: ${JSON.stringify(last)}`,
          lastError === undefined ? '' : `Last error: ${String(lastError)}`,
          `Targets: ${targets}`,
          `--- Prometheus log ---\n${tail(await logs())}`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
    },
    stop() {
      stopping ??= (async () => {
        await halt();
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function waitReady(url: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`Prometheus exited with code ${exitCode} before becoming ready.`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`Prometheus did not become ready within ${timeoutMs} ms.`);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
