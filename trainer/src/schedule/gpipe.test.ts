import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpipe, gpipeOrder } from './gpipe.ts';
import { renderGrid } from './grid.ts';
import { ScheduleError } from './errors.ts';
import { formatAction } from './action.ts';
import { computeOrder, microBatchOrder, range, shapes } from '../../../test/support/schedule-helpers.ts';

void test('gpipeOrder runs all forwards, then all backwards in ascending order', () => {
  assert.deepEqual(gpipeOrder(1, 3).map(formatAction), ['1F0', '1F1', '1F2', '1B0', '1B1', '1B2']);
});

void test('gpipe p=3 m=4 fills and drains the pipeline', () => {
  assert.equal(
    renderGrid(gpipe(3, 4)),
    [
      'step     0   1   2   3   4   5   6   7   8   9  10  11',
      'rank0  0F0 0F1 0F2 0F3  .   .   .   .  0B0 0B1 0B2 0B3',
      'rank1   .  1F0 1F1 1F2 1F3  .   .  1B0 1B1 1B2 1B3  .',
      'rank2   .   .  2F0 2F1 2F2 2F3 2B0 2B1 2B2 2B3  .   .',
    ].join('\n'),
  );
});

void test('gpipe takes 2(m+p-1) slots and keeps ascending order on every stage, also for m < p and p = 1', () => {
  for (const [p, m] of shapes(6, 8)) {
    const timetable = gpipe(p, m);
    assert.equal(timetable.length, p);
    for (const stage of range(p)) {
      assert.equal(timetable[stage]?.length, 2 * (m + p - 1), `p=${p} m=${m}`);
      assert.deepEqual(microBatchOrder(timetable, stage, 'F'), range(m));
      assert.deepEqual(microBatchOrder(timetable, stage, 'B'), range(m));
    }
  }
});

void test('gpipe with one stage is plain gradient accumulation without idle slots', () => {
  assert.deepEqual(computeOrder(gpipe(1, 2), 0), ['0F0', '0F1', '0B0', '0B1']);
  assert.ok(gpipe(1, 2)[0]?.every((a) => a !== null));
});

void test('gpipe rejects a non-positive or fractional shape', () => {
  assert.throws(() => gpipe(0, 4), (e: unknown) => e instanceof ScheduleError && /stages must be an integer >= 1, got 0/.test(e.message));
  assert.throws(() => gpipe(2, 1.5), /microBatches must be an integer >= 1, got 1.5/);
});
