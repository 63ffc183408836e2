// One validation finding, kept structured so callers can mark the cell in the grid, and its text form.
import { formatAction, type Action } from './action.ts';

export interface ValidationIssue {
  /** Stage whose program is wrong; null for a problem with the arguments as a whole. */
  readonly stage: number | null;
  /** Index of the offending action in the stage program; null when the action is missing. */
  readonly index: number | null;
  readonly action: Action | null;
  readonly reason: string;
}

export function issue(stage: number | null, index: number | null, action: Action | null, reason: string): ValidationIssue {
  return { stage, index, action, reason };
}

/** 'stage 1, action #4 1B0: ...', 'stage 2, missing 2F3: ...' or 'programs: ...'. */
export function formatIssue(i: ValidationIssue): string {
  if (i.stage === null) return `programs: ${i.reason}`;
  const text = i.action === null ? '' : formatAction(i.action);
  if (i.index === null) return text === '' ? `stage ${i.stage}: ${i.reason}` : `stage ${i.stage}, missing ${text}: ${i.reason}`;
  return `stage ${i.stage}, action #${i.index} ${text}: ${i.reason}`;
}
