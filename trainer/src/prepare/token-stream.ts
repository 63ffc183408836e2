// Tokenizes kept documents as they come and appends the ids to one temporary file, so memory stays
// bounded whatever the corpus size. The split and the final shards come after the pass
// (shard-writer.ts), when the number of tokens and, for `char`, the vocabulary are known.
//
// - char: ids are handed out in order of first appearance (uint32 in the temporary file) and
//   renumbered to the sorted vocabulary of charVocabulary() when the shards are written;
//   documents are separated by a blank line ("\n\n"), so the token stream reads as one text.
// - gpt2: GPT-2's ids (uint16 in the temporary file); every document ends with <|endoftext|>,
//   as GPT-2's own training data did.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Tokenizer } from '../data/tokenizer.ts';

const BUFFER_TOKENS = 1 << 20;
const DOCUMENT_SEPARATOR = '\n\n';
const MAX_CODE_POINT = 0x10ffff;

export interface TokenStreamResult {
  path: string;
  /** Bytes per id in the temporary file: 4 for char (first-appearance ids), 2 for gpt2. */
  width: 2 | 4;
  tokens: number;
  /** Token offset where each document starts (its separator included), in order. */
  documentStarts: Float64Array;
  /** char only: the characters by first-appearance id. */
  firstSeenChars?: string[];
}

export class TokenStream {
  private readonly fd: number;
  private readonly path: string;
  private readonly encodeText: (text: string, out: TokenStream) => void;
  private readonly width: 2 | 4;
  private readonly buffer: Uint16Array | Uint32Array;
  private filled = 0;
  private tokens = 0;
  private documents = 0;
  private starts = new Float64Array(1024);
  // char: id by code point (-1: not seen yet), and the characters by id.
  private charIds: Int32Array | undefined;
  private chars: string[] = [];
  private readonly tokenizer: Tokenizer;

  constructor(path: string, tokenizer: Tokenizer) {
    this.path = path;
    this.tokenizer = tokenizer;
    this.fd = openSync(path, 'w');
    if (tokenizer.spec.type === 'char') {
      this.width = 4;
      this.buffer = new Uint32Array(BUFFER_TOKENS);
      this.charIds = new Int32Array(MAX_CODE_POINT + 1).fill(-1);
      this.encodeText = (text) => this.encodeChars(text);
    } else {
      this.width = 2;
      this.buffer = new Uint16Array(BUFFER_TOKENS);
      this.encodeText = (text) => this.pushAll(this.tokenizer.encode(text));
    }
  }

  get tokenCount(): number {
    return this.tokens + this.filled;
  }

  /** Appends one document. */
  add(text: string): void {
    this.markStart();
    if (this.charIds) {
      if (this.documents > 1) this.encodeChars(DOCUMENT_SEPARATOR);
      this.encodeChars(text);
    } else {
      this.encodeText(text, this);
      this.push(this.tokenizer.endOfText!);
    }
  }

  finish(): TokenStreamResult {
    this.flush();
    closeSync(this.fd);
    return {
      path: this.path,
      width: this.width,
      tokens: this.tokens,
      documentStarts: this.starts.slice(0, this.documents),
      ...(this.charIds ? { firstSeenChars: this.chars } : {}),
    };
  }

  /** Closes the file after a failure (the caller removes it). */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  private markStart(): void {
    if (this.documents === this.starts.length) {
      const grown = new Float64Array(this.starts.length * 2);
      grown.set(this.starts);
      this.starts = grown;
    }
    this.starts[this.documents++] = this.tokenCount;
  }

  private encodeChars(text: string): void {
    const ids = this.charIds!;
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        code = text.codePointAt(i)!;
        if (code > 0xffff) i++;
      }
      let id = ids[code]!;
      if (id < 0) {
        id = this.chars.length;
        ids[code] = id;
        this.chars.push(String.fromCodePoint(code));
      }
      this.push(id);
    }
  }

  private pushAll(ids: readonly number[]): void {
    for (const id of ids) this.push(id);
  }

  private push(id: number): void {
    this.buffer[this.filled++] = id;
    if (this.filled === this.buffer.length) this.flush();
  }

  private flush(): void {
    if (this.filled === 0) return;
    const bytes = new Uint8Array(this.buffer.buffer, 0, this.filled * this.width);
    for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
    this.tokens += this.filled;
    this.filled = 0;
  }
}
