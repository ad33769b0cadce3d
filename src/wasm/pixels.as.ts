// AssemblyScript: the per-pixel event filters (refractory, background-activity denoise) over one
// batch of events in this instance's memory. The TypeScript loops in operators/refractory.ts and
// operators/denoise.ts are the reference; these make the same decisions with the same f64 arithmetic,
// so the kept events are the same, bit for bit (test/operators/pixel-kernels.test.ts).
//
// The memory is imported (one per filter, sized by src/events/pixel-kernels.ts): the loader places
// the batch (x u16, y u16, t f64, p u8; `cap` events) and the per-pixel last times (f64) above
// heapBase() and passes their addresses in, with `list`: BATCH i32 for the indices of the events a
// filter keeps, after 8 bytes of its own (list − 8, a write-off slot). A filter decides for every
// event without branching on the outcome, which is close to a coin toss per event in a replay and
// which a branch mispredicts, and lists the kept ones; then it moves them in place to the front of
// the batch: event i is read before slot n <= i is written, so nothing unread is overwritten.

export function heapBase(): usize {
  return __heap_base;
}

/** Index of the first event outside width × height, or -1 when all lie inside. Eight events a step. */
function firstOutside(n: i32, xs: usize, ys: usize, width: i32, height: i32): i32 {
  const w = i16x8.splat(<i16>width);
  const h = i16x8.splat(<i16>height);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 1;
    if (v128.any_true(v128.or(i16x8.ge_u(v128.load(xs + o), w), i16x8.ge_u(v128.load(ys + o), h)))) break;
  }
  for (; i < n; i++) {
    const o = <usize>i << 1;
    if (<i32>load<u16>(xs + o) >= width || <i32>load<u16>(ys + o) >= height) return i;
  }
  return -1;
}

/** Moves the `kept` listed events (ascending indices at `list`) to slots 0 … kept − 1, in order. */
function compact(kept: i32, list: usize, xs: usize, ys: usize, ts: usize, ps: usize): void {
  // Events kept from the first on are already in their slots.
  let k = 0;
  while (k < kept && load<i32>(list + (<usize>k << 2)) == k) k++;
  for (; k < kept; k++) {
    const i = <usize>load<i32>(list + (<usize>k << 2));
    const k2 = <usize>k << 1;
    store<u16>(xs + k2, load<u16>(xs + (i << 1)));
    store<u16>(ys + k2, load<u16>(ys + (i << 1)));
    store<f64>(ts + (<usize>k << 3), load<f64>(ts + (i << 3)));
    store<u8>(ps + <usize>k, load<u8>(ps + i));
  }
}

/**
 * Refractory period: an event is kept when its pixel's last kept event is at least `period` older
 * (`t - last < period` drops it); a kept event restarts the period. `plane` is added to the pixel
 * index of ON events (per-polarity periods) or 0. Returns the number kept, or -(i + 1) when event i
 * lies outside the geometry (then nothing is changed).
 */
export function refractory(n: i32, xs: usize, ys: usize, ts: usize, ps: usize, list: usize, last: usize, width: i32, height: i32, plane: i32, period: f64): i32 {
  const bad = firstOutside(n, xs, ys, width, height);
  if (bad >= 0) return -(bad + 1);
  const writeOff = list - 8;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const o2 = <usize>i << 1;
    const t = load<f64>(ts + (<usize>i << 3));
    const on = plane ? <i32>(load<u8>(ps + <usize>i) != 0) * plane : 0;
    const cell = last + ((<usize>(<i32>load<u16>(ys + o2) * width + <i32>load<u16>(xs + o2) + on)) << 3);
    const keep = !(t - load<f64>(cell) < period);
    // A dropped event's time goes to the write-off slot: only a kept event dirties its pixel's cache
    // line (storing the old value back into every cell instead ran as slow as the branch).
    store<f64>(select<usize>(cell, writeOff, keep), t);
    store<i32>(list + (<usize>kept << 2), i);
    kept += <i32>keep;
  }
  compact(kept, list, xs, ys, ts, ps);
  return kept;
}

