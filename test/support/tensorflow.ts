// For tests of the native backend: they run when `npm run setup:tensorflow` was done on this
// machine, and otherwise skip with the reason and the command (node:test prints it after # SKIP).
import { describeNativeProblem, probeNative } from '../../trainer/src/tf/native-probe.ts';

/** false when the tensorflow backend is set up; otherwise the skip message. */
export function tensorflowSkip(): string | false {
  const status = probeNative('tensorflow');
  return status.ok ? false : `the tensorflow backend is not set up here (${describeNativeProblem(status)})`;
}
