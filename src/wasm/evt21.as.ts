// AssemblyScript kernel: the EVT 2.1 word loop (64-bit words read as two little-endian u32 halves) over
// input words, writing events as struct-of-arrays (layout.ts): CD words (one event per set bit b of
// the 32-bit mask at x + b, in increasing b), TIME_HIGH with OpenEB's 34-bit loop tracking, CONTINUED
// skipped — exactly as src/formats/prophesee/evt21.ts. Triggers, OTHERS and unknown words stop the
// loop at that word, unconsumed, and so does a full output area: the TypeScript decoder then decodes
// that one word with its reference loop and calls again after it.
// Units are 64-bit words. State: STATE[0] = time base (µs, loops included), STATE[1] = word order
// (0 little: mask first, then type/ts/x/y; 1 legacy: type/ts/x/y first).

import { IN_WORDS, STATE } from './layout';
export { ABI, STAGE, IN_CAPACITY, IN_WORDS, STATE, SX, SY, ST, SP, ARENA, MEMORY_PAGES } from './layout';

const LOOP_US: f64 = 17179869184.0; // 2^34
const LOOP_DROP_US: f64 = LOOP_US - 64.0 - 640.0;

let stopIndex: i32 = 0;

/** Index of the word the last call stopped at (== end when it ran through). */
export function stoppedAt(): i32 {
  return stopIndex;
}

/** prophesee/timebase.ts nextTimeBase: same IEEE operations, so the same doubles. */
// @ts-ignore: decorator
@inline function nextTimeBase(current: f64, highUs: f64): f64 {
  let next = highUs + Math.floor(current / LOOP_US) * LOOP_US;
  if (current > next && current - next >= LOOP_DROP_US) next += LOOP_US;
  return next;
}

/**
 * Decode 64-bit words [i, end) into the event arrays at ox, oy, ot, op (layout.ts) until fewer than 32
 * of their `room` events are left (a CD word gives at most 32); returns the number of events written.
 */
export function decodeBlock(i: i32, end: i32, ox: usize, oy: usize, ot: usize, op: usize, room: i32): i32 {
  const limit = room - 32;
  let base = load<f64>(STATE);
  const typeHalf: usize = load<f64>(STATE, 8) != 0 ? 0 : 4;
  const maskHalf: usize = 4 - typeHalf;
  let n: i32 = 0;
  for (; i < end; i++) {
    if (n > limit) break;
    const at = IN_WORDS + (<usize>i << 3);
    const h = load<u32>(at + typeHalf);
    const type = h >>> 28;
    if (type <= 1) {
      const x = (h >>> 11) & 0x7ff;
      const y = <u16>(h & 0x7ff);
      const t = base + <f64>((h >>> 22) & 0x3f);
      let mask = load<u32>(at + maskHalf);
      while (mask != 0) {
        store<u16>(ox + (<usize>n << 1), <u16>(x + ctz(mask)));
        store<u16>(oy + (<usize>n << 1), y);
        store<f64>(ot + (<usize>n << 3), t);
        store<u8>(op + <usize>n, <u8>type);
        n++;
        mask &= mask - 1;
      }
    } else if (type == 8) {
      base = nextTimeBase(base, <f64>(h & 0x0fffffff) * 64.0);
    } else if (type != 0xf) {
      break; // EXT_TRIGGER, OTHERS or an unknown type: the TypeScript reference decodes it
    }
  }
  store<f64>(STATE, base);
  stopIndex = i;
  return n;
}
