// Generated English-like text for prepare's tests and benchmark: seeded, so every run writes the same
// bytes; words drawn from a fixed list, in sentences and paragraphs, so documents differ (no
// accidental duplicates) and pass the default quality filters.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const WORDS = ('the of and a to in is was that he for it with as his on be at by had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three').split(' ');

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** One document of about `chars` characters: paragraphs of sentences of words. */
export function generatedDocument(next: () => number, chars: number): string {
  const paragraphs: string[] = [];
  let length = 0;
  while (length < chars) {
    const sentences: string[] = [];
    const count = 2 + Math.floor(next() * 5);
    for (let s = 0; s < count; s++) {
      const words: string[] = [];
      const n = 6 + Math.floor(next() * 14);
      for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(next() * WORDS.length)]!);
      const sentence = words.join(' ');
      sentences.push(`${sentence[0]!.toUpperCase()}${sentence.slice(1)}${next() < 0.2 ? '?' : '.'}`);
    }
    const paragraph = sentences.join(' ');
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
  }
  return paragraphs.join('\n\n');
}

/** Writes about `bytes` of JSON Lines, one generated document of about `documentChars` per record. */
export async function writeGeneratedJsonl(path: string, bytes: number, options: { seed?: number; documentChars?: number } = {}): Promise<number> {
  const next = random(options.seed ?? 1);
  const out = createWriteStream(path);
  let written = 0;
  while (written < bytes) {
    const line = `${JSON.stringify({ text: generatedDocument(next, options.documentChars ?? 4000) })}\n`;
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return written;
}

export function generatedText(seed: number, chars: number): string {
  return generatedDocument(random(seed), chars);
}
