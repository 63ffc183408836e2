// Unpacks only what the binding needs from a TensorFlow wheel: the two libraries and the C API
// headers (≈ 70 files of ≈ 30,000). A wheel is a zip file; Python's zipfile reads it (Python is
// there anyway: pip needs it), so we need neither unzip nor a zip library.
import { TENSORFLOW_LIBRARIES } from '../tf/native-layout.ts';
import { lastLine, runCommand } from './run-command.ts';
import { SetupError } from './setup-error.ts';

export interface WheelMember {
  /** Path inside the wheel. */
  name: string;
  /** Path relative to the destination folder: `lib/…` or `include/…`. */
  destination: string;
  bytes: number;
}

const INCLUDE_PREFIX = 'tensorflow/include/';
/** Header folders and files the binding's sources include, directly or through other headers. */
const HEADER_PREFIXES = ['tensorflow/c/', 'tsl/c/', 'xla/tsl/c/', 'tensorflow/core/platform/ctstring', 'tsl/platform/ctstring'];

export function selectWheelMembers(entries: Array<{ name: string; bytes: number }>): WheelMember[] {
  const selected: WheelMember[] = [];
  for (const { name, bytes } of entries) {
    if (name.endsWith('/')) continue;
    const library = TENSORFLOW_LIBRARIES.find((lib) => name === `tensorflow/${lib}`);
    if (library) selected.push({ name, destination: `lib/${library}`, bytes });
    else if (name.startsWith(INCLUDE_PREFIX)) {
      const header = name.slice(INCLUDE_PREFIX.length);
      if (HEADER_PREFIXES.some((prefix) => header.startsWith(prefix))) selected.push({ name, destination: `include/${header}`, bytes });
    }
  }
  return selected;
}

/** Problems that make the selection useless: a missing library or no C API header. */
export function selectionProblem(members: WheelMember[]): string | undefined {
  const missing = TENSORFLOW_LIBRARIES.filter((lib) => !members.some((m) => m.destination === `lib/${lib}`));
  if (missing.length > 0) return `it has no ${missing.join(' or ')}`;
  if (!members.some((m) => m.destination === 'include/tensorflow/c/eager/c_api.h')) return 'it has no tensorflow/c/eager/c_api.h header';
  return undefined;
}

// Reads the zip's central directory (list) or copies the named members out (extract).
const ZIP_SCRIPT = `
import json, os, shutil, sys, zipfile
mode, wheel = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    if mode == 'list':
        json.dump([[i.filename, i.file_size] for i in archive.infolist()], sys.stdout)
    else:
        job = json.load(sys.stdin)
        for name, destination in job['members']:
            path = os.path.join(job['root'], destination)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(name) as source, open(path, 'wb') as target:
                shutil.copyfileobj(source, target, 1 << 20)
`;

export async function listWheel(python: string, wheel: string): Promise<Array<{ name: string; bytes: number }>> {
  const result = await runCommand(python, ['-c', ZIP_SCRIPT, 'list', wheel]);
  if (result.code !== 0) {
    throw new SetupError(`${wheel} cannot be read as a zip file (${lastLine(result.stderr)})`, 'delete it and run the setup again to download it afresh');
  }
  return (JSON.parse(result.stdout) as Array<[string, number]>).map(([name, bytes]) => ({ name, bytes }));
}

export async function extractMembers(python: string, wheel: string, members: WheelMember[], root: string): Promise<void> {
  const input = JSON.stringify({ root, members: members.map((m) => [m.name, m.destination]) });
  const result = await runCommand(python, ['-c', ZIP_SCRIPT, 'extract', wheel], { input });
  if (result.code !== 0) {
    throw new SetupError(`unpacking ${wheel} failed (${lastLine(result.stderr)})`, 'check free disk space in the cache folder, then run the setup again');
  }
}
