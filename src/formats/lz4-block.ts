/**
 * LZ4 block decompression (the block format inside LZ4 frames), bounds-checked: a corrupt block
 * throws instead of writing out of range or reading past its end. Long literal runs and
 * non-overlapping matches are copied in bulk (`set` / `copyWithin`), which is what makes it several
 * times faster than a byte-at-a-time loop on event data (long repeated runs).
 *
 * Block layout: sequences of [token: literal length (hi 4 bits) | match length − 4 (lo 4 bits)]
 * [extra literal length bytes while 255] [literals] [u16 LE offset] [extra match length bytes].
 * The last sequence has literals only.
 */

export class Lz4BlockError extends Error {
  override name = 'Lz4BlockError';
}

const BULK = 32;

/**
 * Decode the block src[sStart, sStart+sLength) into dst starting at dStart.
 * Returns the new end of the output. Throws Lz4BlockError when the block is malformed or would
 * write past dst's end.
 */
export function lz4DecodeBlock(src: Uint8Array, sStart: number, sLength: number, dst: Uint8Array, dStart: number): number {
  const sEnd = sStart + sLength;
  const dEnd = dst.length;
  if (sEnd > src.length) throw new Lz4BlockError('block extends past its input');
  let s = sStart;
  let d = dStart;
  while (s < sEnd) {
    const token = src[s++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new Lz4BlockError('truncated literal length');
        b = src[s++]!;
        lit += b;
      } while (b === 255);
    }
    if (lit > 0) {
      if (s + lit > sEnd) throw new Lz4BlockError(`literals run ${s + lit - sEnd} bytes past the block`);
      if (d + lit > dEnd) throw new Lz4BlockError('literals overflow the output');
      if (lit >= BULK) {
        dst.set(src.subarray(s, s + lit), d);
        d += lit;
        s += lit;
      } else {
        for (const e = s + lit; s < e; ) dst[d++] = src[s++]!;
      }
    }
    if (s >= sEnd) break; // the last sequence has no match
    if (s + 2 > sEnd) throw new Lz4BlockError('truncated match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > d) throw new Lz4BlockError(`match offset ${offset} reaches before the output start`);
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new Lz4BlockError('truncated match length');
        b = src[s++]!;
        len += b;
      } while (b === 255);
    }
    if (d + len > dEnd) throw new Lz4BlockError('match overflows the output');
    let from = d - offset;
    if (offset >= len && len >= BULK) {
      dst.copyWithin(d, from, from + len);
      d += len;
    } else if (offset === 1) {
      dst.fill(dst[from]!, d, d + len);
      d += len;
    } else {
      // Overlapping (or short) match: byte order matters, the copy reads what it just wrote.
      for (const e = d + len; d < e; ) dst[d++] = dst[from++]!;
    }
  }
  return d;
}
