// Training step time of a model per backend, single process, same micro-batches: cpu, wasm as
// shipped, and wasm with our BatchMatMul fix; measured one after the other in the same run.
import { loadJobData } from '../../trainer/src/data/load.ts';
import type { PipelineJobSpec } from '../../trainer/src/api/schema.ts';
import { initBackend } from '../../trainer/src/tf/backend.ts';
import { installWasmMatMulFix, uninstallWasmMatMulFix } from '../../trainer/src/tf/wasm-matmul-fix.ts';
import { trainSingleProcess } from '../../trainer/src/train/reference.ts';

export interface BackendStepTime {
  backend: 'cpu' | 'wasm (as shipped)' | 'wasm + matmul fix';
  medianStepSeconds: number;
  steps: number;
}

async function medianStepSeconds(spec: PipelineJobSpec, steps: number): Promise<number> {
  const data = await loadJobData(spec);
  const warmup = 2; // kernel set-up and first allocations
  const { stepSeconds } = await trainSingleProcess(spec, data, warmup + steps);
  const times = stepSeconds.slice(warmup).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function runBackendBench(spec: PipelineJobSpec, steps: { cpu: number; wasm: number }): Promise<BackendStepTime[]> {
  const results: BackendStepTime[] = [];
  await initBackend('cpu');
  results.push({ backend: 'cpu', medianStepSeconds: await medianStepSeconds(spec, steps.cpu), steps: steps.cpu });
  await initBackend('wasm');
  uninstallWasmMatMulFix();
  results.push({ backend: 'wasm (as shipped)', medianStepSeconds: await medianStepSeconds(spec, steps.wasm), steps: steps.wasm });
  installWasmMatMulFix();
  results.push({ backend: 'wasm + matmul fix', medianStepSeconds: await medianStepSeconds(spec, steps.wasm), steps: steps.wasm });
  return results;
}

export function formatBackendBench(results: BackendStepTime[], model: string): string {
  const fixed = results.find((r) => r.backend === 'wasm + matmul fix')!.medianStepSeconds;
  return [
    `Training step time, ${model} (single process, median step)`,
    '| backend | step time | relative to wasm + fix |',
    '|---|---|---|',
    ...results.map((r) => `| ${r.backend} | ${(r.medianStepSeconds * 1000).toFixed(1)} ms | ${(r.medianStepSeconds / fixed).toFixed(2)}× |`),
  ].join('\n');
}
