// AssemblyScript kernels of the SNN engine's WASM backend (src/snn/backends/wasm.ts). Each is the
// TypeScript reference kernel of the same name written over byte offsets into the imported linear
// memory, where the network's state arena lives: same loops, same float64 operations in the same
// order, so results are bit-identical. SIMD (f64x2) is used only for element-wise products, which
// round lane by lane exactly as scalar multiplication does.
//
// Memory: imported, sized by the loader to the network before instantiation and never grown (so
// the JavaScript views of the arena stay attached). Nothing here allocates; the arena starts above
// heapBase().

/** End of this module's static data: the arena must start at or above it. */
export function heapBase(): usize {
  return __heap_base;
}

/** Scratch used by the kernels: [scratchStart(), scratchEnd()), between the statics and the arena. */
export function scratchStart(): usize {
  return GEOMETRY;
}

/** Where the loader writes a conv kernel's geometry (9 × i32) before a conv call. */
const GEOMETRY: usize = 16384 - 64;
export function geometryAt(): usize {
  return GEOMETRY;
}
export function scratchEnd(): usize {
  return FLAGS + (<usize>FLAG_BITS >> 3);
}

// ---------------------------------------------------------------- spike history helpers

/** Slot of step u ≥ 0 in a ring of `slots`. */
@inline function slotOf(u: i32, slots: i32): i32 {
  return u % slots;
}

// ---------------------------------------------------------------- group staging
//
// Delivery is bound by memory latency: each (spike, delay) group is ~6 synapses at a random place
// of ~12 MB of post/weight arrays, behind a random groupStart read. The reference's single loop
// chains those misses (groupStart, then post/weight, then the next group). Here a step's groups are
// first staged, in delivery order, as (start, end) ranges in a scratch area (independent groupStart
// reads), their post/weight lines are then touched (independent reads: the CPU overlaps many misses),
// and only then delivered from cache, group by group in the same order — so every sum is the same.
// Besides, the whole block (all delays) of each new spike is touched when it spikes: its groups are
// adjacent and are read over the next D steps, and a contiguous block streams in faster.
//
// On a 2-core AMD EPYC guest with 1 MiB L2 per core the per-chunk touch pass cost more than it saved
// for the compact copy (groups read from L2/L3 anyway), so the compact path has none. Compact tables
// normally go through the arrival queues below; this staged path remains their fallback.

/** Scratch for staged groups: CHUNK (start, end) pairs of i32, below the arena (see heapBase()). */
const SCRATCH: usize = 16384;
const CHUNK: i32 = 4096;
/** Sink for the touch pass, so its loads are not optimised away. */
let sink: i32 = 0;

/** Touches the first and last post and weight entries of staged groups [0, m) (pulls their cache lines in). */
@inline function touch(m: i32, post: usize, weight: usize): void {
  let acc: i32 = 0;
  for (let i = 0; i < m; i++) {
    const r = SCRATCH + (<usize>i << 3);
    const s = <usize>load<i32>(r);
    const e = <usize>load<i32>(r, 4);
    if (s < e) {
      acc += load<i32>(post + (s << 2)) + load<i32>(post + ((e - 1) << 2));
      acc += <i32>(load<u8>(weight + (s << 3)) + load<u8>(weight + ((e - 1) << 3), 7));
    }
  }
  sink += acc;
}

/** Stages the groups of step t (delay slots D−1 down to 0, spikes in list order) in chunks; calls flush per chunk. */
@inline function stage<F>(groupStart: usize, D: i32, lists: usize, counts: usize, slots: i32, size: i32, t: i32, flush: F): void {
  let m: i32 = 0;
  for (let d = D - 1; d >= 0; d--) {
    const u = t - d;
    if (u < 0) continue;
    const slot = slotOf(u, slots);
    const n = load<i32>(counts + (<usize>slot << 2));
    if (n == 0) continue;
    const at = lists + ((<usize>slot * <usize>size) << 2);
    for (let k = 0; k < n; k++) {
      const gp = groupStart + (<usize>(load<i32>(at + (<usize>k << 2)) * D + d) << 2);
      const r = SCRATCH + (<usize>m << 3);
      store<i64>(r, load<i64>(gp));
      if (++m == CHUNK) {
        flush(m);
        m = 0;
      }
    }
  }
  if (m) flush(m);
}

// ---------------------------------------------------------------- delivery (projections/deliver.ts)

let dPost: usize = 0;
let dWeight: usize = 0;
let dTarget: usize = 0;

function deliverChunk(m: i32): void {
  const post = dPost;
  const weight = dWeight;
  const target = dTarget;
  touch(m, post, weight);
  for (let i = 0; i < m; i++) {
    const r = SCRATCH + (<usize>i << 3);
    const end = <usize>load<i32>(r, 4);
    for (let s = <usize>load<i32>(r); s < end; s++) {
      const a = target + (<usize>load<i32>(post + (s << 2)) << 3);
      store<f64>(a, load<f64>(a) + load<f64>(weight + (s << 3)));
    }
  }
}

/** deliverChunk over the compact copy: each f32 weight widens to the very f64 of the table, so the sums are the same. */
function deliverChunkCompact(m: i32): void {
  const c = dPost;
  const target = dTarget;
  for (let i = 0; i < m; i++) {
    const r = SCRATCH + (<usize>i << 3);
    const end = c + <usize>load<i32>(r, 4) * 6;
    for (let a = c + <usize>load<i32>(r) * 6; a < end; a += 6) {
      const ta = target + (<usize>load<u16>(a) << 3);
      store<f64>(ta, load<f64>(ta) + <f64>load<f32>(a, 2));
    }
  }
}

/**
 * deliverTable: target[post[s]] += weight[s] for every synapse arriving at step t, in the reference
 * order (delay slots from D−1 down to 0, spikes of that step in list order, synapses in table order).
 * compact: post is the table's compact copy (6-byte records: u16 post, f32 weight) and weight unused.
 */
