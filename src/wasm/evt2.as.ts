// AssemblyScript kernel: the EVT 2.0 word loop (CD events, TIME_HIGH with OpenEB's 34-bit loop
// tracking, CONTINUED skipped) over input words, writing events as struct-of-arrays (layout.ts).
// Triggers, monitoring, IMU and unknown words stop the loop at that word, unconsumed: the TypeScript
// decoder (src/formats/prophesee/evt2.ts) handles it with exactly its semantics and calls again after it.
// The words are taken 8 at a time with 128-bit SIMD, as CD events; the CD words before the first other
// word of the 8 count, that word is handled alone (TIME_HIGH, CONTINUED) and the next 8 start after it.
// State: STATE[0] = time base (µs, loops included).

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
 * Decode words [i, end) into the event arrays at ox, oy, ot, op (layout.ts). A word gives at most one
 * event, so at most `room` words are taken (end is lowered to i + room: the caller passes that end).
 * Returns the number of events written.
 */
export function decodeBlock(i: i32, end: i32, ox: usize, oy: usize, ot: usize, op: usize, room: i32): i32 {
  if (end - i > room) end = i + room;
  let n: i32 = 0;
  let base = load<f64>(STATE);
  const cdMax = i32x4.splat(0x1fffffff); // a word above this is not a CD word (type nibble above 1)
  const m11 = i32x4.splat(0x7ff);
  const m6 = i32x4.splat(0x3f);
  while (i + 8 <= end) {
    // 8 words as CD events (x 21..11, y 10..0, ts_low 27..22, polarity = type), stored unconditionally:
    // only those before the first other word count. (n + 8 <= room here, since n <= i − first i.)
    const at = IN_WORDS + (<usize>i << 2);
    const a = v128.load(at);
    const c = v128.load(at, 16);
    v128.store(ox + (<usize>n << 1), i16x8.narrow_i32x4_u(v128.and(i32x4.shr_u(a, 11), m11), v128.and(i32x4.shr_u(c, 11), m11)));
    v128.store(oy + (<usize>n << 1), i16x8.narrow_i32x4_u(v128.and(a, m11), v128.and(c, m11)));
    const la = v128.and(i32x4.shr_u(a, 22), m6);
    const lc = v128.and(i32x4.shr_u(c, 22), m6);
    const b2 = f64x2.splat(base);
    const tp = ot + (<usize>n << 3);
    v128.store(tp, f64x2.add(b2, f64x2.convert_low_i32x4_u(la)));
    v128.store(tp, f64x2.add(b2, f64x2.convert_low_i32x4_u(i32x4.shuffle(la, la, 2, 3, 2, 3))), 16);
    v128.store(tp, f64x2.add(b2, f64x2.convert_low_i32x4_u(lc)), 32);
    v128.store(tp, f64x2.add(b2, f64x2.convert_low_i32x4_u(i32x4.shuffle(lc, lc, 2, 3, 2, 3))), 48);
    const p16 = i16x8.narrow_i32x4_u(i32x4.shr_u(a, 28), i32x4.shr_u(c, 28));
    v128.store64_lane(op + <usize>n, i8x16.narrow_i16x8_u(p16, p16), 0);
    const others = i32x4.bitmask(i32x4.gt_u(a, cdMax)) | (i32x4.bitmask(i32x4.gt_u(c, cdMax)) << 4);
    if (others == 0) {
      n += 8;
      i += 8;
      continue;
    }
    const k = ctz(others);
    n += k;
    i += k;
    // Word i is not a CD word.
    const w = load<u32>(IN_WORDS + (<usize>i << 2));
    const type = w >>> 28;
    if (type == 8) base = nextTimeBase(base, <f64>(w & 0x0fffffff) * 64.0);
    else if (type != 0xf) return stop(i, n, base);
    i++;
  }
  // The tail: the same as the TypeScript reference loop.
  for (; i < end; i++) {
    const w = load<u32>(IN_WORDS + (<usize>i << 2));
    const type = w >>> 28;
    if (type <= 1) {
      store<u16>(ox + (<usize>n << 1), <u16>((w >>> 11) & 0x7ff));
      store<u16>(oy + (<usize>n << 1), <u16>(w & 0x7ff));
      store<f64>(ot + (<usize>n << 3), base + <f64>((w >>> 22) & 0x3f));
      store<u8>(op + <usize>n, <u8>type);
      n++;
    } else if (type == 8) {
      base = nextTimeBase(base, <f64>(w & 0x0fffffff) * 64.0);
    } else if (type != 0xf) {
      return stop(i, n, base);
    }
  }
  return stop(i, n, base);
}

/** Save the state and where the loop stopped; returns the events staged. */
// @ts-ignore: decorator
@inline function stop(i: i32, n: i32, base: f64): i32 {
  store<f64>(STATE, base);
  stopIndex = i;
  return n;
}
