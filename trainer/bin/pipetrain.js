#!/usr/bin/env node
// The `pipetrain` command of the stage image: train, validate, stage and the other trainer commands.
// The full CLI of a checkout, with the `operator` subcommand, is operator/bin/pipetrain.js.
import { requireTypeStripping } from './node-check.js';

requireTypeStripping();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
