// Entry point the local runner forks for each stage.
import { runStageProcess } from './run-stage.ts';

runStageProcess();