export function deliver(
  groupStart: usize,
  post: usize,
  weight: usize,
  D: i32,
  lists: usize,
  counts: usize,
  slots: i32,
  size: i32,
  t: i32,
  target: usize,
  compact: bool,
): void {
  dPost = post;
  dWeight = weight;
  dTarget = target;
  // New spikes (step t): pull in their whole blocks, read over this and the next D − 1 steps.
  {
    const slot = slotOf(t, slots);
    const n = load<i32>(counts + (<usize>slot << 2));
    const at = lists + ((<usize>slot * <usize>size) << 2);
    let acc: i32 = 0;
    for (let k = 0; k < n; k++) {
      const gp = groupStart + (<usize>(load<i32>(at + (<usize>k << 2)) * D) << 2);
      const b = <usize>load<i32>(gp);
      const e = <usize>load<i32>(gp + (<usize>D << 2));
      if (compact) {
        for (let a = post + b * 6; a < post + e * 6; a += 64) acc += <i32>load<u8>(a);
      } else {
        for (let a = post + (b << 2); a < post + (e << 2); a += 64) acc += <i32>load<u8>(a);
        for (let a = weight + (b << 3); a < weight + (e << 3); a += 64) acc += <i32>load<u8>(a);
      }
    }
    sink += acc;
  }
  if (compact) stage(groupStart, D, lists, counts, slots, size, t, deliverChunkCompact);
  else stage(groupStart, D, lists, counts, slots, size, t, deliverChunk);
}

// ---------------------------------------------------------------- arrival queues (compact tables)
//
// The staged delivery above pays per (spike, delay) group: ~1,600 groups of ~6 records a step in
// the standard network, each a short loop whose exit mispredicts. Queues move that cost to the
// step a spike is emitted, where it is branch-free: the spike's block (groups d = 0…D−1, adjacent)
// is read once, and each group is appended to the queue of step u + d with a fixed 96-byte copy
// (16 records; the rare longer group copies the rest in a loop), whatever its length, the next
// append overwriting the excess. At step t the queue of t is one contiguous run of records, delivered in
// a single loop. Order: emissions of steps t − D + 1 … t append in that order, spikes ascending,
// synapses in table order — the reference order (deliverTable), so every sum is the same.
//
// The queues are derived from the spike history and the (frozen) compact table, not state: they
// live in arena scratch, and when they do not follow on from step t − 1 (first step, a restored
// checkpoint zeroes scratch, a skipped step) they are rebuilt from the last D − 1 steps of history.
// A slot that would overflow its capacity is flagged and its step delivered by the staged path.
//
// Layout at q: i32 emittedThrough (last step appended), i32 valid (1 when built), 8 spare bytes,
// i32 length[D] (records queued per slot), i32 overflow[D], then D slots of cap·6 + QUEUE_SLACK bytes.

/** Bytes past a slot's capacity that the fixed-size copy may write. */
const QUEUE_SLACK: usize = 96;

export function queueSlack(): i32 {
  return <i32>QUEUE_SLACK;
}

/** Appends the groups (i, d), d ≥ dmin, of step u's spikes to the queues of steps u + d. */
function emit(groupStart: usize, c: usize, D: i32, lists: usize, counts: usize, slots: i32, size: i32, u: i32, dmin: i32, q: usize, cap: i32): void {
  if (u < 0) return;
  const hist = slotOf(u, slots);
  const n = load<i32>(counts + (<usize>hist << 2));
  const at = lists + ((<usize>hist * <usize>size) << 2);
  const lengths = q + 16;
  const overflow = lengths + (<usize>D << 2);
  const base = overflow + (<usize>D << 2);
  const stride = <usize>cap * 6 + QUEUE_SLACK;
  const first = (u + dmin) % D;
  for (let k = 0; k < n; k++) {
    const gs = groupStart + (<usize>(load<i32>(at + (<usize>k << 2)) * D) << 2);
    let slot = first;
    for (let d = dmin; d < D; d++) {
      const s = load<i32>(gs + (<usize>d << 2));
      const len = load<i32>(gs + (<usize>d << 2), 4) - s;
      const la = lengths + (<usize>slot << 2);
      const L = load<i32>(la);
      if (L + len > cap) store<i32>(overflow + (<usize>slot << 2), 1);
      else {
        const src = c + <usize>s * 6;
        const dst = base + <usize>slot * stride + <usize>L * 6;
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        v128.store(dst, v128.load(src, 32), 32);
        v128.store(dst, v128.load(src, 48), 48);
        v128.store(dst, v128.load(src, 64), 64);
        v128.store(dst, v128.load(src, 80), 80);
        if (len > 16) {
          const bytes = <usize>len * 6;
          for (let o: usize = 96; o < bytes; o += 16) v128.store(dst + o, v128.load(src + o));
        }
        store<i32>(la, L + len);
      }
      slot++;
      slot = select<i32>(0, slot, slot == D);
    }
  }
}

/**
 * deliverTable through the arrival queues: appends step t's spikes, then delivers the queue of step
 * t (or, if it overflowed, step t by the staged path). c: the table's compact copy; q: the scratch
 * area (layout above), cap records per slot. Returns 1 if the queues were rebuilt, plus 2 if step t's overflowed.
 */
