// Lowering pass: from the compute timetable to one executable action list per stage. Each receive is
// placed right before the compute that needs it and each send right after the compute that produced
// it; sends are buffered by the transport, so this order cannot deadlock when the timetable is valid.
import { action, type Action, type ComputeTimetable, type StagePrograms } from './action.ts';

export function lowerToPrograms(timetable: ComputeTimetable): StagePrograms {
  const last = timetable.length - 1;
  return timetable.map((row, stage) => [
    ...row.flatMap((a) => (a === null ? [] : lowerCompute(a, stage, last))),
    action(stage, 'OPT'),
  ]);
}

/** Wraps one F or B in the communication it needs on this stage. */
function lowerCompute(a: Action, stage: number, last: number): Action[] {
  const mb = a.microBatch;
  if (a.kind === 'F') {
    return [
      ...(stage > 0 ? [action(stage, 'RECV_F', mb)] : []), // activation from the previous stage
      a,
      ...(stage < last ? [action(stage, 'SEND_F', mb)] : []), // activation to the next stage
    ];
  }
  if (a.kind === 'B') {
    return [
      ...(stage < last ? [action(stage, 'RECV_B', mb)] : []), // output gradient from the next stage
      a,
      ...(stage > 0 ? [action(stage, 'SEND_B', mb)] : []), // input gradient to the previous stage
    ];
  }
  return [a]; // A timetable holds only F and B; anything else is passed through for the validator to judge.
}
