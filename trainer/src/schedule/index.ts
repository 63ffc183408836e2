// Public surface of the schedule module: the schedule as plain data (pipeline.md §4). No tfjs here,
// so everything is unit-tested in milliseconds. Anything not exported here is private.
export {
  ACTION_KINDS,
  SCHEDULE_KINDS,
  action,
  formatAction,
  parseAction,
  parseActions,
  type Action,
  type ActionKind,
  type ComputeTimetable,
  type ScheduleKind,
  type StagePrograms,
} from './action.ts';
export { assertValidPrograms, buildPrograms, buildTimetable, idealBubbleFraction } from './build.ts';
export { UNIT_COSTS, type Costs } from './costs.ts';
export { DeadlockError, ScheduleError, type BlockedStage } from './errors.ts';
export { dropFrozenBackward } from './frozen.ts';
export { gpipe } from './gpipe.ts';
export { renderGrid, type GridMark } from './grid.ts';
export { formatIssue, type ValidationIssue } from './issues.ts';
export { lowerToPrograms } from './lower.ts';
export { oneFOneB } from './one-f-one-b.ts';
export { simulate, type SimulationResult, type TimelineEntry } from './simulate.ts';
export { validatePrograms, type ValidationResult } from './validate.ts';