export function deliverQueued(groupStart: usize, c: usize, D: i32, lists: usize, counts: usize, slots: i32, size: i32, t: i32, target: usize, q: usize, cap: i32): i32 {
  const lengths = q + 16;
  const overflow = lengths + (<usize>D << 2);
  const base = overflow + (<usize>D << 2);
  let how: i32 = 0;
  if (load<i32>(q, 4) != 1 || load<i32>(q) != t - 1) {
    for (let d = 0; d < D; d++) {
      store<i32>(lengths + (<usize>d << 2), 0);
      store<i32>(overflow + (<usize>d << 2), 0);
    }
    for (let u = t - D + 1; u < t; u++) emit(groupStart, c, D, lists, counts, slots, size, u, t - u, q, cap);
    store<i32>(q, 1, 4);
    how = 1;
  }
  emit(groupStart, c, D, lists, counts, slots, size, t, 0, q, cap);
  const slot = t % D;
  if (load<i32>(overflow + (<usize>slot << 2))) {
    dPost = c;
    dTarget = target;
    stage(groupStart, D, lists, counts, slots, size, t, deliverChunkCompact);
    how |= 2;
  } else {
    const from = base + <usize>slot * (<usize>cap * 6 + QUEUE_SLACK);
    const end = from + <usize>load<i32>(lengths + (<usize>slot << 2)) * 6;
    for (let a = from; a < end; a += 6) {
      const ta = target + (<usize>load<u16>(a) << 3);
      store<f64>(ta, load<f64>(ta) + <f64>load<f32>(a, 2));
    }
  }
  store<i32>(lengths + (<usize>slot << 2), 0);
  store<i32>(overflow + (<usize>slot << 2), 0);
  store<i32>(q, t);
  return how;
}

// ---------------------------------------------------------------- conv (projections/conv.ts)

/** kyStart of conv.ts: the first kernel tap along an axis that reaches an output from coordinate y. */
@inline function tapStart(y: i32, stride: i32, n: i32): i32 {
  const first = y % stride;
  const lowest = y - (n - 1) * stride;
  return first >= lowest ? first : lowest;
}

/** Most (tap, output) pairs one input spike has per class map: the staging scratch holds them (i32 pairs). */
export function convMaxPairs(): i32 {
  return CHUNK;
}

/**
 * convDeliver and convGradient: the arrivals of step t, in the reference order (delays D−1 … 0,
 * spikes ascending, then c, ky, kx). grad null: target[o] += weight[w]. Otherwise grad[w] += e[o]
 * for entries not masked (mask 0: none), listing first touches in touched (seen flags); returns
 * how many were listed. rows (0: none): per output position, 0 where e is zero in every class, whose
 * arrivals are then left out (conv.ts convGradient). geometry: i32 cin, h, w, cout, oh, ow, k, stride, D.
 *
 * A spike reaches the same (ky, kx) → (oy, ox) pattern in every class map, at offsets that only
 * shift with c: the pattern is listed once per spike (in ky, kx order, in the staging scratch), and
 * each of its pairs then runs down the classes (no divisions, predictable branches; 1.7× faster
 * than running the pattern once per class map, whose pairs the inner loop had to load again).
 */
@inline function convArrivals(lists: usize, counts: usize, slots: i32, size: i32, t: i32, geometry: usize, weight: usize, target: usize, e: usize, mask: usize, grad: usize, touched: usize, seen: usize, rows: usize, gradient: bool): i32 {
  const cin = load<i32>(geometry);
  const h = load<i32>(geometry, 4);
  const W = load<i32>(geometry, 8);
  const cout = load<i32>(geometry, 12);
  const oh = load<i32>(geometry, 16);
  const ow = load<i32>(geometry, 20);
  const k = load<i32>(geometry, 24);
  const stride = load<i32>(geometry, 28);
  const D = load<i32>(geometry, 32);
  const plane = h * W;
  const oPlane = <usize>(oh * ow);
  const perClass = <usize>(cin * D * k * k);
  const wStride = perClass << 3;
  const oStride = oPlane << 3;
  const wEnd = weight + ((<usize>cout * perClass) << 3);
  let nt: i32 = 0;
  for (let d = D - 1; d >= 0; d--) {
    const u = t - d;
    if (u < 0) continue;
    const slot = slotOf(u, slots);
    const n = load<i32>(counts + (<usize>slot << 2));
    const at = lists + ((<usize>slot * <usize>size) << 2);
    for (let q = 0; q < n; q++) {
      const i = load<i32>(at + (<usize>q << 2));
      const ci = i / plane;
      const r = i - ci * plane;
      const y = r / W;
      const x = r - y * W;
      const ky0 = tapStart(y, stride, oh);
      const kx0 = tapStart(x, stride, ow);
      // The pattern of class map 0: (kernel offset, output offset) pairs; ky += stride ⇔ oy −= 1.
      let m: usize = 0;
      let oy = (y - ky0) / stride;
      for (let ky = ky0; ky < k && ky <= y; ky += stride) {
        let ox = (x - kx0) / stride;
        for (let kx = kx0; kx < k && kx <= x; kx += stride) {
          const o = oy * ow + ox;
          // rows (gradient only): positions without an error in any class add nothing; leave them out.
          if (!gradient || !rows || load<u8>(rows + <usize>o)) {
            store<i32>(SCRATCH + (m << 3), ((ci * D + d) * k + ky) * k + kx);
            store<i32>(SCRATCH + (m << 3), o, 4);
            m++;
          }
          ox--;
        }
        oy--;
      }
      const pairsEnd = SCRATCH + (m << 3);
      // Each pair once, down the classes (strided by a class kernel and a class map): every target
      // or gradient entry still gets its arrivals in the reference order, as one spike gives it at
      // most one.
      for (let pa = SCRATCH; pa < pairsEnd; pa += 8) {
        const w0 = <usize>load<i32>(pa);
        const o0 = <usize>load<i32>(pa, 4);
        if (!gradient) {
          let wa = weight + (w0 << 3);
          let ta = target + (o0 << 3);
          for (; wa < wEnd; wa += wStride, ta += oStride) store<f64>(ta, load<f64>(ta) + load<f64>(wa));
          continue;
        }
        for (let c: usize = 0; c < <usize>cout; c++) {
          const wi = c * perClass + w0;
          if (mask && load<u8>(mask + wi)) continue;
          if (!load<u8>(seen + wi)) {
            store<u8>(seen + wi, 1);
            store<i32>(touched + (<usize>nt << 2), <i32>wi);
            nt++;
          }
          const ga = grad + (wi << 3);
          store<f64>(ga, load<f64>(ga) + load<f64>(e + ((c * oPlane + o0) << 3)));
        }
      }
    }
  }
  return nt;
}

