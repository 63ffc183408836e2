import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXAMPLE_CHARS, EXAMPLES_PER_REASON, excerpt, formatReport, RemovalReport } from './report.ts';

const totals = { files: 1, bytes: 2_000_000, documents: 10, documentsKept: 6, paragraphs: 40, paragraphsKept: 30, chars: 1000, charsKept: 600 };

test('counts every removal by reason, keeping the first few examples', () => {
  const report = new RemovalReport();
  for (let i = 0; i < 5; i++) report.add('too-short', `short ${i}`, 7, { where: `a.txt:${i + 1}` });
  report.add('near-duplicate', 'text', 4, { where: 'b.txt:1', like: 'a.txt:1', similarity: 0.91 });
  const json = report.toJSON(totals);
  const short = json.removed.find((entry) => entry.reason === 'too-short')!;
  assert.equal(short.count, 5);
  assert.equal(short.chars, 35);
  assert.equal(short.unit, 'document');
  assert.equal(short.examples.length, EXAMPLES_PER_REASON);
  assert.deepEqual(short.examples[0], { where: 'a.txt:1', text: 'short 0' });
  assert.equal(report.count('duplicate-paragraph'), 0);
  assert.equal(json.removed.find((entry) => entry.reason === 'duplicate-paragraph')!.unit, 'paragraph');
  const table = formatReport(json);
  assert.match(table, /^Read 1 file \(2\.0 MB\): 10 documents, 40 paragraphs; kept 6 document\(s\), 30 paragraph\(s\), 60\.0% of the characters\.\n/);
  assert.ok(table.includes([
    '  REASON          REMOVED      CHARACTERS',
    '  near-duplicate  1 document   4 (0.4%)',
    '  too-short       5 documents  35 (3.5%)',
  ].join('\n')), table);
  assert.match(table, /\n {2}b\.txt:1 \(like a\.txt:1, similarity 0\.91\): text\n/);
});

test('examples are one line and cut to a fixed length', () => {
  assert.equal(excerpt('a\n\n b\tc '), 'a b c');
  const long = excerpt('w'.repeat(500));
  assert.equal(long.length, EXAMPLE_CHARS);
  assert.ok(long.endsWith('…'));
  assert.match(formatReport(new RemovalReport().toJSON(totals)), /\nNothing was removed\.\n$/);
});
