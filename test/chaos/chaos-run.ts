// A chaos run: one checkpointed 4-stage job trains on the test cluster under 2 operator replicas while
// a seeded plan injects faults; at the end the job must have succeeded with the weights of an
// uninterrupted `pipetrain train`, one restart per restarting fault, and nothing left after deletion.
import type { ClusterClient } from '../cluster/control.ts';
import { freePort, pidAlive, sleep, waitFor } from '../cluster/util.ts';
import { API_GROUP, PLURAL } from '../../trainer/src/api/schema.ts';
import type { PipelineJobObject } from '../../operator/policy/job.ts';
import { checkpointedJob, claimCheckpoint, createJob, getJob, installCrd, isFinished, localDigest, stagePods } from '../e2e/operator/helpers.ts';
import { countKinds, planFaults, RESTARTING_KINDS, type FaultKind, type PlannedFault } from './fault-plan.ts';
import { INJECTORS, type InjectContext } from './inject.ts';
import { OperatorFleet } from './operator-fleet.ts';

export const JOB = 'chaos';
const STAGES = 4;
/**
 * Steps of the job. A fault takes 5-30 s to settle (a leader takeover waits out the 15 s Lease) and
 * the job trains on meanwhile at ~20 steps/s: 400 steps per fault keep the job running to the last one.
 */
const stepsFor = (faults: number): number => 200 + faults * 400;
/** How long one fault may take to settle (a restart's back-off grows to 60 s after 7 restarts). */
const SETTLE_MS = 240_000;

export interface ChaosOptions {
  faults: number;
  seed: number;
  log?: (line: string) => void;
}

export interface InjectedFault extends PlannedFault {
  /** status.step when it was injected. */
  injectedAtStep: number;
  detail: string;
  /** Restarts the fault was followed by (status.restarts after settling minus before). */
  restarts: number;
}

export interface ChaosResult {
  faults: number;
  faultKinds: Partial<Record<FaultKind, number>>;
  status: string;
  digestEqual: boolean;
  restarts: number;
  /** Faults of the restarting kinds: what restarts should equal. */
  expectedRestarts: number;
  /** pipetrain_restarts_total of the job, summed over every operator replica (scraped before each kill). */
  restartMetric: number;
  /** Sum of lastFailure.lostSteps over the restarts (the status keeps only the last failure). */
  lostSteps: number;
  lostStepsMetric: number;
  /** Per restart: stepAtFailure minus the checkpoint step the next attempt resumed from. */
  recomputedSteps: number;
  leftovers: string[];
  problems: string[];
  injected: InjectedFault[];
  seconds: number;
}

/** Polls the job in the background: the latest object, and each attempt's lastFailure. */
class JobWatch {
  latest: PipelineJobObject | undefined;
  readonly failures = new Map<number, { lostSteps?: number; stepAtFailure?: number }>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(client: ClusterClient, namespace: string) {
    this.loop = (async () => {
      while (this.running) {
        // The API server or etcd may be down for a while: keep the last answer.
        const job = await getJob(client, namespace, JOB).catch(() => undefined);
        if (job) {
          this.latest = job;
          const failure = job.status?.lastFailure;
          if (failure && failure.attempt !== undefined) this.failures.set(failure.attempt, { lostSteps: failure.lostSteps, stepAtFailure: failure.stepAtFailure });
        }
        await sleep(250);
      }
    })();
  }

  get step(): number {
    return this.latest?.status?.step ?? 0;
  }

  get restarts(): number {
    return this.latest?.status?.restarts ?? 0;
  }