export function convDeliver(lists: usize, counts: usize, slots: i32, size: i32, t: i32, geometry: usize, weight: usize, target: usize): void {
  convArrivals(lists, counts, slots, size, t, geometry, weight, target, 0, 0, 0, 0, 0, 0, false);
}

export function convGradient(lists: usize, counts: usize, slots: i32, size: i32, t: i32, geometry: usize, e: usize, mask: usize, grad: usize, touched: usize, seen: usize, rows: usize): i32 {
  return convArrivals(lists, counts, slots, size, t, geometry, 0, 0, e, mask, grad, touched, seen, rows, true);
}

/**
 * stepTouched of plasticity/readout.ts: each listed kernel entry steps by its summed gradient, Adam
 * (m, v non-null) or SGD, with the same float64 expressions in the same order, then grad and seen
 * are cleared.
 */
export function readoutStepTouched(weight: usize, m: usize, v: usize, grad: usize, touched: usize, seen: usize, nt: i32, lr: f64, beta1: f64, beta2: f64, epsilon: f64, c1: f64, c2: f64): void {
  for (let q = 0; q < nt; q++) {
    const w = <usize>load<i32>(touched + (<usize>q << 2));
    const o = w << 3;
    const g = load<f64>(grad + o);
    if (m) {
      const mi = beta1 * load<f64>(m + o) + (1 - beta1) * g;
      const vi = beta2 * load<f64>(v + o) + (1 - beta2) * g * g;
      store<f64>(m + o, mi);
      store<f64>(v + o, vi);
      store<f64>(weight + o, load<f64>(weight + o) - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon));
    } else {
      store<f64>(weight + o, load<f64>(weight + o) - lr * g);
    }
    store<f64>(grad + o, 0);
    store<u8>(seen + w, 0);
  }
}

// ---------------------------------------------------------------- STDP (plasticity/stdp.ts)

const ADDITIVE: i32 = 0;
const MULTIPLICATIVE: i32 = 1;

/** stdpUpdate: Δ from trace value a at weight w, then clip to [lo, hi]. Same expression order. */
@inline function update(w: f64, a: f64, mode: i32, symmetric: bool, lo: f64, hi: f64): f64 {
  if (symmetric) a = Math.abs(a);
  const dw = mode == ADDITIVE ? a : a < 0 ? a * (w - lo) : a * (hi - w);
  return Math.min(Math.max(w + dw, lo), hi);
}

let pPost: usize = 0;
let pWeight: usize = 0;
let pZ: usize = 0;
let pLo: f64 = 0;
let pHi: f64 = 0;

/** on_pre over staged groups [0, m), with the mode fixed so each combination compiles to its own loop. */
@inline function preChunk(m: i32, mode: i32, symmetric: bool): void {
  const post = pPost;
  const weight = pWeight;
  const z = pZ;
  const lo = pLo;
  const hi = pHi;
  touch(m, post, weight);
  for (let i = 0; i < m; i++) {
    const r = SCRATCH + (<usize>i << 3);
    const end = <usize>load<i32>(r, 4);
    for (let s = <usize>load<i32>(r); s < end; s++) {
      const wa = weight + (s << 3);
      const a = load<f64>(z + (<usize>load<i32>(post + (s << 2)) << 3));
      store<f64>(wa, update(load<f64>(wa), a, mode, symmetric, lo, hi));
    }
  }
}
function preAdditive(m: i32): void {
  preChunk(m, ADDITIVE, false);
}
function preAdditiveSymmetric(m: i32): void {
  preChunk(m, ADDITIVE, true);
}
function preMultiplicative(m: i32): void {
  preChunk(m, MULTIPLICATIVE, false);
}
function preMultiplicativeSymmetric(m: i32): void {
  preChunk(m, MULTIPLICATIVE, true);
}

/** stdpOnPre: w ← clip(w + Δ(z[post])) for every synapse arriving at step t, in delivery order. */
export function stdpOnPre(
  groupStart: usize,
  post: usize,
  weight: usize,
  D: i32,
  lists: usize,
  counts: usize,
  slots: i32,
  size: i32,
  t: i32,
  z: usize,
  mode: i32,
  symmetric: bool,
  lo: f64,
  hi: f64,
): void {
  pPost = post;
  pWeight = weight;
  pZ = z;
  pLo = lo;
  pHi = hi;
  if (mode == ADDITIVE) stage(groupStart, D, lists, counts, slots, size, t, symmetric ? preAdditiveSymmetric : preAdditive);
  else stage(groupStart, D, lists, counts, slots, size, t, symmetric ? preMultiplicativeSymmetric : preMultiplicative);
}

/** Bitmap of this step's spiking postsynaptic neurons (for the scan), below the arena. */
const FLAGS: usize = SCRATCH + (<usize>CHUNK << 3);
const FLAG_BITS: i32 = 16384 * 8;
/** The scan visits every synapse once; choose it when the spiking neurons' synapses, at SCAN_RATIO sequential visits each, outnumber the table. */
const SCAN_RATIO: i64 = 16;

@inline function update1(
  s: usize,
  pre: usize,
  delay: usize,
  weight: usize,
  t: i32,
  x: usize,
  xSlots: i32,
  preSize: i32,
  mode: i32,
  symmetric: bool,
  lo: f64,
  hi: f64,
): void {
  // PairTraces.xOffset(t − delay): the ring slot of step t − d, which may be negative.
  let r = (t - load<i32>(delay + (s << 2))) % xSlots;
  if (r < 0) r += xSlots;
  const a = load<f64>(x + ((<usize>r * <usize>preSize + <usize>load<i32>(pre + (s << 2))) << 3));
  const wa = weight + (s << 3);
  store<f64>(wa, update(load<f64>(wa), a, mode, symmetric, lo, hi));
}

