// AssemblyScript kernel: LZ4 block decompression (the block format inside LZ4 frames), with the same
// bounds checks as the TypeScript reference src/formats/lz4-block.ts. It only reports success (the
// output length) or failure (-1): on failure the caller reruns the reference, which then throws its
// own error with its own message, so errors stay the reference's. It is not a staging kernel and has
// its own memory map (fixed 2 MiB, never grows):
//   IN   64 KiB   the compressed block, up to IN_CAPACITY bytes
//   OUT           the output, up to OUT_CAPACITY bytes; the HISTORY_MAX bytes before OUT hold the
//                 output that precedes the block (linked blocks' matches may reach back into it)
// Speed: event packets compress into many short literal runs and matches, and memory.copy costs a
// call out of WASM each time, so short copies are done 16 bytes at a time ("wild" copies that may
// write up to 15 bytes past their end, and read past the input's: both stay inside this memory,
// and bytes written past the output's end are overwritten next or never copied out).

/** Version of this memory map and exports; the loader refuses a kernel built with another. */
export const LZ4_ABI: i32 = 1;
export const IN: usize = 65536;
export const IN_CAPACITY: i32 = 262144;
export const HISTORY_MAX: i32 = 65535;
export const OUT: usize = IN + <usize>IN_CAPACITY + 65536;
export const OUT_CAPACITY: i32 = 1572864;

/**
 * Decode the block IN[0, srcLen) to OUT, with `history` bytes of earlier output just before OUT and
 * at most `outCap` bytes of room. Returns the output length, or -1 where the reference would throw
 * (or where it would need more room than outCap).
 */
export function decode(srcLen: i32, history: i32, outCap: i32): i32 {
  let s: usize = IN;
  const sEnd: usize = IN + <usize>srcLen;
  let d: usize = OUT;
  const dEnd: usize = OUT + <usize>outCap;
  const lowest: usize = OUT - <usize>history;
  while (s < sEnd) {
    const token = <usize>load<u8>(s++);
    let lit = token >> 4;
    if (lit == 15) {
      let b: usize;
      do {
        if (s >= sEnd) return -1;
        b = <usize>load<u8>(s++);
        lit += b;
      } while (b == 255);
    }
    if (lit > 0) {
      if (s + lit > sEnd || d + lit > dEnd) return -1;
      if (lit <= 32) {
        v128.store(d, v128.load(s));
        if (lit > 16) v128.store(d, v128.load(s, 16), 16);
      } else {
        memory.copy(d, s, lit);
      }
      d += lit;
      s += lit;
    }
    if (s >= sEnd) break; // the last sequence has no match
    if (s + 2 > sEnd) return -1;
    const offset = <usize>load<u16>(s);
    s += 2;
    // The reference's "offset > d" with d counted from the start of its output: here the history
    // holds all of that output, or 65,535 bytes of it (then no u16 offset can reach past it).
    if (offset == 0 || offset > d - lowest) return -1;
    let len = (token & 15) + 4;
    if ((token & 15) == 15) {
      let b: usize;
      do {
        if (s >= sEnd) return -1;
        b = <usize>load<u8>(s++);
        len += b;
      } while (b == 255);
    }
    if (d + len > dEnd) return -1;
    let from = d - offset;
    const e = d + len;
    if (offset >= 16) {
      // 16-byte steps never read bytes they write (offset >= 16), whether or not the match overlaps.
      if (len > 64 && offset >= len) {
        memory.copy(d, from, len);
      } else {
        do {
          v128.store(d, v128.load(from));
          d += 16;
          from += 16;
        } while (d < e);
      }
    } else if (offset >= 8) {
      do {
        store<u64>(d, load<u64>(from));
        d += 8;
        from += 8;
      } while (d < e);
    } else if (offset == 1) {
      memory.fill(d, load<u8>(from), len);
    } else {
      // Overlapping match with a short period: it reads what it has just written, byte by byte.
      while (d < e) store<u8>(d++, load<u8>(from++));
    }
    d = e;
  }
  return <i32>(d - OUT);
}
