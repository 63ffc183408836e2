import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as schedule from './index.ts';

void test('index exports the public API that the trainer codes against', () => {
  const functions = [
    'gpipe',
    'oneFOneB',
    'buildTimetable',
    'lowerToPrograms',
    'buildPrograms',
    'formatAction',
    'parseAction',
    'validatePrograms',
    'simulate',
    'renderGrid',
  ] as const;
  for (const name of functions) assert.equal(typeof schedule[name], 'function', name);
  assert.ok(new schedule.DeadlockError('x', []) instanceof schedule.ScheduleError);
  assert.ok(new schedule.ScheduleError('x') instanceof Error);
});

void test('the pieces compose: build, lower, validate, simulate, render', () => {
  const timetable = schedule.buildTimetable('1F1B', 2, 3);
  const programs = schedule.lowerToPrograms(timetable);
  assert.ok(schedule.validatePrograms(programs, 3).ok);
  assert.equal(schedule.simulate(programs, { forward: 1, backward: 1 }).overallBubbleFraction, schedule.idealBubbleFraction(2, 3));
  assert.match(schedule.renderGrid(timetable), /^step +0 +1/);
});

void test('errors carry their class name', () => {
  assert.equal(new schedule.ScheduleError('x').name, 'ScheduleError');
  assert.equal(new schedule.DeadlockError('x', []).name, 'DeadlockError');
  assert.equal(new schedule.ScheduleError('bad', 'grid').message, 'bad\ngrid');
});
