import { isUtf8 } from 'node:buffer';

const EMPTY = Buffer.alloc(0);

/**
 * Streams bytes through unchanged, except that every byte that is not part of
 * a well-formed UTF-8 sequence (stray continuation bytes, overlong forms,
 * encoded surrogates — CESU-8 —, code points past U+10FFFF, a sequence cut
 * off by the end of input) is replaced by 0x00. The length never changes, so
 * the structure a parser sees (delimiters, quotes and newlines are ASCII,
 * always valid) is kept, and the rows holding such bytes are refused exactly
 * as rows holding a NUL are — instead of being decoded into U+FFFD and stored.
 * Chunks that are valid (nearly all) are passed on without a copy.
 */
export class Utf8Scrubber {
  private carry: Buffer = EMPTY;

  push(chunk: Buffer): Buffer {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = incompleteTail(bytes);
    this.carry = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : EMPTY;
    const complete = bytes.subarray(0, cut);
    return isUtf8(complete) ? complete : scrub(complete);
  }

  /** What is left at the end of input: an unfinished sequence, hence invalid. */
  end(): Buffer {
    const rest = this.carry;
    this.carry = EMPTY;
    return rest.length > 0 ? scrub(rest) : rest;
  }
}

/** Where a multi-byte sequence that the end of `bytes` cuts off begins (bytes.length when none is). */
function incompleteTail(bytes: Buffer): number {
  const length = bytes.length;
  for (let i = length - 1; i >= Math.max(0, length - 3); i--) {
    const byte = bytes[i]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length - i < need ? i : length;
  }
  return length;
}

/** A copy of `bytes` with every byte outside a well-formed sequence (Unicode Table 3-7) set to 0x00. */
function scrub(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const cont = (i: number, low = 0x80, high = 0xbf) => i < out.length && out[i]! >= low && out[i]! <= high;
  let i = 0;
  while (i < out.length) {
    const b = out[i]!;
    let length = 0;
    if (b < 0x80) length = 1;
    else if (b >= 0xc2 && b <= 0xdf) length = cont(i + 1) ? 2 : 0;
    else if (b === 0xe0) length = cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) length = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (b === 0xed) length = cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
    else if (b === 0xf0) length = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (b >= 0xf1 && b <= 0xf3) length = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (b === 0xf4) length = cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    if (length === 0) {
      out[i] = 0;
      i += 1;
    } else i += length;
  }
  return out;
}
