/**
 * Unwrapping 32-bit timestamp counters that wrap with no high word in the stream (Prophesee DAT µs,
 * AEDAT 1.0/2.0 µs, cochlea ticks).
 *
 * Rule: a drop of more than half the range (2^31) from the previous raw value counts as one wrap
 * (+2^32). Smaller drops are kept as they are: they are jitter or corruption, and counting them as
 * wraps would push every later event a whole range (71.6 min at 1 µs) ahead.
 *
 * Decoders keep `base` (wraps so far × 2^32) and `last` (previous raw value) in locals inside their
 * record loops: `base = unwrapBase(base, last, raw); last = raw; t = base + raw`. The function is
 * tiny so that V8 inlines it there.
 * (The EVT 2/3 TIME_HIGH loops follow OpenEB's different thresholds: prophesee/timebase.ts.)
 */

export const WRAP_32 = 4294967296;
export const HALF_WRAP_32 = 2147483648;

/** The wrap base for raw counter value `raw` following `last`: one more wrap when it fell back by more than half the range. */
export function unwrapBase(base: number, last: number, raw: number): number {
  return last - raw > HALF_WRAP_32 ? base + WRAP_32 : base;
}
