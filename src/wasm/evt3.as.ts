// AssemblyScript kernel: the EVT 3.0 word loop (16-bit words) over input words, writing events as
// struct-of-arrays (layout.ts). It decodes ADDR_Y, ADDR_X, VECT_BASE_X, VECT_12, VECT_8, TIME_LOW,
// TIME_HIGH (OpenEB's 24-bit loop tracking) and skips CONTINUED (0x7, 0xF), exactly as
// src/formats/prophesee/evt3.ts. Any other word (EM_Y, triggers, IMU, OTHERS, unknown types) stops
// the loop at that word, unconsumed, and so does a full output area: the TypeScript decoder then
// decodes that one word with its reference loop and calls again after it.
// Speed: the word types of a real stream alternate irregularly (Y X X Y X B V V v L Y X …), so a
// word-at-a-time loop spends most of its time on mispredicted branches (the same loop in C, gcc -O2,
// is no faster). Most words are ADDR_Y / ADDR_X, so 8 words at a time are examined with SIMD: the
// ADDR_Y/ADDR_X words before the first other word are decoded together (y by a prefix-max scan, the
// ADDR_X lanes gathered in order by a 256-entry swizzle table), then a scalar loop — the reference's
// if-chain — takes the other words up to the next ADDR_Y/ADDR_X. ~1.4x the scalar loop alone on
// evt3_expelliarmus_sample.raw, ~2x on pure ADDR_Y/ADDR_X streams.
// State (f64 slots): 0 time base (µs, loops included), 1 current time, 2 y, 3 vector base x,
// 4 vector polarity, 5 CD mode (1) or EM mode (0).

import { IN_WORDS, STATE, TABLES } from './layout';
export { ABI, STAGE, IN_CAPACITY, IN_WORDS, STATE, SX, SY, ST, SP, ARENA, MEMORY_PAGES } from './layout';

const LOOP_US: f64 = 16777216.0; // 2^24
const LOOP_DROP_US: f64 = LOOP_US - 4096.0 - 40960.0;

let stopIndex: i32 = 0;

/** 256 byte-swizzle masks: for an 8-bit lane mask m, gather the u16 lanes j of the set bits j of m, in order. */
const COMPRESS: usize = TABLES;
for (let m = 0; m < 256; m++) {
  let o: usize = 0;
  for (let j = 0; j < 8; j++) {
    if ((m >> j) & 1) {
      store<u8>(COMPRESS + (<usize>m << 4) + o, <u8>(2 * j));
      store<u8>(COMPRESS + (<usize>m << 4) + o + 1, <u8>(2 * j + 1));
      o += 2;
    }
  }
}

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
 * Decode 16-bit words [i, end) into the event arrays at ox, oy, ot, op (layout.ts) until fewer than 12
 * of their `room` events are left (a vector word gives at most 12, a SIMD group writes 8 slots);
 * returns the number of events written.
 */
