// Training step time of a model per backend, single process, same micro-batches: tensorflow (when
// `npm run setup:tensorflow` was done), wasm with our BatchMatMul fix, wasm as shipped, and cpu.
// The backends take turns within each round, so a burst of load on the shared machine hits all.
import { loadJobData } from '../../trainer/src/data/load.ts';
import type { PipelineJobSpec } from '../../trainer/src/api/schema.ts';
import { initBackend } from '../../trainer/src/tf/backend.ts';
import { installWasmMatMulFix, uninstallWasmMatMulFix } from '../../trainer/src/tf/wasm-matmul-fix.ts';
import { trainSingleProcess } from '../../trainer/src/train/reference.ts';

export type BenchBackend = 'tensorflow' | 'wasm + matmul fix' | 'wasm (as shipped)' | 'cpu';

export interface BackendStepTime {
  backend: BenchBackend;
  /** Median step time of each round, seconds. */
  roundMedians: number[];
  steps: number;
}

export interface BackendBenchOptions {
  rounds: number;
  /** Timed steps per round; cpu is ~10× slower, so it gets fewer. */
  steps: { cpu: number; other: number };
  /** Include tensorflow (false when it is not set up: the row then says so). */
  tensorflow: boolean;
}

const WARMUP_STEPS = 2; // kernel set-up and first allocations

async function medianStepSeconds(spec: PipelineJobSpec, steps: number): Promise<number> {
  const data = await loadJobData(spec);
  const { stepSeconds } = await trainSingleProcess(spec, data, WARMUP_STEPS + steps);
  const times = stepSeconds.slice(WARMUP_STEPS).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function selectBackend(backend: BenchBackend): Promise<void> {
  if (backend === 'tensorflow') await initBackend('tensorflow');
  else if (backend === 'cpu') await initBackend('cpu');
  else {
    await initBackend('wasm'); // installs the fix
    if (backend === 'wasm (as shipped)') uninstallWasmMatMulFix();
    else installWasmMatMulFix();
  }
}

export async function runBackendBench(spec: PipelineJobSpec, options: BackendBenchOptions): Promise<BackendStepTime[]> {
  const backends: BenchBackend[] = [...(options.tensorflow ? ['tensorflow' as const] : []), 'wasm + matmul fix', 'wasm (as shipped)', 'cpu'];
  const results = new Map<BenchBackend, BackendStepTime>(backends.map((b) => [b, { backend: b, roundMedians: [], steps: b === 'cpu' ? options.steps.cpu : options.steps.other }]));
  for (let round = 0; round < options.rounds; round++) {
    // Alternate the order, so no backend always runs first (after a pause) or last.
    const order = round % 2 === 0 ? backends : [...backends].reverse();
    for (const backend of order) {
      await selectBackend(backend);
      const result = results.get(backend)!;
      result.roundMedians.push(await medianStepSeconds(spec, result.steps)); // runs on the backend just selected
    }
  }
  installWasmMatMulFix();
  return [...results.values()];
}

export function formatBackendBench(results: BackendStepTime[], model: string, tensorflowNote?: string): string {
  const median = (r: BackendStepTime) => [...r.roundMedians].sort((a, b) => a - b)[Math.floor(r.roundMedians.length / 2)]!;
  const fixed = median(results.find((r) => r.backend === 'wasm + matmul fix')!);
  const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
  return [
    `Training step time, ${model} (single process, median step of each round)`,
    '| backend | step time per round | wasm + fix / backend (speed-up) |',
    '|---|---|---|',
    ...results.map((r) => `| ${r.backend} | ${r.roundMedians.map(ms).join(' · ')} | ${(fixed / median(r)).toFixed(2)}× |`),
    ...(tensorflowNote ? [`| tensorflow | ${tensorflowNote} | – |`] : []),
  ].join('\n');
}
