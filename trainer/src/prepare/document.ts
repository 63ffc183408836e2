// Turns the lines of one document (from read-inputs.ts) into cleaned paragraphs, removes exact
// duplicate paragraphs, and hands the finished document on. A paragraph is a block of lines between
// blank lines; the kept paragraphs are joined by one blank line, so runs of blank lines shrink to one.
//
// Memory per document is bounded by maxChars: once a document grows past it, its text is dropped and
// only counted, and it is removed as too-long at its end. (The text is held twice, all paragraphs
// and the kept ones, so a document costs up to 4 bytes per character while it is assembled.)
//
// Paragraph fingerprints of a document are committed to the corpus-wide set only when the whole
// document is kept (commitParagraphs): a paragraph is a duplicate of an earlier *kept* one.
import type { Hash } from 'node:crypto';
import { cleanLines } from './clean.ts';
import { HashSet64 } from './hash-set.ts';
import type { DocumentSink, SourceRef } from './read-inputs.ts';
import { hashText64, keyOfDigest, textHasher, type Key64 } from './text-hash.ts';

export interface RemovedParagraph {
  /** 1-based index of the paragraph in its document. */
  index: number;
  text: string;
}

export interface AssembledDocument {
  source: SourceRef;
  /** The kept paragraphs joined by "\n\n" ("" when too long: see tooLong). */
  text: string;
  /** Every paragraph, removed ones included, joined by "\n\n": what near-duplicate detection compares ("" when too long). */
  fullText: string;
  /** Fingerprint of the whole cleaned document, before paragraph removal. */
  key: Key64;
  /** Characters of the cleaned document before paragraph removal. */
  chars: number;
  paragraphs: number;
  tooLong: boolean;
  removedParagraphs: RemovedParagraph[];
  /** Fingerprints of the new paragraphs, to commit when the document is kept. */
  paragraphKeys: Key64[];
}

export interface AssemblerOptions {
  dedupParagraphs: boolean;
  minDedupParagraphChars: number;
  maxChars: number;
}

export class DocumentAssembler implements DocumentSink {
  private readonly options: AssemblerOptions;
  private readonly onDocument: (document: AssembledDocument) => void;
  private readonly seenParagraphs = new HashSet64(1024);
  private source: SourceRef = { file: 0, line: 0 };
  private paragraphLines: string[] = [];
  private kept: string[] = [];
  private all: string[] = [];
  private chars = 0;
  private paragraphs = 0;
  private tooLong = false;
  private hasher: Hash = textHasher();
  private removed: RemovedParagraph[] = [];
  private newKeys: Key64[] = [];
  private localKeys = new Set<string>();

  constructor(options: AssemblerOptions, onDocument: (document: AssembledDocument) => void) {
    this.options = options;
    this.onDocument = onDocument;
  }

  /** Memory held by the corpus-wide paragraph fingerprints, in bytes. */
  get fingerprintBytes(): number {
    return this.seenParagraphs.bytes;
  }

  begin(source: SourceRef): void {
    this.source = source;
    this.paragraphLines = [];
    this.kept = [];
    this.all = [];
    this.chars = 0;
    this.paragraphs = 0;
    this.tooLong = false;
    this.hasher = textHasher();
    this.removed = [];
    this.newKeys = [];
    this.localKeys = new Set();
  }

  lines(text: string): void {
    for (const line of cleanLines(text).split('\n')) {
      if (line === '') this.endParagraph();
      else this.paragraphLines.push(line);
    }
  }

  end(): void {
    this.endParagraph();
    this.onDocument({
      source: this.source,
      text: this.tooLong ? '' : this.kept.join('\n\n'),
      fullText: this.tooLong ? '' : this.all.join('\n\n'),
      key: keyOfDigest(this.hasher.digest()),
      chars: this.chars,
      paragraphs: this.paragraphs,
      tooLong: this.tooLong,
      removedParagraphs: this.removed,
      paragraphKeys: this.newKeys,
    });
  }

  /** Marks the document's paragraphs as seen: later copies of them are duplicates. */
  commitParagraphs(document: AssembledDocument): void {
    for (const key of document.paragraphKeys) this.seenParagraphs.add(key.hi, key.lo);
  }

  private endParagraph(): void {
    if (this.paragraphLines.length === 0) return;
    const paragraph = this.paragraphLines.join('\n');
    this.paragraphLines = [];
    this.paragraphs++;
    // The separator makes the fingerprint independent of how many blank lines stood between.
    this.hasher.update(paragraph).update('\u0000');
    this.chars += paragraph.length + (this.paragraphs > 1 ? 2 : 0);
    if (this.tooLong) return;
    this.all.push(paragraph);
    if (this.chars > this.options.maxChars) {
      this.dropText();
      return;
    }
    if (this.isDuplicate(paragraph)) {
      this.removed.push({ index: this.paragraphs, text: paragraph });
      return;
    }
    this.kept.push(paragraph);
  }

  private isDuplicate(paragraph: string): boolean {
    if (!this.options.dedupParagraphs || paragraph.length < this.options.minDedupParagraphChars) return false;
    const key = hashText64(paragraph);
    const local = `${key.hi}:${key.lo}`;
    if (this.seenParagraphs.has(key.hi, key.lo) || this.localKeys.has(local)) return true;
    this.localKeys.add(local);
    this.newKeys.push(key);
    return false;
  }

  private dropText(): void {
    this.tooLong = true;
    this.kept = [];
    this.all = [];
    this.removed = [];
    this.newKeys = [];
    this.localKeys = new Set();
  }
}
