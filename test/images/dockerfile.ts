// Reads the repository's Dockerfile as data: its stages, what each COPY takes from the build context
// or another stage, and which stages a target needs. Used by the image build (to hash a target's
// inputs) and by the Dockerfile tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  /** The FROM image or stage name (ARG defaults substituted). */
  from: string;
  instructions: Instruction[];
}

/** Instructions in order; line continuations joined, comments and the syntax line dropped. */
export function parseInstructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const space = line.indexOf(' ');
      return { op: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

/** The stages, with `${ARG}` in FROM lines replaced by the ARG's default. */
export function parseStages(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.op === 'ARG' && stages.length === 0) {
      const [name, value = ''] = instruction.args.split('=');
      args.set(name ?? '', value);
    } else if (instruction.op === 'FROM') {
      const [image = '', , name] = instruction.args.replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? '').split(/\s+/);
      stages.push({ name: name ?? String(stages.length), from: image, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

export function readStages(root: string): Stage[] {
  return parseStages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
}

export interface Copy {
  /** Build-context paths, or paths inside `fromStage`. */
  sources: string[];
  dest: string;
  fromStage?: string;
}

export function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const fromStage = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { sources: paths.slice(0, -1), dest: paths.at(-1) ?? '', fromStage };
    });
}

/** The stages `target` is built from: its FROM chain and every stage it copies from. */
export function stageClosure(stages: readonly Stage[], target: string): Stage[] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const stage = byName.get(name);
    if (!stage || seen.has(name)) return;
    seen.add(name);
    visit(stage.from);
    for (const copy of copiesOf(stage)) if (copy.fromStage) visit(copy.fromStage);
  };
  if (!byName.has(target)) throw new Error(`Dockerfile has no stage "${target}" (stages: ${stages.map((s) => s.name).join(', ')})`);
  visit(target);
  return stages.filter((s) => seen.has(s.name));
}

/** Images (not stages) a target starts from, e.g. `node:24-bookworm-slim`. */
export function baseImages(stages: readonly Stage[], target: string): string[] {
  const names = new Set(stages.map((s) => s.name));
  return [...new Set(stageClosure(stages, target).map((s) => s.from).filter((from) => !names.has(from)))];
}
