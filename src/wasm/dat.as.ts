// AssemblyScript kernel: the Prophesee .dat CD record loop (u32 timestamp, u32 data: x 13..0, y 27..14,
// polarity 31..28) with 32-bit timestamp unwrapping (a drop of more than 2^31 is one wrap, as
// src/formats/wrap32.ts). A record whose polarity field is above 1 stops the loop at that record,
// unconsumed, so the TypeScript decoder (src/formats/prophesee/dat.ts) reports it; then it calls again
// after it. Records are taken 8 at a time with 128-bit SIMD; those before the first bad record or 32-bit
// wrap of the 8 count, that record is handled alone and the next 8 start after it.
// Units are records (two input words). State: STATE[0] = wrap base (µs), STATE[1] = previous raw timestamp.

import { IN_WORDS, STATE } from './layout';
export { ABI, STAGE, IN_CAPACITY, IN_WORDS, STATE, SX, SY, ST, SP, ARENA, MEMORY_PAGES } from './layout';

const WRAP: f64 = 4294967296.0;
const HALF: i32 = 0x80000000;
const TWO52: f64 = 4503599627370496.0;

let stopIndex: i32 = 0;

/** Record index the last call stopped at (== end when it ran through). */
export function stoppedAt(): i32 {
  return stopIndex;
}

/**
 * Decode records [i, end) into the event arrays at ox, oy, ot, op (layout.ts). A record gives at most
 * one event, so at most `room` records are taken (end is lowered to i + room: the caller passes that
 * end). Returns the number of events written.
 */
export function decodeBlock(i: i32, end: i32, ox: usize, oy: usize, ot: usize, op: usize, room: i32): i32 {
  if (end - i > room) end = i + room;
  let n: i32 = 0;
  let base = load<f64>(STATE);
  let last = <u32>load<f64>(STATE, 8);
  const magic = i32x4.splat(0x43300000); // high word of the double 2^52
  const half = i32x4.splat(HALF);
  const below = i32x4.splat(0x7fffffff);
  const m14 = i32x4.splat(0x3fff);
  const one = i16x8.splat(1);
  // t = (2^52 + ts) − (2^52 − base): the double with high word 0x43300000 and low word ts is 2^52 + ts;
  // both terms are exact integers, so the one rounding gives exactly the reference's base + ts.
  let offset = f64x2.splat(TWO52 - base);
  let prev = i32x4.splat(last); // lane 3: the timestamp before the next 8
  while (i + 8 <= end) {
    // 8 records as events, stored unconditionally: only those before the first bad record or wrap
    // count. (n + 8 <= room here, since n <= i − first i.)
    const at = IN_WORDS + (<usize>i << 3);
    const r0 = v128.load(at);
    const r1 = v128.load(at, 16);
    const r2 = v128.load(at, 32);
    const r3 = v128.load(at, 48);
    const tsA = i32x4.shuffle(r0, r1, 0, 2, 4, 6);
    const dA = i32x4.shuffle(r0, r1, 1, 3, 5, 7);
    const tsB = i32x4.shuffle(r2, r3, 0, 2, 4, 6);
    const dB = i32x4.shuffle(r2, r3, 1, 3, 5, 7);
    v128.store(ox + (<usize>n << 1), i16x8.narrow_i32x4_u(v128.and(dA, m14), v128.and(dB, m14)));
    v128.store(oy + (<usize>n << 1), i16x8.narrow_i32x4_u(v128.and(i32x4.shr_u(dA, 14), m14), v128.and(i32x4.shr_u(dB, 14), m14)));
    const tp = ot + (<usize>n << 3);
    v128.store(tp, f64x2.sub(i32x4.shuffle(tsA, magic, 0, 4, 1, 5), offset));
    v128.store(tp, f64x2.sub(i32x4.shuffle(tsA, magic, 2, 6, 3, 7), offset), 16);
    v128.store(tp, f64x2.sub(i32x4.shuffle(tsB, magic, 0, 4, 1, 5), offset), 32);
    v128.store(tp, f64x2.sub(i32x4.shuffle(tsB, magic, 2, 6, 3, 7), offset), 48);
    const p16 = i16x8.narrow_i32x4_u(i32x4.shr_u(dA, 28), i32x4.shr_u(dB, 28));
    v128.store64_lane(op + <usize>n, i8x16.narrow_i16x8_u(p16, p16), 0);
    // A wrap (prev − ts > 2^31) means ts < 2^31 and prev > ts + 2^31, i.e. (prev ^ 2^31) > ts as signed
    // numbers; min_u(ts, 2^31 − 1) keeps a ts of 2^31 or more from passing. A bad record: polarity above 1.
    const wrapA = i32x4.gt_s(v128.xor(i32x4.shuffle(prev, tsA, 3, 4, 5, 6), half), i32x4.min_u(tsA, below));
    const wrapB = i32x4.gt_s(v128.xor(i32x4.shuffle(tsA, tsB, 3, 4, 5, 6), half), i32x4.min_u(tsB, below));
    const flagged = i16x8.bitmask(v128.or(i16x8.gt_s(p16, one), i16x8.narrow_i32x4_s(wrapA, wrapB)));
    if (flagged == 0) {
      prev = tsB;
      n += 8;
      i += 8;
      continue;
    }
    const k = ctz(flagged);
    if (k > 0) {
      last = load<u32>(IN_WORDS + (<usize>(i + k - 1) << 3));
      n += k;
      i += k;
    } else last = <u32>i32x4.extract_lane(prev, 3);
    // Record i is bad (stop: the TypeScript decoder reports it) or wraps (decoded alone).
    if (!record(i, n, base, last, ox, oy, ot, op)) return stop(i, n, base, last);
    base = recBase;
    last = recLast;
    offset = f64x2.splat(TWO52 - base);
    prev = i32x4.splat(last);
    n++;
    i++;
  }
  last = <u32>i32x4.extract_lane(prev, 3);
  // The tail: the same as the TypeScript reference loop.
  for (; i < end; i++) {
    if (!record(i, n, base, last, ox, oy, ot, op)) return stop(i, n, base, last);
    base = recBase;
    last = recLast;
    n++;
  }
  return stop(i, n, base, last);
}

let recBase: f64 = 0;
let recLast: u32 = 0;

/** Write record i as event n, as the TypeScript loop does (false for a bad record); the state after it goes to recBase, recLast. */
// @ts-ignore: decorator
@inline function record(i: i32, n: i32, base: f64, last: u32, ox: usize, oy: usize, ot: usize, op: usize): bool {
  const at = IN_WORDS + (<usize>i << 3);
  const d = load<u32>(at, 4);
  if (d > 0x1fffffff) return false;
  const ts = load<u32>(at);
  if (<f64>last - <f64>ts > 2147483648.0) base += WRAP;
  store<u16>(ox + (<usize>n << 1), <u16>(d & 0x3fff));
  store<u16>(oy + (<usize>n << 1), <u16>((d >>> 14) & 0x3fff));
  store<f64>(ot + (<usize>n << 3), base + <f64>ts);
  store<u8>(op + <usize>n, <u8>(d >>> 28));
  recBase = base;
  recLast = ts;
  return true;
}

/** Save the state and where the loop stopped; returns the events staged. */
// @ts-ignore: decorator
@inline function stop(i: i32, n: i32, base: f64, last: u32): i32 {
  store<f64>(STATE, base);
  store<f64>(STATE, <f64>last, 8);
  stopIndex = i;
  return n;
}
