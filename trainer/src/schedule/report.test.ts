import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAction } from './action.ts';
import { buildPrograms } from './build.ts';
import { buildReport, formatReport, formatReportJson, reportToJson } from './report.ts';

void test('formatReport prints the grid and the simulated bubble next to the formula', () => {
  const text = formatReport(buildReport({ kind: '1F1B', stages: 3, microBatches: 4, costs: { forward: 1, backward: 1 } }));
  assert.equal(
    text,
    [
      "1F1B schedule, 3 stages, 4 micro-batches (unit time slots, '.' = idle):",
      'step     0   1   2   3   4   5   6   7   8   9  10  11',
      'rank0  0F0 0F1 0F2  .   .  0B0 0F3 0B1  .  0B2  .  0B3',
      'rank1   .  1F0 1F1  .  1B0 1F2 1B1 1F3 1B2  .  1B3  .',
      'rank2   .   .  2F0 2B0 2F1 2B1 2F2 2B2 2F3 2B3  .   .',
      '',
      'simulated with forward 1, backward 1, send 0: makespan 12',
      'bubble per stage: 0.3333 0.3333 0.3333',
      'peak in-flight micro-batches per stage: 3 2 1',
      'bubble fraction: simulated 0.3333, formula (p-1)/(m+p-1) = 2/6 = 0.3333',
    ].join('\n'),
  );
});

void test('formatReport uses singular words for one stage and one micro-batch and lists per-stage costs', () => {
  const text = formatReport(buildReport({ kind: 'GPipe', stages: 1, microBatches: 1, costs: { forward: [2], backward: 3, optimizer: 1 } }));
  assert.match(text, /^GPipe schedule, 1 stage, 1 micro-batch \(/);
  assert.match(text, /simulated with forward \[2\], backward 3, send 0, optimizer 1: makespan 6/);
});

void test('reportToJson gives compact programs that parse back to the built programs', () => {
  const json = reportToJson(buildReport({ kind: 'GPipe', stages: 2, microBatches: 2, costs: { forward: 1, backward: 2 } })) as {
    programs: string[][];
    simulation: { makespan: number; overallBubbleFraction: number };
    formulaBubbleFraction: number;
  };
  assert.deepEqual(json.programs.map((program) => program.map(parseAction)), buildPrograms('GPipe', 2, 2));
  assert.equal(json.simulation.makespan, 9);
  assert.equal(json.simulation.overallBubbleFraction, json.formulaBubbleFraction);
  assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
});

void test('formatReportJson puts each program on one line and stays valid JSON', () => {
  const report = buildReport({ kind: '1F1B', stages: 2, microBatches: 1, costs: { forward: 1, backward: 1 } });
  const text = formatReportJson(report);
  assert.deepEqual(JSON.parse(text), reportToJson(report));
  assert.match(text, /\n {4}\["0F0", "0SEND_F0", "0RECV_B0", "0B0", "0OPT"\],\n/);
  assert.match(text, /"busy": \[2, 2\]/);
});
