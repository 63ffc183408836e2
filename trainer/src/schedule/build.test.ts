import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActions, type ScheduleKind } from './action.ts';
import { assertValidPrograms, buildPrograms, buildTimetable, idealBubbleFraction } from './build.ts';
import { ScheduleError } from './errors.ts';
import { gpipe } from './gpipe.ts';
import { lowerToPrograms } from './lower.ts';
import { oneFOneB } from './one-f-one-b.ts';

void test('buildTimetable picks the builder by name', () => {
  assert.deepEqual(buildTimetable('GPipe', 3, 5), gpipe(3, 5));
  assert.deepEqual(buildTimetable('1F1B', 3, 5), oneFOneB(3, 5));
});

void test('buildTimetable rejects an unknown schedule name', () => {
  assert.throws(() => buildTimetable('1f1b' as ScheduleKind, 2, 2), /Unknown schedule "1f1b"; expected one of GPipe, 1F1B/);
});

void test('buildPrograms lowers the timetable and ends every stage with OPT', () => {
  const programs = buildPrograms('1F1B', 4, 6);
  assert.deepEqual(programs, lowerToPrograms(oneFOneB(4, 6)));
  assert.ok(programs.every((program, stage) => program.at(-1)?.kind === 'OPT' && program.every((a) => a.stage === stage)));
});

void test('assertValidPrograms throws a ScheduleError listing errors, with the first one marked in the grid', () => {
  const programs = [parseActions('0F0 0SEND_F0 0RECV_B0 0B0 0OPT'), parseActions('1F0 1B0 1SEND_B0 1OPT')];
  assert.throws(
    () => assertValidPrograms(programs, 1),
    (error: unknown) => {
      assert.ok(error instanceof ScheduleError);
      assert.match(error.message, /Invalid stage programs:\n {2}stage 1, action #0 1F0: forward before receiving its activation 1RECV_F0/);
      assert.match(error.grid ?? '', /rank1 +\[1F0\] +1B0/);
      assert.ok(error.message.endsWith(error.grid ?? 'no grid'));
      return true;
    },
  );
});

void test('idealBubbleFraction is (p-1)/(m+p-1)', () => {
  assert.equal(idealBubbleFraction(3, 4), 2 / 6);
  assert.equal(idealBubbleFraction(1, 7), 0);
  assert.equal(idealBubbleFraction(4, 16).toFixed(3), '0.158'); // pipeline.md §1: p=4, m=16 -> 15.8 %
});
