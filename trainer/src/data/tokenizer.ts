// Tokenizers shared by `pipetrain prepare` (encoding a corpus), the tokens dataset (vocabulary size)
// and `pipetrain generate` (encoding a prompt, decoding samples). Both work offline:
// - char: the vocabulary is the sorted set of characters (code points) of the prepared data, stored in
//   meta.json, as nanoGPT's shakespeare_char does;
// - gpt2: GPT-2's byte-level BPE (r50k_base, 50,257 tokens), whose ranks ship in `gpt-tokenizer`.
import { DataError } from './dataset.ts';

export type TokenizerSpec = { type: 'char'; vocab: string[] } | { type: 'gpt2' };

export interface Tokenizer {
  readonly spec: TokenizerSpec;
  readonly vocabSize: number;
  /** Token id that separates documents, when the tokenizer has one (gpt2: <|endoftext|>). */
  readonly endOfText?: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** GPT-2's vocabulary: 50,000 merges + 256 bytes + <|endoftext|>. */
export const GPT2_VOCAB_SIZE = 50_257;
export const GPT2_END_OF_TEXT = 50_256;

/** The char vocabulary of some text: its distinct code points, sorted by code point. */
export function charVocabulary(chars: Iterable<string>): string[] {
  return [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

export function charTokenizer(vocab: readonly string[]): Tokenizer {
  const ids = new Map(vocab.map((char, id) => [char, id]));
  if (ids.size !== vocab.length) throw new DataError('char tokenizer: the vocabulary lists a character twice');
  return {
    spec: { type: 'char', vocab: [...vocab] },
    vocabSize: vocab.length,
    encode(text) {
      const out: number[] = [];
      for (const char of text) {
        const id = ids.get(char);
        if (id === undefined) {
          throw new DataError(`char tokenizer: ${JSON.stringify(char)} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the vocabulary of the prepared data`);
        }
        out.push(id);
      }
      return out;
    },
    decode(tokens) {
      return tokens.map((id) => {
        const char = vocab[id];
        if (char === undefined) throw new DataError(`char tokenizer: token id ${id} is outside the vocabulary (0..${vocab.length - 1})`);
        return char;
      }).join('');
    },
  };
}

/** GPT-2 BPE. Special-token text in the input is encoded as ordinary text, never as <|endoftext|>. */
export async function gpt2Tokenizer(): Promise<Tokenizer> {
  const bpe = await import('gpt-tokenizer/encoding/r50k_base');
  const plain = { disallowedSpecial: new Set<string>() };
  return {
    spec: { type: 'gpt2' },
    vocabSize: GPT2_VOCAB_SIZE,
    endOfText: GPT2_END_OF_TEXT,
    encode: (text) => bpe.encode(text, plain),
    decode: (tokens) => bpe.decode(tokens as number[]),
  };
}

export async function loadTokenizer(spec: TokenizerSpec): Promise<Tokenizer> {
  return spec.type === 'char' ? charTokenizer(spec.vocab) : gpt2Tokenizer();
}
