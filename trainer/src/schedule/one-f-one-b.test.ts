import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAction } from './action.ts';
import { ScheduleError } from './errors.ts';
import { renderGrid } from './grid.ts';
import { oneFOneB, oneFOneBOrder, warmupForwards } from './one-f-one-b.ts';
import { computeOrder, microBatchOrder, range, shapes } from '../../../test/support/schedule-helpers.ts';

void test('1F1B p=3 m=4 is exactly the grid of pipeline.md §4', () => {
  assert.equal(
    renderGrid(oneFOneB(3, 4)),
    [
      'step     0   1   2   3   4   5   6   7   8   9  10  11',
      'rank0  0F0 0F1 0F2  .   .  0B0 0F3 0B1  .  0B2  .  0B3',
      'rank1   .  1F0 1F1  .  1B0 1F2 1B1 1F3 1B2  .  1B3  .',
      'rank2   .   .  2F0 2B0 2F1 2B1 2F2 2B2 2F3 2B3  .   .',
    ].join('\n'),
  );
});

void test('warm-up is p-s-1 forwards, capped at m', () => {
  assert.deepEqual(range(4).map((s) => warmupForwards(s, 4, 8)), [3, 2, 1, 0]);
  assert.deepEqual(range(4).map((s) => warmupForwards(s, 4, 2)), [2, 2, 1, 0]);
});

void test('oneFOneBOrder: warm-up, then one forward one backward, then cool-down', () => {
  assert.deepEqual(oneFOneBOrder(0, 3, 4).map(formatAction), ['0F0', '0F1', '0F2', '0B0', '0F3', '0B1', '0B2', '0B3']);
  assert.deepEqual(oneFOneBOrder(2, 3, 4).map(formatAction), ['2F0', '2B0', '2F1', '2B1', '2F2', '2B2', '2F3', '2B3']);
});

void test('1F1B works with fewer micro-batches than stages', () => {
  assert.equal(
    renderGrid(oneFOneB(4, 2)),
    [
      'step     0   1   2   3   4   5   6   7   8   9',
      'rank0  0F0 0F1  .   .   .   .   .  0B0  .  0B1',
      'rank1   .  1F0 1F1  .   .   .  1B0  .  1B1  .',
      'rank2   .   .  2F0 2F1  .  2B0  .  2B1  .   .',
      'rank3   .   .   .  3F0 3B0 3F1 3B1  .   .   .',
    ].join('\n'),
  );
});

void test('1F1B with one stage alternates forward and backward', () => {
  assert.deepEqual(computeOrder(oneFOneB(1, 3), 0), ['0F0', '0B0', '0F1', '0B1', '0F2', '0B2']);
});

void test('1F1B takes 2(m+p-1) slots with ascending backwards on every stage', () => {
  for (const [p, m] of shapes(6, 8)) {
    const timetable = oneFOneB(p, m);
    for (const stage of range(p)) {
      assert.equal(timetable[stage]?.length, 2 * (m + p - 1), `p=${p} m=${m}`);
      assert.deepEqual(microBatchOrder(timetable, stage, 'F'), range(m));
      assert.deepEqual(microBatchOrder(timetable, stage, 'B'), range(m), `p=${p} m=${m} stage=${stage}`);
    }
  }
});

void test('1F1B rejects a bad shape', () => {
  assert.throws(() => oneFOneB(3, 0), ScheduleError);
  assert.throws(() => oneFOneB(Number.NaN, 2), /stages must be an integer >= 1/);
});
