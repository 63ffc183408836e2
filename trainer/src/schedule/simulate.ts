// Replays stage programs with per-action durations. Sends are buffered (non-blocking): a message is
// available to its receiver `costs.send` after the SEND; a RECV waits for it. Every action's start time
// is fixed by data flow alone, so stages can be advanced in any order and the result is deterministic.
import { action, formatAction, type Action, type StagePrograms } from './action.ts';
import { durationOf, resolveCosts, type Costs, type StageCosts } from './costs.ts';
import { DeadlockError, type BlockedStage } from './errors.ts';
import { renderGrid } from './grid.ts';

export interface TimelineEntry {
  stage: number;
  action: Action;
  /** For a RECV, start is when the stage reached it and end when the message arrived (the wait). */
  start: number;
  end: number;
}

export interface SimulationResult {
  makespan: number;
  /** Sum of F/B/OPT durations per stage. */
  busy: number[];
  idle: number[];
  /** idle / makespan per stage. */
  bubbleFraction: number[];
  /** sum idle / (stages * makespan). */
  overallBubbleFraction: number;
  /** Max micro-batches forwarded but not yet backwarded, per stage (activation memory). */
  peakInFlight: number[];
  timeline: TimelineEntry[];
}

interface StageState {
  pc: number;
  clock: number;
  busy: number;
  inFlight: number;
  peakInFlight: number;
}

/** Availability times of sent messages not yet received, by link and micro-batch. */
type Mailbox = Map<string, number[]>;

/** Mutable state of one simulation run. */
interface Run {
  readonly programs: StagePrograms;
  readonly costs: StageCosts;
  readonly mailbox: Mailbox;
  readonly states: StageState[];
  readonly timeline: TimelineEntry[];
}

export function simulate(programs: StagePrograms, costs: Costs): SimulationResult {
  const run: Run = {
    programs,
    costs: resolveCosts(costs, programs.length),
    mailbox: new Map(),
    states: programs.map(() => ({ pc: 0, clock: 0, busy: 0, inFlight: 0, peakInFlight: 0 })),
    timeline: [],
  };
  // Run each stage as far as it can; repeat while any stage moved (a send may unblock a receiver).
  for (let moved = true; moved; ) {
    moved = false;
    for (let stage = 0; stage < programs.length; stage++) {
      while (step(run, stage)) moved = true;
    }
  }
  const blocked = blockedStages(programs, run.states);
  if (blocked.length > 0) throw deadlock(programs, blocked);
  return summarize(run.states, run.timeline);
}

/** Executes the next action of one stage; false when the stage is done or waits for a message. */
function step(run: Run, stage: number): boolean {
  const state = run.states[stage];
  const a = state === undefined ? undefined : run.programs[stage]?.[state.pc];
  if (state === undefined || a === undefined) return false;
  const start = state.clock;
  if (a.kind === 'RECV_F' || a.kind === 'RECV_B') {
    const available = run.mailbox.get(linkKey(a, stage))?.shift();
    if (available === undefined) return false;
    state.clock = Math.max(state.clock, available);
  } else if (a.kind === 'SEND_F' || a.kind === 'SEND_B') {
    post(run.mailbox, linkKey(a, stage), state.clock + run.costs.send);
  } else {
    const duration = durationOf(a, stage, run.costs);
    state.clock += duration;
    state.busy += duration;
    trackInFlight(state, a);
  }
  state.pc += 1;
  run.timeline.push({ stage, action: a, start, end: state.clock });
  return true;
}

function trackInFlight(state: StageState, a: Action): void {
  if (a.kind === 'F') state.inFlight += 1;
  if (a.kind === 'B') state.inFlight -= 1;
  state.peakInFlight = Math.max(state.peakInFlight, state.inFlight);
}

/** Names the message by direction, sending stage and micro-batch, the same for the SEND and its RECV. */
function linkKey(a: Action, stage: number): string {
  const from = a.kind === 'RECV_F' ? stage - 1 : a.kind === 'RECV_B' ? stage + 1 : stage;
  const direction = a.kind.endsWith('_F') ? 'F' : 'B';
  return `${direction} from ${from} mb ${a.microBatch}`;
}

/** Keeps each queue sorted so a receiver takes the earliest copy if a message was sent twice. */
function post(mailbox: Mailbox, key: string, time: number): void {
  const queue = mailbox.get(key) ?? [];
  queue.push(time);
  queue.sort((x, y) => x - y);
  mailbox.set(key, queue);
}

function blockedStages(programs: StagePrograms, states: readonly StageState[]): BlockedStage[] {
  const blocked: BlockedStage[] = [];
  programs.forEach((program, stage) => {
    const index = states[stage]?.pc ?? 0;
    const a = program[index];
    if (a !== undefined) blocked.push({ stage, index, reason: waitReason(a, stage, programs, states) });
  });
  return blocked;
}

function waitReason(a: Action, stage: number, programs: StagePrograms, states: readonly StageState[]): string {
  const from = a.kind === 'RECV_F' ? stage - 1 : stage + 1;
  const sender = formatAction(action(from, a.kind === 'RECV_F' ? 'SEND_F' : 'SEND_B', a.microBatch));
  const senderNext = programs[from]?.[states[from]?.pc ?? 0];
  const why = senderNext === undefined ? `stage ${from} never sends it` : `stage ${from} is itself waiting at ${formatAction(senderNext)}`;
  return `waits for ${sender}, but ${why}`;
}

function deadlock(programs: StagePrograms, blocked: readonly BlockedStage[]): DeadlockError {
  const first = blocked[0];
  const grid = renderGrid(programs, first === undefined ? undefined : { stage: first.stage, slot: first.index });
  const detail = blocked.map((b) => `stage ${b.stage}, action #${b.index} ${cellName(programs, b)}: ${b.reason}`).join('; ');
  return new DeadlockError(`Deadlock: no stage can progress. ${detail}`, blocked, grid);
}

function cellName(programs: StagePrograms, b: BlockedStage): string {
  const a = programs[b.stage]?.[b.index];
  return a === undefined ? '?' : formatAction(a);
}

function summarize(states: readonly StageState[], timeline: TimelineEntry[]): SimulationResult {
  const makespan = Math.max(0, ...states.map((s) => s.clock));
  const busy = states.map((s) => s.busy);
  const idle = busy.map((b) => makespan - b);
  const totalIdle = idle.reduce((sum, x) => sum + x, 0);
  // Stable sort keeps each stage's zero-duration actions in program order.
  timeline.sort((x, y) => x.start - y.start || x.stage - y.stage);
  return {
    makespan,
    busy,
    idle,
    bubbleFraction: idle.map((x) => (makespan > 0 ? x / makespan : 0)),
    overallBubbleFraction: makespan > 0 ? totalIdle / (states.length * makespan) : 0,
    peakInFlight: states.map((s) => s.peakInFlight),
    timeline,
  };
}
