// Checks that the libraries export every TensorFlow C API function the binding imports. Node
// loads addons lazily (RTLD_LAZY), so a missing function would only fail when first called, in the
// middle of training; `nm -D` answers up front. Names carry a version suffix (TFE_NewOp@@tensorflow)
// that is stripped before comparing.
import { lastLine, runCommand } from './run-command.ts';
import { SetupError } from './setup-error.ts';
import type { SetupReport } from './setup-report.ts';

/** The TF_/TFE_ names in `nm -D` output, version suffixes removed. */
export function tensorflowSymbols(nmOutput: string): Set<string> {
  const names = new Set<string>();
  for (const line of nmOutput.split('\n')) {
    const name = line.trim().split(/\s+/).at(-1)?.split('@')[0];
    if (name && /^TFE?_/.test(name)) names.add(name);
  }
  return names;
}

export function missingSymbols(imported: Set<string>, exported: Set<string>): string[] {
  return [...imported].filter((name) => !exported.has(name)).sort();
}

export async function checkBindingSymbols(binding: string, libraries: string[], report: SetupReport): Promise<void> {
  const started = performance.now();
  const undefinedInBinding = await nm(['-D', '--undefined-only', binding]);
  if (undefinedInBinding === undefined) {
    report.note('nm not found (Debian: apt-get install binutils): the exported-symbol check was skipped');
    return;
  }
  const exported = new Set<string>();
  for (const library of libraries) for (const name of tensorflowSymbols((await nm(['-D', '--defined-only', library]))!)) exported.add(name);
  const imported = tensorflowSymbols(undefinedInBinding);
  const missing = missingSymbols(imported, exported);
  if (missing.length > 0) {
    throw new SetupError(`the TensorFlow libraries do not export ${missing.length} function(s) the binding calls: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, 'use the pinned TensorFlow version; another one may lack parts of the C API');
  }
  report.step('symbols', `the binding's ${imported.size} TF_/TFE_ imports are all exported by the libraries (nm -D)`, started);
}

async function nm(args: string[]): Promise<string | undefined> {
  const result = await runCommand('nm', args);
  if (result.missing) return undefined;
  if (result.code !== 0) throw new SetupError(`nm ${args.join(' ')} failed (${lastLine(result.stderr)})`, 'check that the file is intact: run the setup again with --force');
  return result.stdout;
}
