// `npm run bench`: every benchmark, measured side by side in one run, printed as Markdown tables
// (docs/benchmarks.md is written from this output). Loopback only; every loop is bounded.
import { dirname } from 'node:path';
import { loadPipelineJobFile } from '../../trainer/src/api/load.ts';
import { printBackendsSection } from './backends-section.ts';
import { formatCheckpointBench, runCheckpointBench } from './checkpoint-bench.ts';
import { formatFuzzBench, runFuzzBench } from './fuzz-bench.ts';
import { formatRecoveryBench, runRecoveryBench } from './recovery-bench.ts';
import { formatPipelineBench, runPipelineBench } from './pipeline-bench.ts';
import { formatTransportBench, runTransportBench } from './transport-bench.ts';

const EXAMPLE = new URL('../../examples/mnist-mlp.yaml', import.meta.url).pathname;

async function loadExample(overrides: string[]) {
  const loaded = await loadPipelineJobFile(EXAMPLE, overrides);
  if (!loaded.ok) throw new Error(`examples/mnist-mlp.yaml: ${loaded.problems.map((p) => p.message).join('; ')}`);
  return loaded.job;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const wanted = (name: string) => only.length === 0 || only.includes(name);
  console.log(`# pipetrain benchmarks (${new Date().toISOString()}, node ${process.version})\n`);

  if (wanted('transport')) {
    console.log('## Activation transport: framed ws link vs raw TCP (one-way, loopback, separate processes)\n');
    console.log(formatTransportBench(await runTransportBench()) + '\n');
  }
  if (wanted('pipeline')) {
    console.log('## Pipeline efficiency (examples/mnist-mlp.yaml, 2 stages, 8 micro-batches, wasm)\n');
    const job = await loadExample(['spec.pipeline.stages=2', 'spec.pipeline.microBatches=8', 'spec.training.epochs=null', 'spec.training.steps=60', 'spec.training.backend=wasm']);
    console.log(formatPipelineBench(await runPipelineBench(job, 10)) + '\n');
  }
  if (wanted('freeze')) {
    const { formatFreezeBench, runFreezeBench } = await import('./freeze-bench.ts');
    console.log('## Freezing the first stage (examples/mnist-mlp.yaml, partition 2+4, 8 micro-batches, wasm)\n');
    const job = await loadExample(['spec.pipeline.stages=null', 'spec.pipeline.microBatches=8', 'spec.training.epochs=null', 'spec.training.steps=60', 'spec.training.backend=wasm']);
    // An explicit cut, so that both runs split the model alike: dense + dropout | the rest.
    const cut = { ...job, spec: { ...job.spec, pipeline: { ...job.spec.pipeline, partition: [2, 4] } } };
    console.log(formatFreezeBench(await runFreezeBench(cut, 10)) + '\n');
  }
  if (wanted('backends')) {
    console.log('## Backends: tensorflow, wasm (with and without the matmul fix), cpu\n');
    await printBackendsSection(loadExample, dirname(EXAMPLE));
  }
  if (wanted('checkpoint')) {
    console.log('## Checkpoint writes (64 MiB; training step of the MNIST MLP on wasm, one stage)\n');
    const job = await loadExample(['spec.training.backend=wasm']);
    console.log(formatCheckpointBench(await runCheckpointBench(job.spec)) + '\n');
  }
  if (wanted('recovery')) {
    console.log('## Recovery time (examples/mnist-mlp.yaml, checkpoint every 10 steps)\n');
    const overrides = ['spec.checkpoint.path=checkpoints', 'spec.checkpoint.everySteps=10', 'spec.failurePolicy.maxRestarts=3', 'spec.training.logEverySteps=1', 'spec.training.backend=wasm'];
    console.log(formatRecoveryBench(await runRecoveryBench(EXAMPLE, overrides)) + '\n');
  }
  if (wanted('fuzz')) {
    console.log('## Fuzzing: hostile frames against a live stage link (seeded; replay with PIPETRAIN_FUZZ_SEED)\n');
    const rows = await runFuzzBench();
    console.log(formatFuzzBench(rows) + '\n');
    if (rows.some((row) => row.failures.length > 0)) process.exitCode = 1;
  }
  if (wanted('prepare')) {
    const { formatPrepareBench, prepareBenchOptions, runPrepareBench } = await import('./prepare-bench.ts');
    const options = prepareBenchOptions();
    console.log(`## pipetrain prepare: ${(options.bytes / 1e6).toFixed(0)} MB of generated text, ${options.tokenizer} tokens (PIPETRAIN_BENCH_PREPARE_MB to change the size)\n`);
    console.log(formatPrepareBench(await runPrepareBench(options)) + '\n');
  }
  if (wanted('classify')) {
    const { classifyBenchOptions, formatClassifyBench, runClassifyBench } = await import('./classify-bench.ts');
    console.log('## Classification on top of a language model: SpamAssassin, fine-tuned vs from scratch (PIPETRAIN_BENCH_CLASSIFY_* to change the sizes)\n');
    console.log(formatClassifyBench(await runClassifyBench(classifyBenchOptions())) + '\n');
  }
  if (wanted('nodeloss')) {
    await clusterBench('Node loss on the test control plane (operator, tiny job, 3 stages)', async () => {
      const { formatNodeLossBench, runNodeLossBench } = await import('./node-loss-bench.ts');
      return formatNodeLossBench(await runNodeLossBench());
    });
  }
  if (wanted('scale')) {
    await clusterBench('Operator at scale on the test control plane (300 jobs × 4 stages, no nodes)', async () => {
      const { formatScaleBench, runScaleBench } = await import('./scale-bench.ts');
      return formatScaleBench(await runScaleBench());
    });
  }
}

/** A benchmark on the test control plane: it needs root (network namespaces) and the cluster tools. */
async function clusterBench(title: string, run: () => Promise<string>): Promise<void> {
  console.log(`## ${title}\n`);
  console.log(process.getuid?.() === 0 ? `${await run()}\n` : 'skipped: needs root (network namespaces) and the cluster tools\n');
}

await main();