/**
 * on_post. Each synapse belongs to one postsynaptic neuron and is updated at most once here, and z
 * is read only by on_pre, so the order of these updates does not change any result: every weight
 * gets the same single update as in the reference. That frees the order of the visit: synapse by
 * synapse through the postsynaptic index (postSyn and postKey read in sequence, the weight and the
 * trace at random places), or, when many neurons spiked, one sequential scan of the table checking
 * a bitmap.
 */
@inline function onPost(
  post: usize,
  count: i32,
  postSize: i32,
  postStart: usize,
  postSyn: usize,
  postKey: usize,
  pre: usize,
  delay: usize,
  weight: usize,
  lists: usize,
  at: i32,
  n: i32,
  t: i32,
  x: usize,
  xSlots: i32,
  preSize: i32,
  z: usize,
  aPost: f64,
  learn: bool,
  mode: i32,
  symmetric: bool,
  lo: f64,
  hi: f64,
): i32 {
  const spikes = lists + (<usize>at << 2);
  let fan: i64 = 0;
  for (let k = 0; k < n; k++) {
    const j = <usize>load<i32>(spikes + (<usize>k << 2));
    const za = z + (j << 3);
    store<f64>(za, load<f64>(za) + aPost);
    fan += <i64>(load<i32>(postStart + (j << 2), 4) - load<i32>(postStart + (j << 2)));
  }
  if (!learn || n == 0) return 0;
  if (postSize <= FLAG_BITS && fan * SCAN_RATIO > <i64>count) {
    for (let k = 0; k < n; k++) {
      const j = <usize>load<i32>(spikes + (<usize>k << 2));
      store<u8>(FLAGS + (j >> 3), load<u8>(FLAGS + (j >> 3)) | <u8>(1 << <u8>(j & 7)));
    }
    for (let s: usize = 0; s < <usize>count; s++) {
      const j = <usize>load<i32>(post + (s << 2));
      if ((load<u8>(FLAGS + (j >> 3)) >> <u8>(j & 7)) & 1) update1(s, pre, delay, weight, t, x, xSlots, preSize, mode, symmetric, lo, hi);
    }
    for (let k = 0; k < n; k++) store<u8>(FLAGS + (<usize>load<i32>(spikes + (<usize>k << 2)) >> 3), 0);
    return 2;
  }
  {
    // Through the postsynaptic index with postKey (delay·preSize − pre, in postsynaptic order): the
    // trace slot comes from a sequential read; only x and the weight are read at random places.
    const span = xSlots * preSize;
    const base = (t % xSlots) * preSize;
    for (let k = 0; k < n; k++) {
      const ps = postStart + (<usize>load<i32>(spikes + (<usize>k << 2)) << 2);
      const begin = <usize>load<i32>(ps);
      const end = <usize>load<i32>(ps, 4);
      // Touch pass: independent reads of the weights and traces let the CPU overlap the misses.
      let acc: i32 = 0;
      for (let q = begin; q < end; q++) {
        const s = <usize>load<i32>(postSyn + (q << 2));
        let i = base - load<i32>(postKey + (q << 2));
        if (i < 0) i += span;
        acc += <i32>load<u8>(weight + (s << 3), 7) + <i32>load<u8>(x + (<usize>i << 3), 7);
      }
      sink += acc;
      for (let q = begin; q < end; q++) {
        const s = <usize>load<i32>(postSyn + (q << 2));
        let i = base - load<i32>(postKey + (q << 2));
        if (i < 0) i += span;
        const a = load<f64>(x + (<usize>i << 3));
        const wa = weight + (s << 3);
        store<f64>(wa, update(load<f64>(wa), a, mode, symmetric, lo, hi));
      }
    }
    return 1;
  }
}

/**
 * stdpOnPost: for step t's postsynaptic spikes (lists[at, at+n)), z += a_post, then w ← clip(w + Δ(x_pre(t − d))).
 * postKey: the table's postKey array (x a ring of xSlots = D slots of preSize).
 * Returns how the weights were visited: 0 not at all, 1 through the postsynaptic index, 2 by a scan.
 */
export function stdpOnPost(
  post: usize,
  count: i32,
  postSize: i32,
  postStart: usize,
  postSyn: usize,
  postKey: usize,
  pre: usize,
  delay: usize,
  weight: usize,
  lists: usize,
  at: i32,
  n: i32,
  t: i32,
  x: usize,
  xSlots: i32,
  preSize: i32,
  z: usize,
  aPost: f64,
  learn: bool,
  mode: i32,
  symmetric: bool,
  lo: f64,
  hi: f64,
): i32 {
  if (mode == ADDITIVE) {
    if (symmetric) return onPost(post, count, postSize, postStart, postSyn, postKey, pre, delay, weight, lists, at, n, t, x, xSlots, preSize, z, aPost, learn, ADDITIVE, true, lo, hi);
    else return onPost(post, count, postSize, postStart, postSyn, postKey, pre, delay, weight, lists, at, n, t, x, xSlots, preSize, z, aPost, learn, ADDITIVE, false, lo, hi);
  } else {
    if (symmetric) return onPost(post, count, postSize, postStart, postSyn, postKey, pre, delay, weight, lists, at, n, t, x, xSlots, preSize, z, aPost, learn, MULTIPLICATIVE, true, lo, hi);
    else return onPost(post, count, postSize, postStart, postSyn, postKey, pre, delay, weight, lists, at, n, t, x, xSlots, preSize, z, aPost, learn, MULTIPLICATIVE, false, lo, hi);
  }
}

// ---------------------------------------------------------------- LIF (neurons/lif.ts)

