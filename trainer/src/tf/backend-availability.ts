// Validation of spec.training.backend against this machine, for `pipetrain validate` and
// `pipetrain train`: an explicitly requested native backend that is not set up fails the job
// before anything runs, with the setup command. From files only (native-probe.ts), so validation
// loads no TensorFlow. (`auto` never fails here: it falls back.)
import type { Problem } from '../api/problems.ts';
import { describeNativeProblem, probeNative, type ProbeOptions, type NativeStatus } from './native-probe.ts';
import type { NativeBackendChoice } from './native-layout.ts';

export interface BackendCheck {
  problems: Problem[];
  /** Not errors, but worth saying: tensorflow-gpu on a machine without a GPU runs on the CPU. */
  warnings: string[];
}

type Probe = (choice: NativeBackendChoice, options: ProbeOptions) => NativeStatus;

export function checkBackendAvailable(backend: string, probe: Probe = probeNative): BackendCheck {
  if (backend !== 'tensorflow' && backend !== 'tensorflow-gpu') return { problems: [], warnings: [] };
  const status = probe(backend, { requireGpuDevice: false });
  if (!status.ok) return { problems: [{ path: 'spec.training.backend', message: describeNativeProblem(status) }], warnings: [] };
  const gpu = backend === 'tensorflow-gpu' ? probe(backend, { requireGpuDevice: true }) : status;
  const warnings = !gpu.ok && gpu.kind === 'no-gpu'
    ? [`spec.training.backend: tensorflow-gpu: ${gpu.reason} on this machine; TensorFlow will run its kernels on the CPU`]
    : [];
  return { problems: [], warnings };
}
