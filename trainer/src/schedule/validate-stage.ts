// Checks of one stage program on its own: fields, order of dependent actions, completeness, OPT.
import { action, formatAction, type Action, type ActionKind } from './action.ts';
import { issue, type ValidationIssue } from './issues.ts';

/** Where a stage sits in the pipeline decides which communication it may have. */
interface Position {
  readonly stage: number;
  readonly last: number;
  readonly microBatches: number;
  /** A frozen leading stage (schedule/frozen.ts): forwards only, no backward traffic. */
  readonly backwardFree: boolean;
}

export function checkStage(program: readonly Action[], stage: number, stages: number, microBatches: number, backwardFree = false): ValidationIssue[] {
  const at: Position = { stage, last: stages - 1, microBatches, backwardFree };
  return [
    ...program.flatMap((a, index) => checkFields(a, index, at)),
    ...checkOrder(program, at),
    ...checkComplete(program, at),
    ...checkOptimizer(program, at),
  ];
}

function checkFields(a: Action, index: number, at: Position): ValidationIssue[] {
  const found: ValidationIssue[] = [];
  const report = (reason: string) => found.push(issue(at.stage, index, a, reason));
  if (a.stage !== at.stage) report(`belongs to stage ${a.stage} but sits in the program of stage ${at.stage}`);
  if (a.kind === 'OPT' && a.microBatch !== null) report('OPT must not name a micro-batch');
  if (a.kind !== 'OPT' && !isMicroBatch(a.microBatch, at.microBatches)) {
    report(`micro-batch ${a.microBatch} is not an integer in 0..${at.microBatches - 1}`);
  }
  if ((a.kind === 'RECV_F' || a.kind === 'SEND_B') && at.stage === 0) report('the first stage has no previous stage to talk to');
  if ((a.kind === 'SEND_F' || a.kind === 'RECV_B') && at.stage === at.last) report('the last stage has no next stage to talk to');
  if ((a.kind === 'B' || a.kind === 'RECV_B' || a.kind === 'SEND_B') && at.backwardFree) report('a frozen leading stage has nothing to train and runs no backward');
  return found;
}

function isMicroBatch(mb: number | null, microBatches: number): boolean {
  return mb !== null && Number.isInteger(mb) && mb >= 0 && mb < microBatches;
}

/** An action that needs an earlier one on the same stage (for the same micro-batch). */
interface Prerequisite {
  readonly needs: ActionKind;
  readonly applies: (at: Position) => boolean;
  readonly reason: string;
}

const always = () => true;
const PREREQUISITES: Partial<Record<ActionKind, readonly Prerequisite[]>> = {
  F: [{ needs: 'RECV_F', applies: (at) => at.stage > 0, reason: 'forward before receiving its activation' }],
  B: [
    { needs: 'F', applies: always, reason: 'backward before its forward' },
    { needs: 'RECV_B', applies: (at) => at.stage < at.last, reason: 'backward before receiving its output gradient' },
  ],
  SEND_F: [{ needs: 'F', applies: always, reason: 'sends an activation before the forward that produces it' }],
  SEND_B: [{ needs: 'B', applies: always, reason: 'sends an input gradient before the backward that produces it' }],
};

function checkOrder(program: readonly Action[], at: Position): ValidationIssue[] {
  const found: ValidationIssue[] = [];
  const seen = new Set<string>();
  program.forEach((a, index) => {
    for (const rule of PREREQUISITES[a.kind] ?? []) {
      const needed = action(at.stage, rule.needs, a.microBatch);
      if (rule.applies(at) && !seen.has(key(needed))) found.push(issue(at.stage, index, a, `${rule.reason} ${formatAction(needed)}`));
    }
    // A second F or B of one micro-batch would double its gradient contribution.
    if ((a.kind === 'F' || a.kind === 'B') && seen.has(key(a))) found.push(issue(at.stage, index, a, 'duplicate: this micro-batch ran already'));
    seen.add(key(a));
  });
  return found;
}

/** Keyed by kind and micro-batch only: a wrong stage field is reported once, by checkFields. */
function key(a: Action): string {
  return `${a.kind} ${a.microBatch}`;
}

function checkComplete(program: readonly Action[], at: Position): ValidationIssue[] {
  const present = new Set(program.map(key));
  const found: ValidationIssue[] = [];
  for (let mb = 0; mb < at.microBatches; mb++) {
    for (const kind of at.backwardFree ? (['F'] as const) : (['F', 'B'] as const)) {
      const expected = action(at.stage, kind, mb);
      if (!present.has(key(expected))) found.push(issue(at.stage, null, expected, `every stage needs one ${kind} per micro-batch 0..${at.microBatches - 1}`));
    }
  }
  return found;
}

function checkOptimizer(program: readonly Action[], at: Position): ValidationIssue[] {
  const steps = program.flatMap((a, index) => (a.kind === 'OPT' ? [index] : []));
  if (steps.length === 0) return [issue(at.stage, null, action(at.stage, 'OPT'), 'every stage ends with one optimizer step')];
  // With several OPTs the extra ones are the error, not the position of the first.
  const report = (index: number, reason: string) => issue(at.stage, index, program[index] ?? null, reason);
  const extra = steps.slice(1);
  if (extra.length > 0) return extra.map((index) => report(index, 'second optimizer step in one training step'));
  const first = steps[0] ?? 0;
  return first === program.length - 1 ? [] : [report(first, 'OPT must be the last action, after every backward')];
}
