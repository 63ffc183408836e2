import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAction, parseActions, type Action } from './action.ts';
import { buildPrograms } from './build.ts';
import { shapes } from '../../../test/support/schedule-helpers.ts';
import { dropFrozenBackward } from './frozen.ts';
import { validatePrograms } from './validate.ts';

const text = (program: readonly Action[]) => program.map(formatAction).join(' ');

void test('a frozen first stage runs forwards only and its neighbour sends no gradient', () => {
  const programs = buildPrograms('GPipe', 2, 2, 1);
  assert.equal(text(programs[0]!), '0F0 0SEND_F0 0F1 0SEND_F1 0OPT');
  assert.equal(text(programs[1]!), '1RECV_F0 1F0 1RECV_F1 1F1 1B0 1B1 1OPT');
});

void test('every schedule with k frozen leading stages validates and has no backward traffic before stage k', () => {
  for (const kind of ['GPipe', '1F1B'] as const) {
    for (const [p, m] of shapes(5, 6)) {
      for (let frozen = 0; frozen < p; frozen++) {
        const programs = buildPrograms(kind, p, m, frozen);
        assert.deepEqual(validatePrograms(programs, m, frozen).errors, [], `${kind} p=${p} m=${m} frozen=${frozen}`);
        programs.forEach((program, stage) => {
          const backward = program.filter((a) => a.kind === 'B' || a.kind === 'RECV_B' || a.kind === 'SEND_B').length;
          const sendsUp = program.filter((a) => a.kind === 'SEND_B').length;
          if (stage < frozen) assert.equal(backward, 0);
          else assert.equal(sendsUp, stage === frozen || stage === 0 ? 0 : m, `stage ${stage} of ${kind} p=${p} frozen=${frozen}`);
        });
      }
    }
  }
});

void test('the validator rejects a backward on a frozen stage, and a missing one on a training stage', () => {
  const trained = [parseActions('0F0 0SEND_F0 0RECV_B0 0B0 0OPT'), parseActions('1RECV_F0 1F0 1B0 1SEND_B0 1OPT')];
  assert.match(validatePrograms(trained, 1, 1).errors.join('\n'), /stage 0.*frozen leading stage has nothing to train/);
  const frozen = dropFrozenBackward(trained, 1);
  assert.deepEqual(validatePrograms(frozen, 1, 1).errors, []);
  assert.match(validatePrograms(frozen, 1, 0).errors.join('\n'), /missing 0B0/);
});

void test('zero frozen stages leave the programs as they are', () => {
  assert.deepEqual(buildPrograms('1F1B', 3, 4, 0), buildPrograms('1F1B', 3, 4));
});