/** a[0, n) *= f, two lanes at a time (f64x2.mul rounds each lane as f64.mul does). a is 16-byte aligned. */
@inline function scale(a: usize, n: i32, f: f64): void {
  const fv = f64x2.splat(f);
  const pairs = <usize>(n >> 1) << 4;
  for (let o: usize = 0; o < pairs; o += 16) v128.store(a + o, f64x2.mul(v128.load(a + o), fv));
  if (n & 1) {
    const p = a + (<usize>(n - 1) << 3);
    store<f64>(p, load<f64>(p) * f);
  }
}

/** lifIntegrate: v ← v·decay unless refractory (t < refractoryUntil), θ ← θ·θ_decay when adapting. */
export function lifIntegrate(v: usize, theta: usize, refractoryUntil: usize, n: i32, t: i32, decay: f64, refractory: bool, adapt: bool, thetaDecay: f64): void {
  if (refractory) {
    for (let j = 0; j < n; j++) {
      if (t >= load<i32>(refractoryUntil + (<usize>j << 2))) {
        const a = v + (<usize>j << 3);
        store<f64>(a, load<f64>(a) * decay);
      }
    }
  } else {
    scale(v, n, decay);
  }
  if (adapt) scale(theta, n, thetaDecay);
}

/**
 * lifThreshold: writes ascending indices j with v > v_th + θ + offset and t ≥ refractoryUntil to out;
 * returns the count. refractory false promises refractoryUntil[j] ≤ t for every j (no refractory
 * period: reset sets it to the spike's own step), so that test is skipped. Two neurons per SIMD lane
 * pair: v_th + θ + offset is added lane by lane in the same order, so it rounds as the scalar sum.
 */
export function lifThreshold(v: usize, theta: usize, offset: usize, refractoryUntil: usize, n: i32, t: i32, vth: f64, out: usize, refractory: bool): i32 {
  let k: i32 = 0;
  const vthv = f64x2.splat(vth);
  const pairs = n & ~1;
  for (let j = 0; j < pairs; j += 2) {
    const o = <usize>j << 3;
    const above = f64x2.gt(v128.load(v + o), f64x2.add(f64x2.add(vthv, v128.load(theta + o)), v128.load(offset + o)));
    if (!v128.any_true(above)) continue;
    const bits = i64x2.bitmask(above);
    if (bits & 1 && (!refractory || t >= load<i32>(refractoryUntil + (<usize>j << 2)))) {
      store<i32>(out + (<usize>k << 2), j);
      k++;
    }
    if (bits & 2 && (!refractory || t >= load<i32>(refractoryUntil + (<usize>(j + 1) << 2)))) {
      store<i32>(out + (<usize>k << 2), j + 1);
      k++;
    }
  }
  for (let j = pairs; j < n; j++) {
    const o = <usize>j << 3;
    if (load<f64>(v + o) > vth + load<f64>(theta + o) + load<f64>(offset + o) && (!refractory || t >= load<i32>(refractoryUntil + (<usize>j << 2)))) {
      store<i32>(out + (<usize>k << 2), j);
      k++;
    }
  }
  return k;
}


// ---------------------------------------------------------------- logistic units (neurons/logistic.ts)

// e^x as fdlibm's __ieee754_exp computes it, which is what V8's Math.exp runs (base/ieee754.cc,
// with its one special case, e^1 = Math.E):
// the same reduction, polynomial and scaling in the same order, so σ here equals the TypeScript
// reference bit for bit (AssemblyScript's own Math.exp is a different algorithm). Checked against
// Math.exp in test/snn/wasm-logistic.test.ts.
const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e0;
const P1: f64 = 1.66666666666666019037e-1;
const P2: f64 = -2.77777777770155933842e-3;
const P3: f64 = 6.61375632143793436117e-5;
const P4: f64 = -1.65339022054652515390e-6;
const P5: f64 = 4.13813679705723846039e-8;
const EXP_OVERFLOW: f64 = 7.09782712893383973096e2;
const EXP_UNDERFLOW: f64 = -7.45133219101941108420e2;
const TWO_M1000: f64 = 9.33263618503218878990e-302;
const E: f64 = 2.718281828459045;

