// Turns per-stage compute orders into a unit-slot timetable. Each action goes into the earliest slot
// after its stage's previous action and after the actions it needs on the neighbour stages, so the
// idle slots in the result are exactly the ones a dependency forces.
import { formatAction, type Action, type ComputeTimetable } from './action.ts';
import { DeadlockError, type BlockedStage } from './errors.ts';
import { renderGrid } from './grid.ts';

/** Micro-batch data flow: F(s) needs F(s-1); B(s) needs B(s+1) and F(s). */
function dependencies(a: Action, stages: number): Action[] {
  const mb = a.microBatch;
  if (a.kind === 'F') return a.stage > 0 ? [{ stage: a.stage - 1, kind: 'F', microBatch: mb }] : [];
  if (a.kind !== 'B') return [];
  const own: Action = { stage: a.stage, kind: 'F', microBatch: mb };
  return a.stage < stages - 1 ? [own, { stage: a.stage + 1, kind: 'B', microBatch: mb }] : [own];
}

/**
 * Places `orders[s]` (F/B actions of stage s, in execution order) into unit time slots.
 * Throws DeadlockError when the orders wait on each other in a cycle.
 */
export function placeInSlots(orders: ReadonlyArray<ReadonlyArray<Action>>): ComputeTimetable {
  const stages = orders.length;
  const slotOf = new Map<string, number>();
  const rows: Array<Array<Action | null>> = orders.map(() => []);
  const next = orders.map(() => 0);
  for (let slot = 0; next.some((i, s) => i < (orders[s]?.length ?? 0)); slot++) {
    // Decide every stage against the state before this slot, so the result is independent of stage order.
    const ready = orders.map((order, s) => {
      const a = order[next[s] ?? 0];
      const done = (d: Action) => (slotOf.get(formatAction(d)) ?? slot) < slot;
      return a !== undefined && dependencies(a, stages).every(done) ? a : null;
    });
    if (ready.every((a) => a === null)) throw deadlock(orders, next, rows, new Set(slotOf.keys()));
    ready.forEach((a, s) => {
      rows[s]?.push(a);
      if (a === null) return;
      slotOf.set(formatAction(a), slot);
      next[s] = (next[s] ?? 0) + 1;
    });
  }
  // Finished stages got a null per slot, so every row is as long as the makespan.
  return rows;
}

function deadlock(
  orders: ReadonlyArray<ReadonlyArray<Action>>,
  next: number[],
  rows: Array<Array<Action | null>>,
  placed: ReadonlySet<string>,
): DeadlockError {
  const blocked: BlockedStage[] = [];
  orders.forEach((order, stage) => {
    const a = order[next[stage] ?? 0];
    if (a === undefined) return;
    const missing = dependencies(a, orders.length).filter((d) => !placed.has(formatAction(d)));
    blocked.push({ stage, index: next[stage] ?? 0, reason: `${formatAction(a)} waits for ${missing.map(formatAction).join(' and ')}` });
  });
  const first = blocked[0];
  const slot = Math.max(0, ...rows.map((row) => row.length));
  const grid = renderGrid(rows, first === undefined ? undefined : { stage: first.stage, slot });
  const detail = blocked.map((b) => `stage ${b.stage}: ${b.reason}`).join('; ');
  return new DeadlockError(`Compute orders deadlock at slot ${slot}: ${detail}`, blocked, grid);
}
