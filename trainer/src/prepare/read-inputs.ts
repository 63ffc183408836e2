// Streams the input files as documents into a sink, a chunk of complete lines at a time, so memory
// stays bounded whatever the size of a file: a text file is one document, read 1 MiB at a time; a
// JSON Lines file is one document per record. Line ends become "\n" (CRLF and lone CR too). On the
// way it hashes every file (SHA-256, for the cache) and refuses what is not text: a NUL byte or an
// invalid UTF-8 sequence names the file and where.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { PrepareError, describeErrno, throwIfAborted } from './errors.ts';
import type { InputFile } from './inputs.ts';
import { MiB } from './settings.ts';
import { Utf8Validator } from './utf8.ts';

/** Where a document starts: the index of its file in the input list and its line there (1-based). */
export interface SourceRef {
  file: number;
  line: number;
}

export interface DocumentSink {
  begin(source: SourceRef): void;
  /** One or more complete lines of the current document joined by "\n", without a final newline. */
  lines(text: string): void;
  end(): void;
}

export interface ReadOptions {
  textField: string;
  signal?: AbortSignal;
  /** Called after each chunk with the bytes read so far from all files. */
  onBytes?: (bytes: number) => void;
}

const CHUNK_BYTES = MiB;
/** Longest line accepted (UTF-16 code units): a longer one is not ordinary text (minified or binary data). */
export const MAX_LINE_CHARS = 64 * MiB;

/** Reads every file into the sink; returns the SHA-256 of each file's bytes, in order. */
export async function readInputs(files: readonly InputFile[], sink: DocumentSink, options: ReadOptions): Promise<string[]> {
  const hashes: string[] = [];
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let total = 0;
  for (const [index, file] of files.entries()) {
    const handle = await open(file.path, 'r').catch((error: unknown) => {
      throw new PrepareError(`${file.name}: cannot read it: ${describeErrno(error)}`);
    });
    try {
      const lines = file.kind === 'jsonl' ? new JsonLinesSplitter(file.name, index, options.textField, sink) : new TextDocument(file.name, index, sink);
      const hash = createHash('sha256');
      const decoder = new TextDecoder('utf-8', { fatal: true });
      for (;;) {
        throwIfAborted(options.signal);
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        const bytes = buffer.subarray(0, bytesRead);
        hash.update(bytes);
        let text: string;
        try {
          text = decoder.decode(bytes, { stream: true });
        } catch {
          throw new PrepareError(`${file.name}: not UTF-8 text (an invalid byte sequence at byte ${await invalidOffset(handle)}); binary files cannot be prepared: remove it from the input`);
        }
        lines.push(text);
        total += bytesRead;
        options.onBytes?.(total);
      }
      try {
        lines.push(decoder.decode());
      } catch {
        throw new PrepareError(`${file.name}: not UTF-8 text (it ends inside a multi-byte character, at byte ${await invalidOffset(handle)})`);
      }
      lines.finish();
      hashes.push(hash.digest('hex'));
    } finally {
      await handle.close();
    }
  }
  return hashes;
}

async function invalidOffset(handle: FileHandle): Promise<number> {
  const validator = new Utf8Validator();
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return validator.finish();
    const at = validator.feed(buffer.subarray(0, bytesRead));
    if (at >= 0) return at;
    position += bytesRead;
  }
}

/** Cuts decoded text into complete lines, keeping the unfinished last line for the next chunk. */
abstract class LineSplitter {
  private rest = '';
  protected linesSeen = 0;
  protected readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  push(text: string): void {
    if (text.length === 0) return;
    const all = this.rest + text;
    const cut = all.lastIndexOf('\n');
    if (cut < 0) {
      this.rest = all;
      if (this.rest.length > MAX_LINE_CHARS) throw new PrepareError(`${this.name}: line ${this.linesSeen + 1} is longer than ${MAX_LINE_CHARS / MiB} Mi characters; prepare reads text with line breaks (is this a binary or minified file?)`);
      return;
    }
    this.rest = all.slice(cut + 1);
    // Through the "\n" itself, so that a "\r" before it becomes one line end, not two.
    const lines = normalizeLineEnds(all.slice(0, cut + 1)).slice(0, -1);
    this.checkText(lines);
    this.complete(lines);
  }

  finish(): void {
    const rest = normalizeLineEnds(this.rest);
    this.rest = '';
    this.checkText(rest);
    this.last(rest);
  }

  /** Raw lines of the file (before JSON parsing): a NUL byte means binary data. */
  private checkText(text: string): void {
    const nul = text.indexOf('\u0000');
    if (nul >= 0) {
      const line = this.linesSeen + 1 + countNewlines(text, nul);
      throw new PrepareError(`${this.name}: a NUL byte in line ${line}; binary files cannot be prepared: remove it from the input`);
    }
  }

  protected abstract complete(lines: string): void;
  protected abstract last(line: string): void;
}

export function normalizeLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < end; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** A text file: one document, its lines passed on as they come. */
class TextDocument extends LineSplitter {
  private readonly sink: DocumentSink;

  constructor(name: string, file: number, sink: DocumentSink) {
    super(name);
    this.sink = sink;
    sink.begin({ file, line: 1 });
  }

  protected complete(lines: string): void {
    this.sink.lines(lines);
    this.linesSeen += countNewlines(lines, lines.length) + 1;
  }

  protected last(line: string): void {
    if (line.length > 0) this.complete(line);
    this.sink.end();
  }
}

/** A JSON Lines file: each non-blank line is a record, and its text field one document. */
class JsonLinesSplitter extends LineSplitter {
  private readonly sink: DocumentSink;
  private readonly file: number;
  private readonly field: string;

  constructor(name: string, file: number, field: string, sink: DocumentSink) {
    super(name);
    this.sink = sink;
    this.file = file;
    this.field = field;
  }

  protected complete(lines: string): void {
    for (const line of lines.split('\n')) this.record(line);
  }

  protected last(line: string): void {
    if (line.length > 0) this.record(line);
  }

  private record(line: string): void {
    const number = ++this.linesSeen;
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new PrepareError(`${this.name}:${number}: not valid JSON (${(error as Error).message}); a JSON Lines file holds one JSON object per line`);
    }
    const text = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[this.field] : undefined;
    if (typeof text !== 'string') {
      const fields = typeof record === 'object' && record !== null && !Array.isArray(record) ? Object.keys(record).slice(0, 5).map((key) => JSON.stringify(key)).join(', ') : '';
      throw new PrepareError(`${this.name}:${number}: the record has no string field ${JSON.stringify(this.field)}${fields ? ` (its fields: ${fields})` : ''}; name the text field with --text-field`);
    }
    this.sink.begin({ file: this.file, line: number });
    if (text.length > 0) this.sink.lines(normalizeLineEnds(text));
    this.sink.end();
  }
}
