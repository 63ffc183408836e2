// Entry point the local runner forks for each stage.
import { runStageProcess } from './stage-process.ts';

runStageProcess();
