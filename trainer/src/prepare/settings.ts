// The settings of `pipetrain prepare`, as one zod schema. The CLI options are generated from it
// (`--val-fraction` is valFraction, `--no-dedup-paragraphs` turns dedupParagraphs off), so a job
// file that embeds this schema and the command line can never drift apart.
import { z } from 'zod';
import { DataError } from '../data/dataset.ts';

export const TOKENIZERS = ['char', 'gpt2'] as const;
export const SPLIT_BY = ['tokens', 'documents'] as const;
export const MiB = 1024 * 1024;

const share = () => z.number().min(0).max(1);

export const PrepareSettingsSchema = z
  .strictObject({
    input: z
      .array(z.string().min(1).max(4096))
      .min(1)
      .describe('input: text files, folders (searched recursively for .txt, .text, .md, .markdown, .rst, .jsonl and .ndjson files) or globs (*, ?, **); a text file is one document, a .jsonl or .ndjson file is JSON Lines with one document per record. Relative paths resolve against the folder of the job file (on the command line: the current folder). Read in the order given; folders and globs in sorted order. Required.'),
    tokenizer: z
      .enum(TOKENIZERS)
      .describe('tokenizer: "char" (one token per character; the vocabulary is the sorted set of characters of the prepared text) or "gpt2" (GPT-2 byte-level BPE, 50,257 tokens). Required.'),
    valFraction: z
      .number()
      .min(0)
      .lt(1)
      .default(0.1)
      .describe('valFraction: share of the token stream kept for validation: its last valFraction, as nanoGPT does (0 to below 1). Default 0.1.'),
    splitBy: z
      .enum(SPLIT_BY)
      .default('tokens')
      .describe('splitBy: "tokens" cuts the token stream exactly at 1 - valFraction; "documents" moves the cut to the nearest document boundary, so every document lies wholly in one split. Default "tokens".'),
    textField: z
      .string()
      .min(1)
      .max(253)
      .default('text')
      .describe('textField: the field of each JSON Lines record that holds its text. Default "text".'),
    minChars: z
      .int()
      .min(0)
      .default(20)
      .describe('minChars: documents shorter than this many characters (after cleaning and paragraph deduplication) are removed as too-short. Default 20.'),
    maxChars: z
      .int()
      .min(1)
      .max(500_000_000)
      .default(20_000_000)
      .describe('maxChars: documents longer than this many characters are removed as too-long (a guard against runaway files; a long novel has about 1.5 million). A document is held in memory while it is checked, about 4 bytes per character, so this also bounds memory. Default 20000000.'),
    maxSymbolShare: share()
      .default(0.3)
      .describe('maxSymbolShare: documents in which more than this share of the non-space characters are not letters (digits, punctuation, symbols) are removed as too-many-symbols (0 to 1). Default 0.3.'),
    maxRepeatedLineShare: share()
      .default(0.3)
      .describe('maxRepeatedLineShare: documents in which more than this share of the non-blank lines repeat an earlier line of the same document are removed as too-many-repeated-lines (0 to 1). Default 0.3.'),
    dedupDocuments: z
      .boolean()
      .default(true)
      .describe('dedupDocuments: remove documents whose cleaned text equals an earlier one (duplicate-document). Default true.'),
    dedupParagraphs: z
      .boolean()
      .default(true)
      .describe('dedupParagraphs: remove paragraphs (blocks between blank lines) whose cleaned text equals an earlier kept one (duplicate-paragraph). Default true.'),
    minDedupParagraphChars: z
      .int()
      .min(1)
      .default(64)
      .describe('minDedupParagraphChars: paragraphs shorter than this many characters are never removed as duplicates, so repeated short lines of dialogue or verse stay. Default 64.'),
    nearDuplicates: z
      .boolean()
      .default(true)
      .describe('nearDuplicates: remove documents that are near-duplicates of an earlier kept one, by MinHash over word shingles with LSH banding (near-duplicate). Default true.'),
    nearDuplicateThreshold: share()
      .default(0.8)
      .describe('nearDuplicateThreshold: estimated Jaccard similarity of word shingles at or above which a document is a near-duplicate (0 to 1). Default 0.8.'),
    shingleWords: z
      .int()
      .min(1)
      .max(32)
      .default(5)
      .describe('shingleWords: words per shingle for near-duplicate detection. Default 5.'),
    minhashPermutations: z
      .int()
      .min(8)
      .max(1024)
      .default(128)
      .describe('minhashPermutations: hash functions per MinHash signature (more: a finer similarity estimate, slower). Default 128.'),
    seed: z
      .int()
      .min(0)
      .max(0xffffffff)
      .default(1)
      .describe('seed: seed of the MinHash hash functions; the same seed gives the same result. Default 1.'),
    shardBytes: z
      .int()
      .min(1024)
      .max(2 ** 31)
      .default(64 * MiB)
      .describe('shardBytes: maximum size of one token shard file in bytes. Default 67108864 (64 MiB).'),
  })
  .describe('Settings of `pipetrain prepare`: which text, how it is cleaned, deduplicated and filtered, and how it is tokenized and split.');

/** Settings as a user writes them (defaults optional). */
export type PrepareSettingsInput = z.input<typeof PrepareSettingsSchema>;
/** Settings with every default applied. */
export type PrepareSettings = z.output<typeof PrepareSettingsSchema>;
export type PrepareSettingName = keyof PrepareSettings;

/** The command-line flag of a setting: valFraction → --val-fraction. */
export function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A setting's description without its leading "name: ". */
export function settingHelp(name: PrepareSettingName): string {
  const text = PrepareSettingsSchema.shape[name].description ?? '';
  return text.startsWith(`${name}: `) ? text.slice(name.length + 2) : text;
}

/** Parses settings; a problem becomes one line naming the field (or its flag) and what is valid. */
export function parsePrepareSettings(input: unknown, nameOf: (field: string) => string = (field) => field): PrepareSettings {
  const parsed = PrepareSettingsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  throw new PrepareSettingsError(`${field ? `${nameOf(field)}: ` : ''}${issue.message}`);
}

/** A setting out of range or of the wrong type: a user error, permanent like any bad data. */
export class PrepareSettingsError extends DataError {}
