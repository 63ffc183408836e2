// Cleaning of text, a chunk of whole lines at a time: Unicode NFC, control characters removed (tab
// and newline kept), whitespace normalized. Ordinary text passes unchanged: only what no author
// meant to type goes (a stray control byte, trailing spaces, a run of spaces inside a line, a BOM).
// Leading indentation is kept, since verse and code use it (Moby Dick quotes verse indented by five
// spaces). Runs of blank lines are limited where paragraphs are assembled (document.ts), since they
// cross chunks.
//
// Each rewrite runs only when a cheap test finds something to rewrite: most text needs none, and a
// regular expression that finds nothing scans at several hundred MB/s.

// Anything the character rewrites below would change: controls, odd line breaks and spaces, a BOM.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ODD_CHARACTERS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/;
// Line breaks in other clothes: NEL (U+0085), LINE SEPARATOR, PARAGRAPH SEPARATOR.
const LINE_BREAKS = /[\u0085\u2028\u2029]/g;
// C0 and C1 controls except tab and newline, and the byte-order mark / zero-width no-break space.
const CONTROLS = /(?![\t\n])[\p{Cc}\uFEFF]/gu;
// Space separators other than the ASCII space (no-break space, en/em spaces, ideographic space...).
const SPACES = /(?! )\p{Zs}/gu;
// Anything the whitespace rewrites below would change (or leading indentation, which they keep).
const ODD_WHITESPACE = /[ \t]\n| {2}|\t|[ \t]$/;
const TRAILING = /[ \t]+$/gm;
// After a visible character: a run of two or more spaces or tabs, or a single tab.
const INNER_RUNS = /(?<=[^ \t\n])(?:[ \t]{2,}|\t)/g;

/** Cleans complete lines (joined by "\n"); keeps the number of lines. */
export function cleanLines(text: string): string {
  let out = text.normalize('NFC');
  if (ODD_CHARACTERS.test(out)) out = out.replace(LINE_BREAKS, '\n').replace(CONTROLS, '').replace(SPACES, ' ');
  if (ODD_WHITESPACE.test(out)) out = out.replace(TRAILING, '').replace(INNER_RUNS, ' ');
  return out;
}
