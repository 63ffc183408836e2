// `pipetrain prepare` as a function: one streaming pass over the inputs (read → clean → remove
// duplicate paragraphs → remove duplicate documents → quality filters → remove near-duplicates →
// tokenize into a temporary file), then the shards, meta.json and report.json. Memory is bounded by
// the longest document (maxChars) plus the fingerprints of what was kept, whatever the corpus size.
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { META_FILE, type TokenMeta } from '../data/token-shards.ts';
import { charTokenizer, gpt2Tokenizer } from '../data/tokenizer.ts';
import { cachedPreparation } from './cache.ts';
import { DocumentAssembler, type AssembledDocument } from './document.ts';
import { PrepareError, throwIfAborted } from './errors.ts';
import { HashSet64 } from './hash-set.ts';
import { resolveInputs, type InputFile } from './inputs.ts';
import { MinHasher } from './minhash.ts';
import { NearDuplicateIndex } from './near-duplicates.ts';
import { checkOutFolder, createStaging, replaceOutFolder } from './out-folder.ts';
import { qualityReason } from './quality.ts';
import { readInputs, type SourceRef } from './read-inputs.ts';
import { RemovalReport, type PrepareReport, type PrepareTotals, type RemovalReason } from './report.ts';
import type { PrepareSettings } from './settings.ts';
import { writeShards } from './shard-writer.ts';
import { TokenStream } from './token-stream.ts';

export const REPORT_FILE = 'report.json';
const TOKENS_TEMP_FILE = 'tokens.tmp';

export interface PrepareProgress {
  bytesRead: number;
  totalBytes: number;
  documents: number;
  documentsKept: number;
  tokens: number;
}

export interface PrepareOptions {
  /** Relative inputs resolve against it (the job file's folder, or the current one). */
  baseDir: string;
  out: string;
  signal?: AbortSignal;
  onProgress?: (progress: PrepareProgress) => void;
  /** How messages name the input and output settings ("--input" on the command line). */
  inputLabel?: string;
  outLabel?: string;
}

export interface PrepareResult {
  out: string;
  meta: TokenMeta;
  report: PrepareReport;
  seconds: number;
  /** True when the output was already prepared from the same inputs and settings: nothing was written. */
  upToDate: boolean;
}