/**
 * Background-activity filter: an event is kept when another pixel of the (2r + 1)² square around it
 * had an event less than `window` µs before. Every event updates its own pixel's last time. `last` is
 * padded by r cells on every side (pitch width + 2r), the padding never written (−∞), so the square
 * needs no bounds checks. Returns the number kept, or -(i + 1) when event i lies outside the geometry.
 */
export function denoise(n: i32, xs: usize, ys: usize, ts: usize, ps: usize, list: usize, last: usize, width: i32, height: i32, r: i32, window: f64): i32 {
  const bad = firstOutside(n, xs, ys, width, height);
  if (bad >= 0) return -(bad + 1);
  const pitch = <usize>(width + 2 * r) << 3;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const o2 = <usize>i << 1;
    const x = load<u16>(xs + o2);
    const y = load<u16>(ys + o2);
    const t = load<f64>(ts + (<usize>i << 3));
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
    // Listed whether kept or not (branch-free); counted only when kept.
    store<i32>(list + (<usize>kept << 2), i);
    kept += <i32>supported;
  }
  compact(kept, list, xs, ys, ts, ps);
  return kept;
}

/**
 * Frame counts (adapters/ws-frames.ts FrameAccumulator's loop): events from the first of the batch
 * are counted into `counts` (u8 per pixel, saturating at 255) until one at or past `windowEnd` (the
 * first event is counted whatever its time when `force`: it opens the window). A pixel whose count
 * leaves 0 is listed in `touched`. Events outside width × height are only tallied as clipped. The
 * tallies live at `tally`: i32 touched so far, events counted, clipped. Returns the index stopped at
 * (n when the batch is done).
 */
export function countFrame(n: i32, xs: usize, ys: usize, ts: usize, counts: usize, touched: usize, tally: usize, width: i32, height: i32, windowEnd: f64, force: bool): i32 {
  let nt = load<i32>(tally);
  let events = load<i32>(tally, 4);
  let clipped = load<i32>(tally, 8);
  let i = 0;
  for (; i < n; i++) {
    if (load<f64>(ts + (<usize>i << 3)) >= windowEnd && !(force && i == 0)) break;
    const x = <i32>load<u16>(xs + (<usize>i << 1));
    const y = <i32>load<u16>(ys + (<usize>i << 1));
    if (x >= width || y >= height) {
      clipped++;
      continue;
    }
    const k = y * width + x;
    const c = load<u8>(counts + <usize>k);
    // Branch-free: the list entry is written always and kept only for a first touch.
    store<i32>(touched + (<usize>nt << 2), k);
    nt += <i32>(c == 0);
    store<u8>(counts + <usize>k, c + <u8>(c < 255));
    events++;
  }
  store<i32>(tally, nt);
  store<i32>(tally, events, 4);
  store<i32>(tally, clipped, 8);
  return i;
}

/** Zeroes the counts of the n listed pixels (the window was emitted). */
export function clearTouched(counts: usize, touched: usize, n: i32): void {
  for (let q = 0; q < n; q++) store<u8>(counts + <usize>load<i32>(touched + (<usize>q << 2)), 0);
}

/**
 * The sparse counts section of a frame message (adapters/ws-frames.ts countsPayload): u32 nnz, then
 * the nnz pixel indices (u32, ascending), then their counts (u8), written at `out`. `nnz` is the
 * number of non-zero counts, known from the touched list. Zero blocks of 16 pixels are skipped whole.
 * Little-endian, as WebAssembly memory is.
 */
export function sparsePayload(counts: usize, pixels: i32, nnz: i32, out: usize): void {
  store<u32>(out, <u32>nnz);
  let index = out + 4;
  let value = out + 4 + (<usize>nnz << 2);
  for (let i = 0; i < pixels; i += 16) {
    const end = min(i + 16, pixels);
    // A whole block of zeros is skipped in one test (the last, partial block is scanned).
    if (end - i == 16 && !v128.any_true(v128.load(counts + <usize>i))) continue;
    for (let j = i; j < end; j++) {
      const c = load<u8>(counts + <usize>j);
      if (c == 0) continue;
      store<u32>(index, <u32>j);
      store<u8>(value, c);
      index += 4;
      value++;
    }
  }
}