export function decodeBlock(i: i32, end: i32, ox: usize, oy: usize, ot: usize, op: usize, room: i32): i32 {
  const limit = room - 12;
  let base = load<f64>(STATE);
  let time = load<f64>(STATE, 8);
  let y = <i32>load<f64>(STATE, 16);
  let xBase = <i32>load<f64>(STATE, 24);
  let polarity = <i32>load<f64>(STATE, 32);
  let cd = <i32>load<f64>(STATE, 40);
  let n: i32 = 0;
  const m7ff = i16x8.splat(0x7ff);
  const lanes = i16x8(0, 1, 2, 3, 4, 5, 6, 7);
  const laneKeys = i16x8(1 << 11, 2 << 11, 3 << 11, 4 << 11, 5 << 11, 6 << 11, 7 << 11, 8 << 11);
  while (i < end) {
    if (n > limit) break;
    if (cd != 0 && i + 8 <= end) {
      // The ADDR_Y / ADDR_X words among the next 8, up to the first other word (lane k), with SIMD.
      const v = v128.load(IN_WORDS + (<usize>i << 1));
      const types = i16x8.shr_u(v, 12);
      const isX = i16x8.eq(types, i16x8.splat(2));
      const isY = i16x8.eq(types, i16x8.splat(0));
      const k = ctz(i16x8.bitmask(v128.not(v128.or(isX, isY))) | 0x100);
      if (k > 0) {
        // y of lane j: the last ADDR_Y at or before j (before k), else y — a prefix max over keys
        // (lane + 1) << 11 | y for those ADDR_Y lanes and y (key 0 << 11 | y) elsewhere.
        const low = v128.and(v, m7ff);
        const yIn = i16x8.splat(<i16>y);
        let key = v128.bitselect(v128.or(laneKeys, low), yIn, v128.and(isY, i16x8.lt_u(lanes, i16x8.splat(<i16>k))));
        key = i16x8.max_s(key, i16x8.shuffle(key, yIn, 8, 0, 1, 2, 3, 4, 5, 6));
        key = i16x8.max_s(key, i16x8.shuffle(key, yIn, 8, 8, 0, 1, 2, 3, 4, 5));
        key = i16x8.max_s(key, i16x8.shuffle(key, yIn, 8, 8, 8, 8, 0, 1, 2, 3));
        const ys = v128.and(key, m7ff);
        // Keep the ADDR_X lanes before k, in order.
        const xMask = i16x8.bitmask(isX) & ((1 << k) - 1);
        const gather = v128.load(COMPRESS + (<usize>xMask << 4));
        v128.store(ox + (<usize>n << 1), i8x16.swizzle(low, gather));
        v128.store(oy + (<usize>n << 1), i8x16.swizzle(ys, gather));
        const p16 = i8x16.swizzle(v128.and(i16x8.shr_u(v, 11), i16x8.splat(1)), gather);
        v128.store64_lane(op + <usize>n, i8x16.narrow_i16x8_u(p16, p16), 0);
        const t2 = f64x2.splat(time);
        const tp = ot + (<usize>n << 3);
        v128.store(tp, t2);
        v128.store(tp, t2, 16);
        v128.store(tp, t2, 32);
        v128.store(tp, t2, 48);
        n += popcnt(xMask);
        y = i16x8.extract_lane_u(ys, 7);
        i += k;
        if (k == 8) continue;
      }
    }
    // Scalar, as the TypeScript reference: word i (not ADDR_Y / ADDR_X, or no room for SIMD) and the
    // words after it up to the next ADDR_Y / ADDR_X.
    do {
      if (n > limit) break;
      const w = <i32>load<u16>(IN_WORDS + (<usize>i << 1));
      const type = w >>> 12;
      const low11 = w & 0x7ff;
      if (type == 0x2) {
        if (cd != 0) {
          store<u16>(ox + (<usize>n << 1), <u16>low11);
          store<u16>(oy + (<usize>n << 1), <u16>y);
          store<f64>(ot + (<usize>n << 3), time);
          store<u8>(op + <usize>n, <u8>((w >>> 11) & 1));
          n++;
        }
      } else if (type == 0x0) {
        y = low11;
        cd = 1;
      } else if (type == 0x4 || type == 0x5) {
        // VECT_12 / VECT_8: events at xBase + b for the set bits b, in increasing b.
        let valid = type == 0x4 ? w & 0xfff : w & 0xff;
        if (cd != 0) {
          while (valid != 0) {
            store<u16>(ox + (<usize>n << 1), <u16>(xBase + ctz(valid)));
            store<u16>(oy + (<usize>n << 1), <u16>y);
            store<f64>(ot + (<usize>n << 3), time);
            store<u8>(op + <usize>n, <u8>polarity);
            n++;
            valid &= valid - 1;
          }
        }
        xBase = (xBase + (type == 0x4 ? 12 : 8)) & 0xffff;
      } else if (type == 0x3) {
        xBase = low11;
        polarity = (w >>> 11) & 1;
      } else if (type == 0x6) {
        time = base + <f64>(w & 0xfff);
      } else if (type == 0x8) {
        base = nextTimeBase(base, <f64>((w & 0xfff) << 12));
        time = base;
      } else if (type != 0x7 && type != 0xf) {
        // EM_Y, EXT_TRIGGER, IMU, OTHERS or an unknown type: the TypeScript reference decodes it.
        return stop(i, n, base, time, y, xBase, polarity, cd);
      }
      i++;
    } while (i < end && (load<u16>(IN_WORDS + (<usize>i << 1)) & 0xd000) != 0);
  }
  return stop(i, n, base, time, y, xBase, polarity, cd);
}

/** Save the state and where the loop stopped; returns the events staged. */
// @ts-ignore: decorator
@inline function stop(i: i32, n: i32, base: f64, time: f64, y: i32, xBase: i32, polarity: i32, cd: i32): i32 {
  store<f64>(STATE, base);
  store<f64>(STATE, time, 8);
  store<f64>(STATE, <f64>y, 16);
  store<f64>(STATE, <f64>xBase, 24);
  store<f64>(STATE, <f64>polarity, 32);
  store<f64>(STATE, <f64>cd, 40);
  stopIndex = i;
  return n;
}
