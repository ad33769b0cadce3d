// AssemblyScript kernel: the Prophesee .dat record loop (u32 timestamp, u32 data: x 13..0, y 27..14,
// polarity 31..28) with 32-bit timestamp unwrapping (a drop of more than 2^31 is one wrap, as
// src/formats/wrap32.ts). A record whose polarity field is above 1 stops the loop so the TypeScript
// decoder in src/formats/prophesee/dat.ts reports it, then the loop resumes after it.
// Memory map (fixed; memory never grows): IN_WORDS at 64 KiB holds up to 131,072 records
// (262,144 words); staging X, Y (u16), T (f64), P (u8) hold 8,192 events each.

export const STAGE: i32 = 8192;
/** Capacity in 32-bit words (records × 2). */
export const IN_CAPACITY: i32 = 262144;
export const IN_WORDS: usize = 65536;
export const SX: usize = IN_WORDS + (<usize>IN_CAPACITY << 2);
export const SY: usize = SX + (<usize>STAGE << 1);
export const ST: usize = SY + (<usize>STAGE << 1);
export const SP: usize = ST + (<usize>STAGE << 3);

const WRAP: f64 = 4294967296.0;
const HALF_WRAP: f64 = 2147483648.0;

let base: f64 = 0;
let last: f64 = 0;
let stopIndex: i32 = 0;

/** State in and out: a = wrap base (µs), b = previous raw timestamp. */
export function setState(a: f64, b: f64): void {
  base = a;
  last = b;
}
export function stateA(): f64 {
  return base;
}
export function stateB(): f64 {
  return last;
}
/** Record index the last call stopped at (== end when it ran through). */
export function stoppedAt(): i32 {
  return stopIndex;
}

/** Decode records [i, end) (end - i <= STAGE); returns the number of staged events. */
export function decodeBlock(i: i32, end: i32): i32 {
  let n: i32 = 0;
  let b = base;
  let l = last;
  for (; i < end; i++) {
    const at = IN_WORDS + (<usize>i << 3);
    const d = load<u32>(at, 4);
    if (d > 0x1fffffff) break;
    const ts = <f64>load<u32>(at);
    if (l - ts > HALF_WRAP) b += WRAP;
    l = ts;
    store<u16>(SX + (<usize>n << 1), <u16>(d & 0x3fff));
    store<u16>(SY + (<usize>n << 1), <u16>((d >>> 14) & 0x3fff));
    store<f64>(ST + (<usize>n << 3), b + ts);
    store<u8>(SP + <usize>n, <u8>(d >>> 28));
    n++;
  }
  base = b;
  last = l;
  stopIndex = i;
  return n;
}
