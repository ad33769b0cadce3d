// AssemblyScript: the per-pixel event filters (refractory, background-activity denoise) over one
// batch of events in this instance's memory. The TypeScript loops in operators/refractory.ts and
// operators/denoise.ts are the reference; these make the same decisions with the same f64 arithmetic,
// so the kept events are the same, bit for bit (test/operators/filter-kernels.test.ts).
//
// The memory is imported (one per filter, sized by src/events/filter-kernels.ts): the loader places
// the batch (x u16, y u16, t f64, p u8; `cap` events) and the per-pixel last times (f64) above
// heapBase() and passes their addresses in. Kept events are compacted in place at the front of the
// batch: event i is read before slot n <= i is written, so nothing unread is overwritten.

export function heapBase(): usize {
  return __heap_base;
}

/** Index of the first event outside width × height, or -1 when all lie inside. */
function firstOutside(n: i32, xs: usize, ys: usize, width: i32, height: i32): i32 {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 1;
    if (<i32>load<u16>(xs + o) >= width || <i32>load<u16>(ys + o) >= height) return i;
  }
  return -1;
}

/** Event (x, y, t, p) into slot k of the batch: k is at most the event's own index, so already read. */
@inline function put(k: i32, xs: usize, ys: usize, ts: usize, ps: usize, x: u16, y: u16, t: f64, p: u8): void {
  const k2 = <usize>k << 1;
  store<u16>(xs + k2, x);
  store<u16>(ys + k2, y);
  store<f64>(ts + (<usize>k << 3), t);
  store<u8>(ps + <usize>k, p);
}

/**
 * Refractory period: an event is kept when its pixel's last kept event is at least `period` older
 * (`t - last < period` drops it); a kept event restarts the period. `plane` is added to the pixel
 * index of ON events (per-polarity periods) or 0. Returns the number kept, or -(i + 1) when event i
 * lies outside the geometry (then nothing is changed).
 */
export function refractory(n: i32, xs: usize, ys: usize, ts: usize, ps: usize, last: usize, width: i32, height: i32, plane: i32, period: f64): i32 {
  const bad = firstOutside(n, xs, ys, width, height);
  if (bad >= 0) return -(bad + 1);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const o2 = <usize>i << 1;
    const x = load<u16>(xs + o2);
    const y = load<u16>(ys + o2);
    const t = load<f64>(ts + (<usize>i << 3));
    const p = load<u8>(ps + <usize>i);
    const cell = last + ((<usize>(<i32>y * width + <i32>x + (p ? plane : 0))) << 3);
    if (t - load<f64>(cell) < period) continue;
    store<f64>(cell, t);
    put(kept, xs, ys, ts, ps, x, y, t, p);
    kept++;
  }
  return kept;
}

/**
 * Background-activity filter: an event is kept when another pixel of the (2r + 1)² square around it
 * had an event less than `window` µs before. Every event updates its own pixel's last time. `last` is
 * padded by r cells on every side (pitch width + 2r), the padding never written (−∞), so the square
 * needs no bounds checks. Returns the number kept, or -(i + 1) when event i lies outside the geometry.
 */
export function denoise(n: i32, xs: usize, ys: usize, ts: usize, ps: usize, last: usize, width: i32, height: i32, r: i32, window: f64): i32 {
  const bad = firstOutside(n, xs, ys, width, height);
  if (bad >= 0) return -(bad + 1);
  const pitch = <usize>(width + 2 * r) << 3;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const o2 = <usize>i << 1;
    const x = load<u16>(xs + o2);
    const y = load<u16>(ys + o2);
    const t = load<f64>(ts + (<usize>i << 3));
    const p = load<u8>(ps + <usize>i);
    const self = last + (<usize>((<i32>y + r) * (width + 2 * r) + <i32>x + r) << 3);
    let supported = false;
    if (r == 1) {
      // The 8 neighbours as one expression: no early exit, so no unpredictable branches.
      const up = self - pitch;
      const down = self + pitch;
      supported =
        (t - load<f64>(up - 8) < window) |
        (t - load<f64>(up) < window) |
        (t - load<f64>(up + 8) < window) |
        (t - load<f64>(self - 8) < window) |
        (t - load<f64>(self + 8) < window) |
        (t - load<f64>(down - 8) < window) |
        (t - load<f64>(down) < window) |
        (t - load<f64>(down + 8) < window);
    } else {
      for (let dy = -r; dy <= r && !supported; dy++) {
        const row = self + <usize>(<isize>dy * <isize>pitch);
        for (let dx = -r; dx <= r; dx++) {
          if ((dx | dy) != 0 && t - load<f64>(row + <usize>(<isize>dx << 3)) < window) {
            supported = true;
            break;
          }
        }
      }
    }
    store<f64>(self, t);
    // Written whether kept or not (branch-free); counted only when kept.
    put(kept, xs, ys, ts, ps, x, y, t, p);
    kept += <i32>supported;
  }
  return kept;
}
