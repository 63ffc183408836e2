// What preparation removed and why: a count per reason and the first few examples of each, as JSON
// (report.json next to the shards, and --json) and as a human table.

export const REMOVAL_REASONS = [
  'duplicate-document',
  'duplicate-paragraph',
  'near-duplicate',
  'empty',
  'too-short',
  'too-long',
  'too-many-symbols',
  'too-many-repeated-lines',
] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];

/** Paragraphs are removed one by one; every other reason removes a whole document. */
export const REASON_UNIT: Record<RemovalReason, 'document' | 'paragraph'> = {
  'duplicate-document': 'document',
  'duplicate-paragraph': 'paragraph',
  'near-duplicate': 'document',
  empty: 'document',
  'too-short': 'document',
  'too-long': 'document',
  'too-many-symbols': 'document',
  'too-many-repeated-lines': 'document',
};

export const EXAMPLES_PER_REASON = 3;
export const EXAMPLE_CHARS = 120;

export interface RemovalExample {
  /** "file:line" of the document, plus " paragraph N" for a paragraph. */
  where: string;
  /** The start of the removed text, on one line. */
  text: string;
  /** For a near-duplicate: where the kept document it resembles starts, and the estimated Jaccard similarity. */
  like?: string;
  similarity?: number;
}

export interface ReasonCount {
  reason: RemovalReason;
  unit: 'document' | 'paragraph';
  count: number;
  chars: number;
  examples: RemovalExample[];
}

export interface PrepareTotals {
  files: number;
  bytes: number;
  documents: number;
  documentsKept: number;
  paragraphs: number;
  paragraphsKept: number;
  /** Characters after cleaning, before removals; and those kept. */
  chars: number;
  charsKept: number;
}

export interface PrepareReport {
  totals: PrepareTotals;
  removed: ReasonCount[];
}

export class RemovalReport {
  private readonly counts = new Map<RemovalReason, ReasonCount>();

  constructor() {
    for (const reason of REMOVAL_REASONS) this.counts.set(reason, { reason, unit: REASON_UNIT[reason], count: 0, chars: 0, examples: [] });
  }

  add(reason: RemovalReason, text: string, chars: number, example: Omit<RemovalExample, 'text'>): void {
    const entry = this.counts.get(reason)!;
    entry.count++;
    entry.chars += chars;
    if (entry.examples.length < EXAMPLES_PER_REASON) entry.examples.push({ ...example, text: excerpt(text) });
  }

  count(reason: RemovalReason): number {
    return this.counts.get(reason)!.count;
  }

  toJSON(totals: PrepareTotals): PrepareReport {
    return { totals, removed: [...this.counts.values()].map((entry) => ({ ...entry, examples: [...entry.examples] })) };
  }
}

/** The first EXAMPLE_CHARS characters on one line, with "…" when cut. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= EXAMPLE_CHARS ? flat : `${flat.slice(0, EXAMPLE_CHARS - 1)}…`;
}

/** The report as a table: one row per reason with removals, then their examples. */
export function formatReport(report: PrepareReport): string {
  const { totals } = report;
  const lines = [
    `Read ${plural(totals.files, 'file')} (${megabytes(totals.bytes)}): ${plural(totals.documents, 'document')}, ${plural(totals.paragraphs, 'paragraph')}; ` +
      `kept ${totals.documentsKept} document(s), ${totals.paragraphsKept} paragraph(s), ${percent(totals.charsKept, totals.chars)} of the characters.`,
  ];
  const rows = report.removed.filter((entry) => entry.count > 0);
  if (rows.length === 0) {
    lines.push('Nothing was removed.');
    return `${lines.join('\n')}\n`;
  }
  const table = [['REASON', 'REMOVED', 'CHARACTERS']].concat(rows.map((r) => [r.reason, plural(r.count, r.unit), `${r.chars} (${percent(r.chars, totals.chars)})`]));
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  for (const row of table) lines.push(`  ${row.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()}`);
  for (const entry of rows) {
    lines.push(`Examples of ${entry.reason}:`);
    for (const example of entry.examples) {
      const like = example.like ? ` (like ${example.like}, similarity ${example.similarity?.toFixed(2)})` : '';
      lines.push(`  ${example.where}${like}: ${example.text}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
