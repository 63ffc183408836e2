// Quality filters on a cleaned document: length, share of non-letter symbols, share of repeated
// lines. Pure functions of the text, so each is tested on its own.

export type QualityReason = 'empty' | 'too-short' | 'too-long' | 'too-many-symbols' | 'too-many-repeated-lines';

export interface QualityLimits {
  minChars: number;
  maxChars: number;
  maxSymbolShare: number;
  maxRepeatedLineShare: number;
}

const LETTER = /[\p{L}\p{M}]/u;
const SPACE = /\s/u;

/** Share of the non-space characters (code points) that are not letters: digits, punctuation, symbols. */
export function symbolShare(text: string): number {
  let counted = 0;
  let symbols = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) {
      if (code === 32 || code === 10 || code === 9 || code === 13) continue;
      counted++;
      if (!((code >= 65 && code <= 90) || (code >= 97 && code <= 122))) symbols++;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    if (char.length === 2) i++;
    if (SPACE.test(char)) continue;
    counted++;
    if (!LETTER.test(char)) symbols++;
  }
  return counted === 0 ? 0 : symbols / counted;
}

/** Share of the non-blank lines that repeat an earlier line of the same text (compared trimmed). */
export function repeatedLineShare(text: string): number {
  const seen = new Set<string>();
  let lines = 0;
  let repeated = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    lines++;
    if (seen.has(line)) repeated++;
    else seen.add(line);
  }
  return lines === 0 ? 0 : repeated / lines;
}

/** Why a document fails the filters, or undefined when it passes. `text` is the document as kept. */
export function qualityReason(text: string, limits: QualityLimits): QualityReason | undefined {
  if (text.length === 0) return 'empty';
  if (text.length < limits.minChars) return 'too-short';
  if (text.length > limits.maxChars) return 'too-long';
  if (symbolShare(text) > limits.maxSymbolShare) return 'too-many-symbols';
  if (repeatedLineShare(text) > limits.maxRepeatedLineShare) return 'too-many-repeated-lines';
  return undefined;
}
