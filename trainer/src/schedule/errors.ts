// Errors of the schedule module. Both carry the step x stage grid, because a schedule bug is far
// easier to see in the grid than in a list of actions.

/** A schedule, program or cost table is invalid. `grid` is the rendered grid with the failing cell marked. */
export class ScheduleError extends Error {
  override readonly name: string = 'ScheduleError';
  readonly grid: string | undefined;

  constructor(message: string, grid?: string) {
    // The grid goes into the message too, so an uncaught error still shows it.
    super(grid === undefined ? message : `${message}\n${grid}`);
    this.grid = grid;
  }
}

/** Where one stage is stuck when a program deadlocks. */
export interface BlockedStage {
  readonly stage: number;
  /** Index of the blocking action in the stage's program. */
  readonly index: number;
  readonly reason: string;
}

/** No stage can make progress although some still have actions left. */
export class DeadlockError extends ScheduleError {
  override readonly name: string = 'DeadlockError';
  readonly blocked: readonly BlockedStage[];

  constructor(message: string, blocked: readonly BlockedStage[], grid?: string) {
    super(message, grid);
    this.blocked = blocked;
  }
}