export function ieeeExp(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let hx = <u32>(bits >> 32);
  const negative = hx >> 31;
  hx &= 0x7fffffff;
  if (hx >= 0x40862e42) {
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | <u32>bits) != 0) return x + x; // NaN
      return negative ? 0 : x; // e^±∞
    }
    if (x > EXP_OVERFLOW) return Infinity;
    if (x < EXP_UNDERFLOW) return 0;
  }
  let hi: f64 = 0;
  let lo: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3fd62e42) {
    // |x| > ln2 / 2: x = k·ln2 + r, |r| ≤ ln2 / 2, with ln2 in two parts so k·LN2_HI is exact.
    if (hx < 0x3ff0a2b2) {
      if (x == 1) return E; // V8 special-cases e^1, which the steps below get one ulp high
      hi = negative ? x + LN2_HI : x - LN2_HI;
      lo = negative ? -LN2_LO : LN2_LO;
      k = negative ? -1 : 1;
    } else {
      k = <i32>(INV_LN2 * x + (negative ? -0.5 : 0.5));
      const tk = <f64>k;
      hi = x - tk * LN2_HI;
      lo = tk * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    return 1 + x; // |x| < 2^−28
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - (lo - (x * c) / (2.0 - c) - hi);
  // y · 2^k by adding k to the exponent field (below 2^−1021 in two steps, as fdlibm does).
  if (k >= -1021) return reinterpret<f64>(reinterpret<u64>(y) + (<u64>(<i64>k) << 52));
  return reinterpret<f64>(reinterpret<u64>(y) + (<u64>(<i64>(k + 1000)) << 52)) * TWO_M1000;
}

/** sigmoid of neurons/logistic.ts. */
@inline function sigmoid(x: f64): f64 {
  if (x >= 0) return 1 / (1 + ieeeExp(-x));
  const e = ieeeExp(x);
  return e / (1 + e);
}

// σ two lanes at a time, for 2^−28 ≤ |x| < 700: ieeeExp's three reductions in one, as the same
// operations lane by lane (WebAssembly never fuses a multiply and an add), so each lane rounds
// exactly as the scalar code. With k = 0 (|x| ≤ ln2/2) the general steps give fdlibm's k = 0
// formula exactly (hi = r, lo = 0, and (r·c)/(c − 2) = −(r·c)/(2 − c)); with |x| < 1.5·ln2 fdlibm
// takes k = ±1 without the division by ln2, so the lane's k is forced rather than computed.
const SIMD_TINY: f64 = reinterpret<f64>(<u64>0x3e300000 << 32);
const K0_BELOW: f64 = reinterpret<f64>(<u64>0x3fd62e43 << 32);
const K1_BELOW: f64 = reinterpret<f64>(<u64>0x3ff0a2b2 << 32);
const SIMD_HIGH: f64 = 700;
const ROUNDING_MAGIC: f64 = 6755399441055744; // 1.5 · 2^52

/** σ of both lanes, bit for bit the scalar sigmoid. */
@inline function sigmoid2(x: v128): v128 {
  const ax = f64x2.abs(x);
  if (!v128.all_true<i64>(v128.and(f64x2.ge(ax, f64x2.splat(SIMD_TINY)), f64x2.lt(ax, f64x2.splat(SIMD_HIGH))))) {
    return f64x2.replace_lane(f64x2.splat(sigmoid(f64x2.extract_lane(x, 0))), 1, sigmoid(f64x2.extract_lane(x, 1)));
  }
  // e = e^−|x| (both branches of sigmoid take e of −|x|), reduced as ieeeExp with −|x| < 0.
  const r0 = f64x2.neg(ax);
  const k1 = f64x2.lt(ax, f64x2.splat(K1_BELOW));
  const k0 = f64x2.lt(ax, f64x2.splat(K0_BELOW));
  // k = (int)(invln2·x − 0.5): kept a float (truncated), its integer for the exponent taken from
  // the low bits of k + 1.5·2^52 (exact for |k| < 2^51).
  const kDivided = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(INV_LN2), r0), f64x2.splat(-0.5)));
  const tk = v128.bitselect(f64x2.splat(0), v128.bitselect(f64x2.splat(-1), kDivided, k1), k0);
  const k = i64x2.sub(f64x2.add(tk, f64x2.splat(ROUNDING_MAGIC)), f64x2.splat(ROUNDING_MAGIC));
  const hi = f64x2.sub(r0, f64x2.mul(tk, f64x2.splat(LN2_HI)));
  const lo = f64x2.mul(tk, f64x2.splat(LN2_LO));
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  let poly = f64x2.add(f64x2.splat(P4), f64x2.mul(t, f64x2.splat(P5)));
  poly = f64x2.add(f64x2.splat(P3), f64x2.mul(t, poly));
  poly = f64x2.add(f64x2.splat(P2), f64x2.mul(t, poly));
  poly = f64x2.add(f64x2.splat(P1), f64x2.mul(t, poly));
  const c = f64x2.sub(r, f64x2.mul(t, poly));
  const one = f64x2.splat(1);
  const y = f64x2.sub(one, f64x2.sub(f64x2.sub(lo, f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2), c))), hi));
  const e = i64x2.add(y, i64x2.shl(k, 52));
  const d = f64x2.add(one, e);
  // 1 / (1 + e) for x ≥ 0, e / (1 + e) below: one division of the chosen numerator.
  return f64x2.div(v128.bitselect(one, e, f64x2.ge(x, f64x2.splat(0))), d);
}

/**
 * logisticThreshold: p ← σ(a + b) (the memo's value where a and b equal the memo's, memoA 0: no
 * memo), spikes where p > th (or a + b > logitTh + offset, offset non-zero) written ascending to
 * out; a ← 0. Returns the count.
 */
export function logisticThreshold(a: usize, bias: usize, p: usize, offset: usize, n: i32, th: f64, logitTh: f64, out: usize, memoA: usize, memoB: usize, memoP: usize): i32 {
  let k: i32 = 0;
  const zero = f64x2.splat(0);
  const pairs = <usize>(n & ~1);
  for (let j: usize = 0; j < pairs; j += 2) {
    const o = j << 3;
    const aj = v128.load(a + o);
    const bj = v128.load(bias + o);
    const x = f64x2.add(aj, bj);
    let q: v128;
    if (memoA) {
      const hit = v128.and(f64x2.eq(aj, v128.load(memoA + o)), f64x2.eq(bj, v128.load(memoB + o)));
      q = v128.all_true<i64>(hit) ? v128.load(memoP + o) : v128.bitselect(v128.load(memoP + o), sigmoid2(x), hit);
    } else {
      q = sigmoid2(x);
    }
    v128.store(p + o, q);
    v128.store(a + o, zero);
    const above = offset ? f64x2.gt(x, f64x2.add(f64x2.splat(logitTh), v128.load(offset + o))) : f64x2.gt(q, f64x2.splat(th));
    const bits = i64x2.bitmask(above);
    if (bits & 1) {
      store<i32>(out + (<usize>k << 2), <i32>j);
      k++;
    }
    if (bits & 2) {
      store<i32>(out + (<usize>k << 2), <i32>j + 1);
      k++;
    }
  }
  for (let j = pairs; j < <usize>n; j++) {
    const o = j << 3;
    const aj = load<f64>(a + o);
    const bj = load<f64>(bias + o);
    const x = aj + bj;
    const q = memoA && aj == load<f64>(memoA + o) && bj == load<f64>(memoB + o) ? load<f64>(memoP + o) : sigmoid(x);
    store<f64>(p + o, q);
    store<f64>(a + o, 0);
    if (offset ? x > logitTh + load<f64>(offset + o) : q > th) {
      store<i32>(out + (<usize>k << 2), <i32>j);
      k++;
    }
  }
  return k;
}

