import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerRenderSchedule } from './render-schedule-command.ts';
import { buildProgram } from './main.ts';

/** Runs the command in-process; output goes to strings, errors throw CommanderError instead of exiting. */
async function run(...args: string[]): Promise<{ out: string; err: string; error?: CommanderError }> {
  const sink = { out: '', err: '' };
  const program = new Command('pipetrain')
    .exitOverride()
    .configureOutput({ writeOut: (text) => (sink.out += text), writeErr: (text) => (sink.err += text) });
  registerRenderSchedule(program, (text) => (sink.out += text));
  try {
    await program.parseAsync(['render-schedule', ...args], { from: 'user' });
    return sink;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { ...sink, error };
  }
}

void test('render-schedule is registered on the pipetrain program', () => {
  assert.ok(buildProgram().commands.some((command) => command.name() === 'render-schedule'));
});

void test('render-schedule prints the grid and the bubble next to the formula', async () => {
  const { out, error } = await run('--stages', '3', '--micro-batches', '4', '--schedule', '1F1B');
  assert.equal(error, undefined);
  assert.match(out, /rank0 {2}0F0 0F1 0F2 {2}\. {3}\. {2}0B0 0F3 0B1 {2}\. {2}0B2 {2}\. {2}0B3\n/);
  assert.match(out, /bubble fraction: simulated 0\.3333, formula \(p-1\)\/\(m\+p-1\) = 2\/6 = 0\.3333\n$/);
});

void test('render-schedule defaults to 1F1B, accepts any case and uses the costs', async () => {
  assert.match((await run('-p', '2', '-m', '2')).out, /^1F1B schedule, 2 stages, 2 micro-batches/);
  const { out } = await run('-p', '2', '-m', '2', '-s', 'gpipe', '--forward-cost', '0.5', '--backward-cost', '1.5', '--send-cost', '0.25');
  assert.match(out, /^GPipe schedule/);
  assert.match(out, /simulated with forward 0\.5, backward 1\.5, send 0\.25: makespan 6\.5\n/);
});

void test('render-schedule --json prints parseable programs', async () => {
  const { out } = await run('-p', '2', '-m', '1', '--json');
  const json = JSON.parse(out) as { programs: string[][] };
  assert.deepEqual(json.programs[1], ['1RECV_F0', '1F0', '1B0', '1SEND_B0', '1OPT']);
});

void test('render-schedule rejects bad options with an error naming the option', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-p', '0', '-m', '2'], /option '-p, --stages <count>' argument '0' is invalid\. Expected an integer >= 1\./],
    [['-p', '2', '-m', '1.5'], /option '-m, --micro-batches <count>' argument '1\.5' is invalid/],
    [['-p', '2', '-m', 'x'], /--micro-batches <count>' argument 'x' is invalid/],
    [['-p', '2', '-m', '2', '-s', 'zb'], /option '-s, --schedule <name>' argument 'zb' is invalid\. Expected one of GPipe, 1F1B\./],
    [['-p', '2', '-m', '2', '--forward-cost', '-1'], /option '--forward-cost <time>' argument '-1' is invalid\. Expected a number >= 0\./],
    [['-p', '2', '-m', '2', '--backward-cost', ''], /option '--backward-cost <time>' argument '' is invalid/],
    [['-p', '2'], /required option '-m, --micro-batches <count>' not specified/],
  ];
  for (const [args, message] of cases) {
    const { err, error } = await run(...args);
    assert.ok(error !== undefined && error.exitCode !== 0, args.join(' '));
    assert.match(err, message);
  }
});

void test('render-schedule --help explains the grid and gives examples', async () => {
  const { out, error } = await run('--help');
  assert.equal(error?.code, 'commander.helpDisplayed');
  for (const text of ['--stages <count>', '--micro-batches <count>', 'GPipe or 1F1B', '--forward-cost', '--json', '(p-1)/(m+p-1)', 'Examples:']) {
    assert.ok(out.includes(text), text);
  }
});

void test('the pipetrain binary runs render-schedule end to end', () => {
  const bin = fileURLToPath(new URL('../../bin/pipetrain.js', import.meta.url));
  const ok = spawnSync(process.execPath, [bin, 'render-schedule', '--stages', '4', '--micro-batches', '8', '--schedule', 'GPipe'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /formula \(p-1\)\/\(m\+p-1\) = 3\/11 = 0\.2727/);
  const bad = spawnSync(process.execPath, [bin, 'render-schedule', '--stages', 'two', '--micro-batches', '8'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '-p, --stages <count>' argument 'two' is invalid/);
});
