import { test } from 'node:test';
import assert from 'node:assert/strict';
import { action, parseActions } from './action.ts';
import { renderGrid } from './grid.ts';

void test('renderGrid lays out steps, ranks and centred idle dots as in pipeline.md §4', () => {
  const rows = [[action(0, 'F', 0), null, action(0, 'B', 0)], [null, action(1, 'F', 0), action(1, 'B', 0)]];
  assert.equal(
    renderGrid(rows),
    ['step     0   1   2', 'rank0  0F0  .  0B0', 'rank1   .  1F0 1B0'].join('\n'),
  );
});

void test('renderGrid marks a cell in brackets and widens every column to fit', () => {
  const rows = [[action(0, 'F', 0), null], [null, action(1, 'F', 0)]];
  assert.equal(renderGrid(rows, { stage: 0, slot: 1 }), ['step     0   1', 'rank0  0F0 [.]', 'rank1   .  1F0'].join('\n'));
  assert.equal(renderGrid(rows, { stage: 1, slot: 1 }), ['step       0     1', 'rank0    0F0   .', 'rank1    .   [1F0]'].join('\n'));
});

void test('renderGrid fits wide cells and ragged program rows', () => {
  const programs = [parseActions('0F0 0SEND_F0 0OPT'), parseActions('1RECV_F0 1F0 1B0 1OPT')];
  const lines = renderGrid(programs).split('\n');
  assert.equal(lines[0], 'step          0        1        2        3');
  assert.equal(lines[1], 'rank0       0F0 0SEND_F0     0OPT');
  assert.equal(lines[2], 'rank1  1RECV_F0      1F0      1B0     1OPT');
});

void test('renderGrid shows a mark past the end of a row', () => {
  const lines = renderGrid([[action(0, 'F', 0)]], { stage: 0, slot: 2 }).split('\n');
  assert.equal(lines[1], 'rank0  0F0      []');
});

void test('renderGrid widens the label column for rank10 and up', () => {
  const rows = Array.from({ length: 11 }, () => [null]);
  const lines = renderGrid(rows).split('\n');
  assert.equal(lines[0], 'step      0');
  assert.equal(lines[11], 'rank10   .');
});
