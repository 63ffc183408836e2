import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshot } from '../../../test/support/checkpoint-fixtures.ts';
import type { StageSnapshot } from './types.ts';
import { checkSnapshot } from './validate.ts';

void test('a valid snapshot passes', () => {
  assert.doesNotThrow(() => checkSnapshot(snapshot(1, 1, [2, 3])));
});

void test('each structural problem is a TypeError with an exact sentence', () => {
  const base = snapshot(3, 0, [2, 3]);
  const cases: Array<[Partial<StageSnapshot>, string]> = [
    [{ step: 0 }, 'step must be an integer >= 1; got 0.'],
    [{ stage: 2 }, 'stage must be an integer from 0 to 1; got 2.'],
    [{ partition: [5] }, 'partition must list 2 layer counts; got [5].'],
    [{ layers: base.layers.slice(1) }, 'stage 0 of partition [2, 3] holds layers [0, 1]; got [1].'],
    [{ optimizer: { type: 'adam', scalars: { beta1Power: NaN } } }, 'optimizer.scalars.beta1Power must be a finite number; got NaN.'],
    [{ data: { epoch: -1, offset: 0 } }, 'data must be { epoch, offset } with integers >= 0; got {"epoch":-1,"offset":0}.'],
    [{ seed: Infinity }, 'seed must be a finite number; got Infinity.'],
  ];
  for (const [override, message] of cases) assert.throws(() => checkSnapshot({ ...base, ...override }), { name: 'TypeError', message });
  const dup = snapshot(3, 0, [2, 3]);
  dup.layers[0]!.slots[0]!.name = dup.layers[0]!.weights[0]!.name;
  assert.throws(() => checkSnapshot(dup), { message: /^layer 0: tensor names must be unique/ });
});
