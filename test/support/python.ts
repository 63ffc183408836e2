// The Python interpreter with the real loaders our model files are checked with (safetensors, numpy),
// set up by .ci/python.sh. Tests run Python snippets through it; a missing venv is a failure with the
// command that fixes it, never a silent skip.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export function venvPython(): string {
  const python = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pipetrain', 'python-venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error(`${python} is missing: run .ci/python.sh (it installs numpy and safetensors, pinned, into that venv)`);
  return python;
}

/** Runs `code` with the venv's Python and the given arguments (sys.argv[1:]); resolves with stdout. */
export async function runPython(code: string, args: string[] = []): Promise<string> {
  const { stdout } = await promisify(execFile)(venvPython(), ['-c', code, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}
