// The schedule as data: an action is (stage, kind, micro-batch), with a compact text form such as
// '2F0' (stage 2, forward, micro-batch 0) that tests and logs use and that parses back exactly.
import { ScheduleError } from './errors.ts';

export type ScheduleKind = 'GPipe' | '1F1B';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['GPipe', '1F1B'];

export type ActionKind = 'F' | 'B' | 'SEND_F' | 'RECV_F' | 'SEND_B' | 'RECV_B' | 'OPT';
export const ACTION_KINDS: readonly ActionKind[] = ['F', 'B', 'SEND_F', 'RECV_F', 'SEND_B', 'RECV_B', 'OPT'];

export interface Action {
  readonly stage: number;
  readonly kind: ActionKind;
  /** Micro-batch index; null only for OPT, which acts on the whole step. */
  readonly microBatch: number | null;
}

/** Compute-only timetable: per stage, one entry per unit time slot; F/B actions or null (idle). */
export type ComputeTimetable = ReadonlyArray<ReadonlyArray<Action | null>>;

/** Executable program: per stage, the ordered action list including communication and the final OPT. */
export type StagePrograms = ReadonlyArray<ReadonlyArray<Action>>;

/** Builds an action; OPT ignores the micro-batch. */
export function action(stage: number, kind: ActionKind, microBatch: number | null = null): Action {
  return { stage, kind, microBatch: kind === 'OPT' ? null : microBatch };
}

/** Compact text: '2F0', '1B3', '0SEND_F2', '1RECV_B0', '3OPT'. */
export function formatAction(a: Action): string {
  return `${a.stage}${a.kind}${a.microBatch ?? ''}`;
}

// No leading zeros, so that parseAction(formatAction(a)) and formatAction(parseAction(t)) round-trip.
const ACTION_PATTERN = /^(0|[1-9]\d*)(SEND_F|RECV_F|SEND_B|RECV_B|OPT|F|B)(0|[1-9]\d*)?$/;

/** Inverse of formatAction; throws ScheduleError on anything else. */
export function parseAction(text: string): Action {
  const match = ACTION_PATTERN.exec(text);
  const [, stage, kind, microBatch] = match ?? [];
  const wantsMicroBatch = kind !== 'OPT';
  if (stage === undefined || kind === undefined || (microBatch !== undefined) !== wantsMicroBatch) {
    throw new ScheduleError(
      `Cannot parse action ${JSON.stringify(text)}: expected <stage><kind><micro-batch> such as 2F0, ` +
        `1RECV_B3 or 3OPT (kinds ${ACTION_KINDS.join(', ')}; OPT takes no micro-batch).`,
    );
  }
  return action(Number(stage), kind as ActionKind, microBatch === undefined ? null : Number(microBatch));
}

/** Parses a whitespace-separated list such as '1RECV_F0 1F0 1SEND_F0'; handy for programs in tests and logs. */
export function parseActions(text: string): Action[] {
  return text.split(/\s+/).filter((word) => word !== '').map(parseAction);
}
