// Step x stage grid, the one picture that makes a schedule (or its bug) obvious. Layout follows
// pipeline.md §4: a 'step' header, one 'rankN' row per stage, '.' for an idle slot.
import { formatAction, type Action } from './action.ts';

export interface GridMark {
  readonly stage: number;
  readonly slot: number;
}

const IDLE = '.';

/**
 * Renders a timetable (or a stage program list, which has the same shape) as text.
 * The marked cell is wrapped in [brackets]; rows shorter than the longest row are padded with blanks.
 */
export function renderGrid(rows: ReadonlyArray<ReadonlyArray<Action | null>>, mark?: GridMark): string {
  const slots = Math.max(0, ...rows.map((row) => row.length), mark === undefined ? 0 : mark.slot + 1);
  const cells = rows.map((row, stage) => range(slots).map((slot) => cellText(row, stage, slot, mark)));
  const width = Math.max(3, String(slots - 1).length, ...cells.flat().map((text) => text.length));
  const labels = ['step', ...rows.map((_, stage) => `rank${stage}`)];
  const labelWidth = Math.max(...labels.map((label) => label.length)) + 1;
  const header = range(slots).map((slot) => String(slot).padStart(width));
  const lines = [header, ...cells.map((row) => row.map((text) => alignCell(text, width)))];
  return lines.map((line, i) => `${(labels[i] ?? '').padEnd(labelWidth)} ${line.join(' ')}`.trimEnd()).join('\n');
}

function cellText(row: ReadonlyArray<Action | null>, stage: number, slot: number, mark?: GridMark): string {
  // Slots past the end of a row are blank, not idle: they do not exist in that program.
  const text = slot >= row.length ? '' : formatCell(row[slot] ?? null);
  const marked = mark !== undefined && mark.stage === stage && mark.slot === slot;
  return marked ? `[${text}]` : text;
}

function formatCell(a: Action | null): string {
  return a === null ? IDLE : formatAction(a);
}

/** Actions are right-aligned like the step numbers; the idle dot is centred so it reads as a gap. */
function alignCell(text: string, width: number): string {
  if (text !== IDLE) return text.padStart(width);
  const left = Math.floor((width - 1) / 2);
  return (' '.repeat(left) + text).padEnd(width);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
