// A chaos run's faults as plain data: which fault, at which training step, for how long, drawn from
// a seeded generator so a printed seed reproduces the schedule exactly.
import { seededRandom } from '../../trainer/src/model/seeds.ts';

export const FAULT_KINDS = [
  'stage-kill', // SIGKILL of one stage's process
  'stage-freeze', // SIGSTOP, then SIGCONT before the neighbours' 10 s silence limit
  'node-stop', // a node's agent stops (heartbeats off, its pods' processes killed), later starts again
  'pod-partition', // a stage pod's link taken down, healed after the pipeline restarted
  'slow-link', // a stage pod's egress limited to 1 Mbit/s with 400 ms of queue (tc tbf) for a while
  'operator-kill', // SIGKILL of the leading operator, started again at once (the standby may take over)
  'leader-kill', // SIGKILL of the leader while a second replica stands by; a new standby starts later
  'apiserver-restart', // kube-apiserver SIGKILLed, down for a few seconds, started again
  'etcd-restart', // etcd SIGKILLed, down for a few seconds, started again
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The faults that make the stages fail, so the operator restarts the pipeline once per fault. */
export const RESTARTING_KINDS: ReadonlySet<FaultKind> = new Set(['stage-kill', 'node-stop', 'pod-partition']);

export interface PlannedFault {
  kind: FaultKind;
  /** Injected once the job's status reports at least this step. */
  atStep: number;
  /** Which stage (pod) or node it hits, 0-based; the injector takes it modulo what exists. */
  target: number;
  /** How long a fault with a duration lasts (freeze, node down, slow link, component down), ms. */
  durationMs: number;
}

export interface PlanOptions {
  faults: number;
  seed: number;
  /** Steps of the job; faults land between firstStep and totalSteps - lastGap. */
  totalSteps: number;
  firstStep: number;
  lastGap: number;
  kinds?: readonly FaultKind[];
}

/**
 * N faults at distinct, ascending steps. Every kind of `kinds` occurs once before any repeats (when
 * N allows), in a seeded order, so a short run still covers many kinds.
 */
export function planFaults(options: PlanOptions): PlannedFault[] {
  const { faults, seed, totalSteps, firstStep, lastGap } = options;
  const kinds = options.kinds ?? FAULT_KINDS;
  if (!Number.isInteger(faults) || faults < 0) throw new Error(`--faults must be a whole number >= 0; got ${faults}`);
  if (kinds.length === 0) throw new Error('no fault kinds to choose from');
  const span = totalSteps - lastGap - firstStep;
  if (faults > 0 && span < faults) throw new Error(`${faults} faults do not fit between step ${firstStep} and ${totalSteps - lastGap}`);
  const random = seededRandom(seed);
  const steps = new Set<number>();
  while (steps.size < faults) steps.add(firstStep + Math.floor(random() * span));
  const order: FaultKind[] = [];
  while (order.length < faults) order.push(...shuffle([...kinds], random));
  return [...steps]
    .sort((a, b) => a - b)
    .map((atStep, i) => ({
      kind: order[i]!,
      atStep,
      target: Math.floor(random() * 1024),
      durationMs: 2000 + Math.floor(random() * 4) * 1000,
    }));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** How many faults of each kind a plan holds. */
export function countKinds(plan: readonly PlannedFault[]): Partial<Record<FaultKind, number>> {
  const counts: Partial<Record<FaultKind, number>> = {};
  for (const fault of plan) counts[fault.kind] = (counts[fault.kind] ?? 0) + 1;
  return counts;
}
