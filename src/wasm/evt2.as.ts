// AssemblyScript kernel: the EVT 2.0 word loop (CD events and forward TIME_HIGH steps) over words in
// linear memory, staging events as struct-of-arrays. Anything else — triggers, monitoring, unknown
// words, a TIME_HIGH that does not move forward — stops the loop so the TypeScript reference in
// src/formats/prophesee/evt2.ts handles it with exactly its semantics, then the loop resumes.
// Memory map (fixed; memory never grows, so JS views stay valid):
//   IN_WORDS at 64 KiB: up to 262,144 input words (1 MiB); staging X, Y (u16), T (f64), P (u8), 8,192 events each.

export const STAGE: i32 = 8192;
export const IN_CAPACITY: i32 = 262144;
export const IN_WORDS: usize = 65536;
export const SX: usize = IN_WORDS + (<usize>IN_CAPACITY << 2);
export const SY: usize = SX + (<usize>STAGE << 1);
export const ST: usize = SY + (<usize>STAGE << 1);
export const SP: usize = ST + (<usize>STAGE << 3);

const LOOP_US: f64 = 17179869184.0; // 2^34

let base: f64 = 0;
let stopIndex: i32 = 0;

/** Kernel state in and out (the same two-number interface for every staging kernel): a = time base. */
export function setState(a: f64, b: f64): void {
  base = a;
}
export function stateA(): f64 {
  return base;
}
export function stateB(): f64 {
  return 0;
}
/** Index of the word the last call stopped at (== end when it ran through). */
export function stoppedAt(): i32 {
  return stopIndex;
}

/** Decode words [i, end) (end - i <= STAGE); returns the number of staged events. */
export function decodeBlock(i: i32, end: i32): i32 {
  let n: i32 = 0;
  let b = base;
  let loops = Math.floor(b / LOOP_US) * LOOP_US;
  for (; i < end; i++) {
    const w = load<u32>(IN_WORDS + (<usize>i << 2));
    const type = w >>> 28;
    if (type <= 1) {
      store<u16>(SX + (<usize>n << 1), <u16>((w >>> 11) & 0x7ff));
      store<u16>(SY + (<usize>n << 1), <u16>(w & 0x7ff));
      store<f64>(ST + (<usize>n << 3), b + <f64>((w >>> 22) & 0x3f));
      store<u8>(SP + <usize>n, <u8>type);
      n++;
    } else if (type == 8) {
      const next = <f64>(w & 0x0fffffff) * 64.0 + loops;
      if (next < b) break; // a step back or a loop: the reference decides
      b = next;
    } else if (type != 0xf) {
      break;
    }
  }
  base = b;
  stopIndex = i;
  return n;
}
