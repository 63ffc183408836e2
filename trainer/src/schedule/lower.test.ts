import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAction, type StagePrograms } from './action.ts';
import { gpipe } from './gpipe.ts';
import { lowerToPrograms } from './lower.ts';
import { oneFOneB } from './one-f-one-b.ts';

function asText(programs: StagePrograms): string[] {
  return programs.map((program) => program.map(formatAction).join(' '));
}

void test('lowerToPrograms wraps each compute in its receive and send, then appends OPT', () => {
  assert.deepEqual(asText(lowerToPrograms(gpipe(3, 1))), [
    '0F0 0SEND_F0 0RECV_B0 0B0 0OPT',
    '1RECV_F0 1F0 1SEND_F0 1RECV_B0 1B0 1SEND_B0 1OPT',
    '2RECV_F0 2F0 2B0 2SEND_B0 2OPT',
  ]);
});

void test('lowerToPrograms drops idle slots and keeps the compute order', () => {
  const [first] = asText(lowerToPrograms(oneFOneB(2, 2)));
  assert.equal(first, '0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1 0OPT');
});

void test('lowerToPrograms with a single stage adds no communication', () => {
  assert.deepEqual(asText(lowerToPrograms(gpipe(1, 2))), ['0F0 0F1 0B0 0B1 0OPT']);
});

void test('lowerToPrograms of an empty timetable is empty', () => {
  assert.deepEqual(lowerToPrograms([]), []);
});