export async function prepare(settings: PrepareSettings, options: PrepareOptions): Promise<PrepareResult> {
  const started = performance.now();
  const out = resolve(options.baseDir, options.out);
  const files = await resolveInputs(settings.input, options.baseDir, options.inputLabel ?? '--input');
  await checkOutFolder(out, options.outLabel ?? '--out');
  const cached = await cachedPreparation(out, files, settings, REPORT_FILE);
  if (cached) return { out, ...cached, seconds: (performance.now() - started) / 1000, upToDate: true };
  const tokenizer = settings.tokenizer === 'gpt2' ? await gpt2Tokenizer() : charTokenizer([' ']);
  const staging = await createStaging(out, options.outLabel ?? '--out');
  try {
    const { inputHashes, stream, report, nearDuplicateLsh } = await runPass(settings, files, new TokenStream(join(staging, TOKENS_TEMP_FILE), tokenizer), options);
    if (stream.tokens === 0) throw new PrepareError(emptyCorpusMessage(report.totals, report));
    throwIfAborted(options.signal);
    const shards = writeShards(staging, stream, settings);
    await rm(stream.path);
    const meta: TokenMeta = {
      ...shards,
      source: {
        inputs: files.map((file, i) => ({ name: file.name, bytes: file.bytes, sha256: inputHashes[i] })),
        settings,
        totals: report.totals,
        removed: Object.fromEntries(report.removed.map((entry) => [entry.reason, entry.count])),
        nearDuplicateLsh,
      },
    };
    await writeFile(join(staging, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(staging, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    throwIfAborted(options.signal);
    await replaceOutFolder(staging, out);
    return { out, meta, report, seconds: (performance.now() - started) / 1000, upToDate: false };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The streaming pass, in a function of its own so that its fingerprint tables (documents,
 * paragraphs, MinHash bands: tens of MB per GB of text) can be collected before the shards are
 * written; only the report and the token stream leave it.
 */
async function runPass(settings: PrepareSettings, files: readonly InputFile[], tokens: TokenStream, options: PrepareOptions) {
  const pass = new PreparePass(settings, files, tokens);
  const inputHashes = await pass.run(options);
  return { inputHashes, stream: pass.finishTokens(), report: pass.report.toJSON(pass.totals()), nearDuplicateLsh: pass.lshParameters };
}

function emptyCorpusMessage(totals: PrepareTotals, report: PrepareReport): string {
  const removed = report.removed.filter((entry) => entry.count > 0).map((entry) => `${entry.count} ${entry.reason}`).join(', ');
  return totals.documents === 0
    ? '--input: the inputs hold no document (empty files or JSON Lines without records); nothing was written'
    : `--input: nothing is left to train on: all ${totals.documents} document(s) were removed (${removed}); loosen the filters (e.g. --min-chars) or check the input; nothing was written`;
}

/** The state of one pass: what was seen and kept so far, and where kept text goes. */
class PreparePass {
  readonly report = new RemovalReport();
  private readonly settings: PrepareSettings;
  private readonly files: readonly InputFile[];
  private readonly tokens: TokenStream;
  private readonly assembler: DocumentAssembler;
  private readonly documents = new HashSet64(1024);
  private readonly minHasher: MinHasher | undefined;
  private readonly nearDuplicates: NearDuplicateIndex | undefined;
  /** Where each near-duplicate-indexed kept document starts, for the report's examples. */
  private keptSources: SourceRef[] = [];
  private counts = { documents: 0, documentsKept: 0, paragraphs: 0, paragraphsKept: 0, chars: 0, charsKept: 0, bytes: 0 };

  constructor(settings: PrepareSettings, files: readonly InputFile[], tokens: TokenStream) {
    this.settings = settings;
    this.files = files;
    this.tokens = tokens;
    this.assembler = new DocumentAssembler(settings, (document) => this.onDocument(document));
    if (settings.nearDuplicates) {
      this.minHasher = new MinHasher(settings.minhashPermutations, settings.shingleWords, settings.seed);
      this.nearDuplicates = new NearDuplicateIndex(settings.minhashPermutations, settings.nearDuplicateThreshold);
    }
  }

  get lshParameters() {
    return this.nearDuplicates?.parameters;
  }

  async run(options: PrepareOptions): Promise<string[]> {
    const totalBytes = this.files.reduce((sum, file) => sum + file.bytes, 0);
    const report = (bytes: number) => {
      this.counts.bytes = bytes;
      options.onProgress?.({ bytesRead: bytes, totalBytes, documents: this.counts.documents, documentsKept: this.counts.documentsKept, tokens: this.tokens.tokenCount });
    };
    try {
      const hashes = await readInputs(this.files, this.assembler, { textField: this.settings.textField, signal: options.signal, onBytes: report });
      report(this.counts.bytes);
      return hashes;
    } catch (error) {
      this.tokens.abandon();
      throw error;
    }
  }

  finishTokens() {
    return this.tokens.finish();
  }

  totals(): PrepareTotals {
    return { files: this.files.length, ...this.counts };
  }

  private where(source: SourceRef): string {
    return `${this.files[source.file]!.name}:${source.line}`;
  }

  private onDocument(document: AssembledDocument): void {
    this.counts.documents++;
    this.counts.paragraphs += document.paragraphs;
    this.counts.chars += document.chars;
    const reason = this.removalReason(document);
    if (reason) {
      this.report.add(reason, document.text, document.chars, { where: this.where(document.source) });
      return;
    }
    // Near-duplicates are a relation of whole documents: compare them before paragraph removal.
    const signature = this.minHasher?.signature(document.fullText);
    if (signature) {
      const match = this.nearDuplicates!.find(signature);
      if (match) {
        const like = this.where(this.keptSources[match.document]!);
        this.report.add('near-duplicate', document.text, document.chars, { where: this.where(document.source), like, similarity: match.similarity });
        return;
      }
      this.nearDuplicates!.add(signature);
      this.keptSources.push(document.source);
    }
    this.keep(document);
  }

  private removalReason(document: AssembledDocument): RemovalReason | undefined {
    if (this.settings.dedupDocuments && this.documents.has(document.key.hi, document.key.lo)) return 'duplicate-document';
    if (document.tooLong) return 'too-long';
    return qualityReason(document.text, this.settings);
  }

  private keep(document: AssembledDocument): void {
    if (this.settings.dedupDocuments) this.documents.add(document.key.hi, document.key.lo);
    this.assembler.commitParagraphs(document);
    for (const paragraph of document.removedParagraphs) {
      this.report.add('duplicate-paragraph', paragraph.text, paragraph.text.length, { where: `${this.where(document.source)} paragraph ${paragraph.index}` });
    }
    this.counts.documentsKept++;
    this.counts.paragraphsKept += document.paragraphs - document.removedParagraphs.length;
    this.counts.charsKept += document.text.length;
    this.tokens.add(document.text);
  }
}
