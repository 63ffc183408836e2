import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerOperator } from './operator-command.ts';

test('pipetrain operator: flags and defaults', () => {
  const program = new Command('pipetrain').exitOverride();
  registerOperator(program);
  const operator = program.commands.find((c) => c.name() === 'operator');
  assert.ok(operator);
  const flags = operator.options.map((o) => o.long);
  for (const flag of ['--kubeconfig', '--namespace', '--metrics-address', '--leader-elect', '--log-format', '--stage-command', '--stage-image']) assert.ok(flags.includes(flag), flag);
  const help = operator.helpInformation();
  assert.match(help, /PIPETRAIN_STAGE_COMMAND/);
  assert.match(help, /:8080/);
});
