import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentAssembler, type AssembledDocument } from './document.ts';

function assemble(documents: string[][], options: Partial<{ dedupParagraphs: boolean; minDedupParagraphChars: number; maxChars: number }> = {}, keep = true): AssembledDocument[] {
  const out: AssembledDocument[] = [];
  const assembler = new DocumentAssembler({ dedupParagraphs: true, minDedupParagraphChars: 10, maxChars: 1000, ...options }, (document) => {
    out.push(document);
    if (keep) assembler.commitParagraphs(document);
  });
  for (const [i, chunks] of documents.entries()) {
    assembler.begin({ file: 0, line: i + 1 });
    for (const chunk of chunks) assembler.lines(chunk);
    assembler.end();
  }
  return out;
}

test('paragraphs are cleaned, split at blank lines across chunks, and joined by one blank line', () => {
  const [document] = assemble([['First  line\nsame paragraph', '', '', 'Second\u00a0one  ', '\n\n\nThird']]);
  assert.equal(document!.text, 'First line\nsame paragraph\n\nSecond one\n\nThird');
  assert.equal(document!.paragraphs, 3);
  assert.equal(document!.chars, document!.text.length);
});

test('a repeated paragraph is removed within a document and across kept documents; short ones stay', () => {
  const long = 'This paragraph is long enough to count.';
  const [a, b] = assemble([[long, '', 'short', '', 'short', '', long], ['Other text here, long enough.', '', long]]);
  assert.equal(a!.text, `${long}\n\nshort\n\nshort`);
  assert.deepEqual(a!.removedParagraphs, [{ index: 4, text: long }]);
  assert.equal(a!.fullText, `${long}\n\nshort\n\nshort\n\n${long}`);
  assert.equal(b!.text, 'Other text here, long enough.');
  assert.deepEqual(b!.removedParagraphs.map((p) => p.index), [2]);
});

test('paragraphs of a document that was not kept do not count as seen', () => {
  const long = 'This paragraph is long enough to count.';
  const [, second] = assemble([[long], [long]], {}, false);
  assert.equal(second!.text, long);
});

test('the document fingerprint ignores blank-line runs and paragraph removal, and differs for other text', () => {
  const [a, b, c] = assemble([['One para\n\nTwo para'], ['One para\n\n\n\nTwo para'], ['One para\n\nTwo paras']], { dedupParagraphs: false });
  assert.deepEqual(a!.key, b!.key);
  assert.notDeepEqual(a!.key, c!.key);
});

test('a document past maxChars drops its text and is marked too long', () => {
  const [document] = assemble([['x'.repeat(600), '', 'y'.repeat(600)]], { maxChars: 1000 });
  assert.equal(document!.tooLong, true);
  assert.equal(document!.text, '');
  assert.equal(document!.chars, 1202);
  assert.equal(document!.fullText, '');
});
