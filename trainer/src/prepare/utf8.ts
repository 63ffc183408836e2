// Where a file stops being UTF-8: only called after TextDecoder refused a chunk, to name the exact
// byte offset in the error (the decoder itself says only "The encoded data was not valid").

/** A streaming UTF-8 validator (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
export class Utf8Validator {
  private need = 0; // continuation bytes still expected
  private low = 0x80; // allowed range of the next continuation byte
  private high = 0xbf;
  private start = 0; // offset of the sequence being read
  private offset = 0;

  /** Feeds bytes; returns the offset of the first invalid sequence, or -1. */
  feed(bytes: Uint8Array): number {
    for (let i = 0; i < bytes.length; i++, this.offset++) {
      const byte = bytes[i]!;
      if (this.need > 0) {
        if (byte < this.low || byte > this.high) return this.start;
        this.low = 0x80;
        this.high = 0xbf;
        this.need--;
        continue;
      }
      this.start = this.offset;
      if (byte < 0x80) continue;
      if (byte >= 0xc2 && byte <= 0xdf) this.need = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        this.need = 2;
        if (byte === 0xe0) this.low = 0xa0; // no overlong 3-byte forms
        if (byte === 0xed) this.high = 0x9f; // no UTF-16 surrogates
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        this.need = 3;
        if (byte === 0xf0) this.low = 0x90; // no overlong 4-byte forms
        if (byte === 0xf4) this.high = 0x8f; // nothing above U+10FFFF
      } else return this.offset;
    }
    return -1;
  }

  /** At the end of the input: the offset of a truncated last sequence, or -1. */
  finish(): number {
    return this.need > 0 ? this.start : -1;
  }
}

export function firstInvalidUtf8(bytes: Uint8Array): number {
  const validator = new Utf8Validator();
  const at = validator.feed(bytes);
  return at >= 0 ? at : validator.finish();
}