/** logisticPredict with the memo: memoP ← σ(a + b), memoA ← a, memoB ← b. */
export function logisticPredict(a: usize, bias: usize, n: i32, memoA: usize, memoB: usize, memoP: usize): void {
  // Four units an iteration (two σ chains in flight), then a pair, then the last unit. (With the
  // pair left to the scalar tail, the four-unit loop measured 35 % slower: keep it.)
  const pairs = <usize>(n & ~1);
  const quads = <usize>(n & ~3);
  for (let j: usize = 0; j < quads; j += 4) {
    const o = j << 3;
    const aj = v128.load(a + o);
    const bj = v128.load(bias + o);
    const ak = v128.load(a + o + 16);
    const bk = v128.load(bias + o + 16);
    v128.store(memoA + o, aj);
    v128.store(memoB + o, bj);
    v128.store(memoA + o + 16, ak);
    v128.store(memoB + o + 16, bk);
    const p = sigmoid2(f64x2.add(aj, bj));
    const q = sigmoid2(f64x2.add(ak, bk));
    v128.store(memoP + o, p);
    v128.store(memoP + o + 16, q);
  }
  for (let j: usize = quads; j < pairs; j += 2) {
    const o = j << 3;
    const aj = v128.load(a + o);
    const bj = v128.load(bias + o);
    v128.store(memoA + o, aj);
    v128.store(memoB + o, bj);
    v128.store(memoP + o, sigmoid2(f64x2.add(aj, bj)));
  }
  for (let j = pairs; j < <usize>n; j++) {
    const o = j << 3;
    const aj = load<f64>(a + o);
    const bj = load<f64>(bias + o);
    store<f64>(memoA + o, aj);
    store<f64>(memoB + o, bj);
    store<f64>(memoP + o, sigmoid(aj + bj));
  }
}

// ---------------------------------------------------------------- readout rule (plasticity/readout.ts)

/** logisticErrors: e ← σ(a + b) − y (0 where y is NaN); rows (non-zero: P positions) as errorRows. */
export function logisticErrors(a: usize, bias: usize, y: usize, e: usize, n: i32, classes: i32, rows: usize): void {
  for (let j: usize = 0; j < <usize>n; j++) {
    const o = j << 3;
    const yj = load<f64>(y + o);
    store<f64>(e + o, yj != yj ? 0 : sigmoid(load<f64>(a + o) + load<f64>(bias + o)) - yj);
  }
  if (!rows) return;
  const P = <usize>(n / classes);
  memory.fill(rows, 0, P);
  for (let c: usize = 0; c < <usize>classes; c++) {
    const base = e + ((c * P) << 3);
    for (let q: usize = 0; q < P; q++) if (load<f64>(base + (q << 3)) != 0) store<u8>(rows + q, 1);
  }
}

/** sgdBiasStep: b ← b − lr·e where y is not NaN. */
export function sgdBiasStep(bias: usize, y: usize, e: usize, n: i32, lr: f64): void {
  for (let j: usize = 0; j < <usize>n; j++) {
    const o = j << 3;
    const yj = load<f64>(y + o);
    if (yj == yj) store<f64>(bias + o, load<f64>(bias + o) - lr * load<f64>(e + o));
  }
}

// ---------------------------------------------------------------- homeostasis (homeostasis/controllers.ts)

/**
 * thresholdStep with two timescales: r_k ← r_k·α_k (+ kick_k for the neurons in the ascending spike
 * list), u = 0 + g0·(r0 − target) + g1·(r1 − target), offset += u·dt, in that order. Pairs of
 * neurons without a spike run in SIMD (lane by lane the same operations); a pair with one, scalar.
 */
export function thresholdStep2(r: usize, n: i32, spikes: usize, count: i32, a0: f64, a1: f64, k0: f64, k1: f64, g0: f64, g1: f64, target: f64, dtS: f64, offset: usize): void {
  const r1Base = r + (<usize>n << 3);
  let q: i32 = 0;
  let next: i32 = count > 0 ? load<i32>(spikes) : -1;
  let j: i32 = 0;
  while (j < n) {
    const o = <usize>j << 3;
    if (j + 1 < n && next != j && next != j + 1) {
      const r0 = f64x2.mul(v128.load(r + o), f64x2.splat(a0));
      const r1 = f64x2.mul(v128.load(r1Base + o), f64x2.splat(a1));
      v128.store(r + o, r0);
      v128.store(r1Base + o, r1);
      const u0 = f64x2.add(f64x2.splat(0), f64x2.mul(f64x2.splat(g0), f64x2.sub(r0, f64x2.splat(target))));
      const u = f64x2.add(u0, f64x2.mul(f64x2.splat(g1), f64x2.sub(r1, f64x2.splat(target))));
      v128.store(offset + o, f64x2.add(v128.load(offset + o), f64x2.mul(u, f64x2.splat(dtS))));
      j += 2;
      continue;
    }
    // A neuron with a spike, the one before it, or the last one: scalar.
    let r0 = load<f64>(r + o) * a0;
    let r1 = load<f64>(r1Base + o) * a1;
    if (j == next) {
      r0 = r0 + k0;
      r1 = r1 + k1;
      q++;
      next = q < count ? load<i32>(spikes + (<usize>q << 2)) : -1;
    }
    store<f64>(r + o, r0);
    store<f64>(r1Base + o, r1);
    let u: f64 = 0;
    u += g0 * (r0 - target);
    u += g1 * (r1 - target);
    store<f64>(offset + o, load<f64>(offset + o) + u * dtS);
    j++;
  }
}
