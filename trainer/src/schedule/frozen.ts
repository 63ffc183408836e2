// Lowering pass for frozen leading stages (fine-tuning): when stages 0..k-1 have nothing to train,
// no gradient is needed before stage k, so those stages run no backward (B, RECV_B, SEND_B go) and
// stage k sends no input gradient upstream (its SEND_B go). Every stage derives k from the same
// spec (model/trainable.ts), so both ends of each link agree on what crosses it. Without RECV_B,
// stages 0..k-1 would wait for nothing from downstream and run ahead; the norm exchange at OPT,
// which then runs even without clipping (train/norm-exchange.ts), keeps them one step ahead at most.
import type { Action, StagePrograms } from './action.ts';

/** Removes the backward traffic of the first `backwardFree` stages (0: programs unchanged). */
export function dropFrozenBackward(programs: StagePrograms, backwardFree: number): StagePrograms {
  if (backwardFree === 0) return programs;
  return programs.map((program, stage) => program.filter((a) => keeps(a, stage, backwardFree)));
}

function keeps(a: Action, stage: number, backwardFree: number): boolean {
  if (stage < backwardFree) return a.kind !== 'B' && a.kind !== 'RECV_B' && a.kind !== 'SEND_B';
  if (stage === backwardFree) return a.kind !== 'SEND_B';
  return true;
}