  until(what: string, check: (job: PipelineJobObject) => boolean, timeoutMs = SETTLE_MS): Promise<PipelineJobObject> {
    return waitFor(`PipelineJob ${JOB} ${what}`, () => (this.latest && check(this.latest) ? this.latest : undefined), timeoutMs, 250);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Sums the job's series of `name` in a Prometheus text page. */
function sumSeries(text: string, name: string, namespace: string): number {
  const series = new RegExp(`^${name}\\{namespace="${namespace}",job="${JOB}"[^}]*\\} (\\S+)$`, 'gm');
  return [...text.matchAll(series)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** The last scrape of every replica, by identity: counters of a killed replica stay counted. */
class MetricsLedger {
  private readonly pages = new Map<string, string>();

  async scrape(fleet: OperatorFleet, identity: string): Promise<void> {
    const port = fleet.metricsPort(identity);
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => undefined);
    if (text !== undefined) this.pages.set(identity, text);
  }

  total(name: string, namespace: string): number {
    return [...this.pages.values()].reduce((sum, text) => sum + sumSeries(text, name, namespace), 0);
  }
}

/** Checkpoint steps the stage-0 pods resumed from, in start order, from their logs. */
function resumedSteps(client: ClusterClient, namespace: string): number[] {
  return client
    .allPodLogs(namespace, `${JOB}-stage-0`)
    .map((log) => /"message":"Resumed from checkpoint".*?"step":(\d+)/.exec(log)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number);
}

async function settle(watch: JobWatch, fault: PlannedFault, restartsBefore: number, stepBefore: number): Promise<void> {
  const finished = (j: PipelineJobObject) => isFinished(j);
  if (RESTARTING_KINDS.has(fault.kind)) {
    await watch.until('restarted', (j) => (j.status?.restarts ?? 0) > restartsBefore || finished(j));
    await watch.until('training again', (j) => (j.status?.phase === 'Running' && Boolean(j.status.lastFailure?.trainingAt)) || finished(j));
  } else {
    await watch.until('training on', (j) => (j.status?.phase === 'Running' && (j.status.step ?? 0) > stepBefore) || finished(j));
  }
}

/** What is left of the job after its deletion: pods, Secrets, Services, Leases, agent processes. */
async function leftoversAfterDelete(client: ClusterClient, namespace: string): Promise<string[]> {
  await client.kubectl(['delete', '-n', namespace, `${PLURAL}.${API_GROUP}`, JOB, '--wait=true', '--timeout=60s']);
  const selector = `pipetrain.io/job-name=${JOB}`;
  const find = async (): Promise<string[]> => {
    const pods = (await stagePods(client, namespace, JOB)).map((p) => `pod/${p.metadata?.name}`);
    const secrets = (await client.core.listNamespacedSecret({ namespace, labelSelector: selector })).items.map((s) => `secret/${s.metadata?.name}`);
    const services = (await client.core.listNamespacedService({ namespace, labelSelector: selector })).items.map((s) => `service/${s.metadata?.name}`);
    const leases = (await client.kubectl(['get', 'leases', '-n', namespace, '-l', selector, '-o', 'name'])).split('\n').filter(Boolean);
    const processes = (await client.agentPods()).filter((p) => p.key.startsWith(`${namespace}/${JOB}-`) && p.pid !== null && pidAlive(p.pid)).map((p) => `process ${p.pid} of ${p.key}`);
    return [...pods, ...secrets, ...services, ...leases, ...processes];
  };
  // Garbage collection and the agent's pod teardown take a few seconds.
  return waitFor('the job\'s children to be gone', async () => {
    const left = await find();
    return left.length === 0 ? left : undefined;
  }, 60_000, 500).catch(() => find());
}

/** Runs the chaos job in `namespace` (which must exist) of a running cluster. */
export async function runChaos(client: ClusterClient, namespace: string, options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const t0 = Date.now();
  const steps = stepsFor(options.faults);
  // Faults land in the first three quarters: the job trains on while a fault settles (a leader
  // takeover alone takes ~15 s, ~200 steps), and the last faults must still find it training.
  const plan = planFaults({ faults: options.faults, seed: options.seed, totalSteps: steps, firstStep: 10, lastGap: Math.floor(steps / 4) });
  const body = checkpointedJob(JOB, steps, (s) => {
    (s.pipeline as Record<string, unknown>).stages = STAGES;
    (s.training as Record<string, unknown>).logEverySteps = 1;
    // Larger batches than the tiny fixture's: slower steps, so faults land while it trains.
    (s.data as Record<string, unknown>).batchSize = 200;
    ((s.data as Record<string, unknown>).dataset as Record<string, unknown>).samples = 4000;
    s.failurePolicy = { maxRestarts: options.faults + 5, nodeFailureSeconds: 10 };
  });
  await installCrd(client);
  const fleet = new OperatorFleet(client, namespace, freePort);
  const ledger = new MetricsLedger();
  const problems: string[] = [];
  const injected: InjectedFault[] = [];
  let watch: JobWatch | undefined;
  try {
    await fleet.start();
    await fleet.start();
    log(`operators ${await fleet.leader()} (leader) and a standby; job ${namespace}/${JOB}: ${STAGES} stages, ${steps} steps; ${plan.length} faults, seed ${options.seed}`);
    await createJob(client, namespace, body);
    watch = new JobWatch(client, namespace);
    const ctx: InjectContext = {
      client, namespace, job: JOB, stages: STAGES, fleet,
      waitForRestart: async () => undefined,
      beforeOperatorKill: (identity) => ledger.scrape(fleet, identity),
    };
    for (const fault of plan) {
      const w = watch;
      await w.until(`at step ${fault.atStep}`, (j) => (j.status?.phase === 'Running' && (j.status.step ?? 0) >= fault.atStep) || isFinished(j));
      if (isFinished(w.latest!)) {
        problems.push(`the job finished before fault ${injected.length + 1} (${fault.kind} at step ${fault.atStep})`);
        break;
      }
      const restartsBefore = w.restarts;
      const stepBefore = w.step;
      ctx.waitForRestart = () => w.until('restarted', (j) => (j.status?.restarts ?? 0) > restartsBefore || isFinished(j)).then(() => undefined);
      const detail = await INJECTORS[fault.kind](fault, ctx).catch(async (err: unknown) => {
        // A pod that just exited because the job finished is not a failed injection.
        if (isFinished(await getJob(client, namespace, JOB))) return undefined;
        throw err;
      });
      if (detail === undefined) {
        problems.push(`the job finished while fault ${injected.length + 1} (${fault.kind}) was injected`);
        break;
      }
      await settle(w, fault, restartsBefore, stepBefore);
      const record = { ...fault, injectedAtStep: stepBefore, detail, restarts: w.restarts - restartsBefore };
      injected.push(record);
      log(`fault ${injected.length}/${plan.length} ${fault.kind} at step ${stepBefore}: ${detail}; restarts +${record.restarts}, now step ${w.step}`);
    }
    const done = await watch.until('finished', isFinished, 600_000);
    for (const identity of fleet.identities()) await ledger.scrape(fleet, identity);
    const checkpoint = await claimCheckpoint(client, namespace, JOB);
    // Trained here only now: local training occupies this process's event loop for a while.
    const digestEqual = checkpoint?.weightsSha256 === (await localDigest(body)) && checkpoint?.step === steps;
    const expectedRestarts = injected.filter((f) => RESTARTING_KINDS.has(f.kind)).length;
    const restarts = done.status?.restarts ?? 0;
    for (const f of injected) {
      const expected = RESTARTING_KINDS.has(f.kind) ? 1 : 0;
      if (f.restarts !== expected) problems.push(`${f.kind} at step ${f.injectedAtStep} was followed by ${f.restarts} restarts, expected ${expected}`);
    }
    const lostSteps = [...watch.failures.values()].reduce((sum, f) => sum + (f.lostSteps ?? 0), 0);
    const resumed = resumedSteps(client, namespace);
    const recomputedSteps = [...watch.failures.entries()]
      .sort(([a], [b]) => a - b)
      .reduce((sum, [attempt, f]) => sum + Math.max(0, (f.stepAtFailure ?? 0) - (resumed[attempt] ?? 0)), 0);
    const result: ChaosResult = {
      faults: injected.length,
      faultKinds: countKinds(injected),
      status: done.status?.phase ?? 'Unknown',
      digestEqual,
      restarts,
      expectedRestarts,
      restartMetric: ledger.total('pipetrain_restarts_total', namespace),
      lostSteps,
      lostStepsMetric: ledger.total('pipetrain_lost_steps_total', namespace),
      recomputedSteps,
      leftovers: [],
      problems,
      injected,
      seconds: 0,
    };
    if (watch.failures.size !== restarts) problems.push(`saw the lastFailure of ${watch.failures.size} of ${restarts} restarts`);
    if (resumed.length !== restarts) problems.push(`stage-0 logs show ${resumed.length} resumes for ${restarts} restarts`);
    if (lostSteps !== recomputedSteps) problems.push(`lostSteps ${lostSteps} != ${recomputedSteps} steps recomputed (stepAtFailure - resumed checkpoint)`);
    await watch.stop();
    watch = undefined;
    result.leftovers = await leftoversAfterDelete(client, namespace);
    result.seconds = Math.round((Date.now() - t0) / 1000);
    return result;
  } finally {
    await watch?.stop();
    await fleet.stopAll();
  }
}

/** Whether the run met every hard check (lostSteps is reported, not required: see docs/reliability.md). */
export function chaosPassed(r: ChaosResult, planned: number): boolean {
  return r.status === 'Succeeded' && r.digestEqual && r.faults === planned && r.restarts === r.expectedRestarts && r.restartMetric === r.restarts && r.leftovers.length === 0;
}
