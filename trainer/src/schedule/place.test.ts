import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActions } from './action.ts';
import { DeadlockError } from './errors.ts';
import { placeInSlots } from './place.ts';
import { renderGrid } from './grid.ts';

void test('placeInSlots puts each action in the earliest slot its dependencies allow', () => {
  const timetable = placeInSlots([parseActions('0F0 0F1 0B0 0B1'), parseActions('1F0 1B0 1F1 1B1')]);
  assert.equal(
    renderGrid(timetable),
    ['step     0   1   2   3   4   5', 'rank0  0F0 0F1  .  0B0  .  0B1', 'rank1   .  1F0 1B0 1F1 1B1  .'].join('\n'),
  );
});

void test('placeInSlots pads finished stages with idle slots up to the makespan', () => {
  const timetable = placeInSlots([parseActions('0F0 0B0'), parseActions('1F0 1B0')]);
  assert.deepEqual(timetable.map((row) => row.length), [4, 4]);
  assert.equal(timetable[1]?.[3], null);
});

void test('placeInSlots throws a DeadlockError with the grid when orders wait on each other', () => {
  // Stage 0 wants 0B0 (needs 1B0) before 0F0 could feed stage 1.
  const orders = [parseActions('0B0 0F0'), parseActions('1F0 1B0')];
  assert.throws(
    () => placeInSlots(orders),
    (error: unknown) => {
      assert.ok(error instanceof DeadlockError);
      assert.match(error.message, /stage 0: 0B0 waits for 0F0 and 1B0/);
      assert.match(error.message, /stage 1: 1F0 waits for 0F0/);
      assert.deepEqual(error.blocked.map((b) => b.stage), [0, 1]);
      assert.match(error.grid ?? '', /rank0\s+\[\]/);
      return true;
    },
  );
});
