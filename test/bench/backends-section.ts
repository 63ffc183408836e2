// `npm run bench -- backends`: the native tensorflow backend against wasm (with and without our
// matmul fix) and cpu, measured side by side in one run: single-process step times of the MNIST
// example's model (and of a wider one, where arithmetic outweighs per-op overhead), samples/s of the
// whole example as stage processes, their memory and threads, and two stages on two cores.
import { loadavg } from 'node:os';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { probeNative, describeNativeProblem } from '../../trainer/src/tf/native-probe.ts';
import { formatBackendBench, runBackendBench } from './backend-bench.ts';
import { formatExampleBench, runExampleBench, type ExampleCase } from './example-bench.ts';

/** The notes' model: 784-512-512-512-10, one micro-batch of 64 (the example's dropouts set to 0). */
const WIDE = ['spec.model.layers[0].units=512', 'spec.model.layers[2].units=512', 'spec.model.layers[3].units=512', 'spec.model.layers[1].rate=0', 'spec.model.layers[4].rate=0', 'spec.pipeline.microBatches=1'];

export async function printBackendsSection(loadExample: (overrides: string[]) => Promise<PipelineJob>, baseDir: string): Promise<void> {
  const status = probeNative('tensorflow');
  const tensorflow = status.ok;
  const note = status.ok ? undefined : `not measured: ${describeNativeProblem(status)}`;
  console.log(`Machine: shared, 2 cores; other work ran at the same time (load average at start: ${loadAverage()}). TensorFlow threads: TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? '1 (pinned)'}, TF_NUM_INTEROP_THREADS=${process.env.TF_NUM_INTEROP_THREADS ?? '1 (pinned)'}.\n`);

  console.log('### Step time, single process\n');
  const example = await loadExample([]);
  console.log(formatBackendBench(await runBackendBench(example.spec, { rounds: 2, steps: { cpu: 5, other: 20 }, tensorflow }), 'MNIST example model 784-256-256-128-10, batch 64 in 8 micro-batches of 8', note) + '\n');
  const wide = await loadExample(WIDE);
  console.log(formatBackendBench(await runBackendBench(wide.spec, { rounds: 2, steps: { cpu: 3, other: 20 }, tensorflow }), 'wider MLP 784-512-512-512-10, batch 64 in 1 micro-batch', note) + '\n');

  console.log('### The whole MNIST example: stage processes on loopback\n');
  const cases: ExampleCase[] = [
    ...(tensorflow ? [{ label: 'tensorflow', backend: 'tensorflow' as const, stages: 4, steps: 100 }] : []),
    { label: 'wasm', backend: 'wasm', stages: 4, steps: 100 },
    { label: 'cpu', backend: 'cpu', stages: 4, steps: 20 },
    ...(tensorflow ? [
      { label: 'tensorflow, 2 stages, 1 intra-op thread', backend: 'tensorflow' as const, stages: 2, steps: 100, intraOpThreads: '1' },
      { label: 'tensorflow, 2 stages, 2 intra-op threads', backend: 'tensorflow' as const, stages: 2, steps: 100, intraOpThreads: '2' },
    ] : []),
    { label: 'wasm, 2 stages', backend: 'wasm', stages: 2, steps: 100 },
  ];
  console.log(formatExampleBench(await runExampleBench(loadExample, cases, 2, baseDir), 'wasm') + '\n');
  if (note) console.log(`tensorflow: ${note}\n`);
}

/** 1, 5 and 15 minute load averages. */
function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(1)).join(', ');
}
