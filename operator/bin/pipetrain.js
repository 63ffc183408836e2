#!/usr/bin/env node
// The `pipetrain` command with the `operator` subcommand: the operator image's entry point and the
// package's bin. The operator depends on the trainer (its API schema and contract), never the reverse.
import { requireTypeStripping } from '../../trainer/bin/node-check.js';

requireTypeStripping();
const [{ main }, { registerOperator }] = await Promise.all([import('../../trainer/src/cli/main.ts'), import('../operator-command.ts')]);
await main(process.argv, [registerOperator]);
