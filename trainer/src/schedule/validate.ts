// Validator for stage programs: per-stage rules, cross-stage pairing, then a deadlock check by
// simulation. The deadlock check only runs on structurally sound programs, because a missing receive
// would otherwise be reported twice (once as unpaired, once as a deadlock).
import type { StagePrograms } from './action.ts';
import { UNIT_COSTS } from './costs.ts';
import { DeadlockError } from './errors.ts';
import { formatIssue, issue, type ValidationIssue } from './issues.ts';
import { simulate } from './simulate.ts';
import { checkPairing } from './validate-pairing.ts';
import { checkStage } from './validate-stage.ts';

export interface ValidationResult {
  ok: boolean;
  /** One line per problem, naming stage, action and reason. */
  errors: string[];
  /** The same problems, structured (for marking the grid). */
  issues: ValidationIssue[];
}

/** `backwardFree`: leading stages that must have no backward at all (frozen.ts). */
export function validatePrograms(programs: StagePrograms, microBatches: number, backwardFree = 0): ValidationResult {
  const issues = [...checkArguments(programs, microBatches)];
  if (issues.length === 0) {
    issues.push(...programs.flatMap((program, stage) => checkStage(program, stage, programs.length, microBatches, stage < backwardFree)));
    issues.push(...checkPairing(programs));
  }
  if (issues.length === 0) issues.push(...checkDeadlock(programs));
  return { ok: issues.length === 0, errors: issues.map(formatIssue), issues };
}

function checkArguments(programs: StagePrograms, microBatches: number): ValidationIssue[] {
  if (programs.length === 0) return [issue(null, null, null, 'there must be at least one stage')];
  if (!Number.isSafeInteger(microBatches) || microBatches < 1) {
    return [issue(null, null, null, `microBatches must be an integer >= 1, got ${microBatches}`)];
  }
  return [];
}

/** Replays with unit costs and buffered sends; any cycle of receives shows up as a deadlock. */
function checkDeadlock(programs: StagePrograms): ValidationIssue[] {
  try {
    simulate(programs, UNIT_COSTS);
    return [];
  } catch (error) {
    if (!(error instanceof DeadlockError)) throw error;
    return error.blocked.map((b) => issue(b.stage, b.index, programs[b.stage]?.[b.index] ?? null, `deadlock: ${b.reason}`));
  }
}
