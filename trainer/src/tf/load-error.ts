// Turns the error of loading tfjs-node (a dlopen or require failure) into one line that names the
// cause and the fix, instead of the multi-line message and stack Node prints.
import type { NativeProblem } from './native-probe.ts';
import { setupCommandFor, VARIANT_OF, type NativeBackendChoice } from './native-layout.ts';

export function describeLoadError(choice: NativeBackendChoice, error: unknown): NativeProblem {
  const message = error instanceof Error ? error.message : String(error);
  const fix = `run ${setupCommandFor(VARIANT_OF[choice])}`;
  const problem = (kind: NativeProblem['kind'], reason: string): NativeProblem => ({ ok: false, choice, kind, reason, fix });
  const missingLibrary = /([\w.+-]+\.so[\w.]*): cannot open shared object file/.exec(message);
  if (missingLibrary) return problem('library-missing', `library missing: ${missingLibrary[1]}`);
  if (/NODE_MODULE_VERSION|invalid ELF header|wrong ELF class|ELFCLASS|cannot open shared object file: Exec format error/.test(message)) {
    return problem('wrong-abi', `binding built for another Node or platform (${firstLine(message)})`);
  }
  const undefinedSymbol = /undefined symbol: (\S+)/.exec(message);
  if (undefinedSymbol) return problem('wrong-abi', `binding does not match its libraries or this Node (undefined symbol ${undefinedSymbol[1]})`);
  if (/native addon module \(tfjs_binding\.node\) can not be found/.test(message)) return problem('binding-absent', 'binding not built');
  const missingModule = /Cannot find module '([^']+)'/.exec(message);
  if (missingModule) return problem('not-installed', `${missingModule[1]} is not installed`);
  return problem('wrong-abi', `failed to load: ${firstLine(message)}`);
}

function firstLine(message: string): string {
  const line = message.split('\n')[0]!.trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
