/**
 * Event-driven convolution over the sensor plane with a kernel over input channel × delay × space
 * (Grimaldi & Perrinet 2023, "Learning heterogeneous delays in a layer of spiking neurons for fast
 * motion detection"):
 *
 *   a[c, oy, ox](t) += Σ_{ci, d, ky, kx} W[c][ci][d][ky][kx] · s[ci, oy·stride + ky, ox·stride + kx](t − d)
 *
 * with s(t) the input spikes of step t. Rather than sweeping the plane, each input spike of step
 * t − d (read from the spike history, which keeps `delays` steps) is scattered to the outputs whose
 * receptive field holds it: cost = spikes in the last `delays` steps × C_out × (K/stride)².
 *
 * Layouts (row-major): input i = (ci·H + y)·W + x, output o = (c·OH + oy)·OW + ox,
 * kernel w = (((c·C_in + ci)·D + d)·K + ky)·K + kx. With per_channel, one weight per channel:
 * a[c, oy, ox] += W[c] · (input spikes in the receptive field over the delays), the count formed
 * once per position and multiplied (not added tap by tap: the sums round differently).
 *
 * Arrivals are visited in the synapse table's order (earlier spikes first, then ascending input
 * index), so the sums round exactly as an equivalent sparse projection's would.
 */
import type { ConvProjectionSpec } from '../spec.js';
import { Rng } from '../../emulator/rng.js';
import type { BuildContext, ProjectionRuntime, PopulationRuntime } from '../runtime-types.js';
import type { SpikeHistory } from '../spike-history.js';
import { drawInit, hashName } from './synapse-list.js';

/** Geometry and shared weights of one convolutional projection. */
export interface ConvKernel {
  readonly cin: number;
  readonly h: number;
  readonly w: number;
  readonly cout: number;
  readonly oh: number;
  readonly ow: number;
  readonly k: number;
  readonly stride: number;
  /** D: taps at delays 0 … D − 1. */
  readonly delays: number;
  /** C_out·C_in·D·K·K shared weights (in the arena); C_out with perChannel. */
  readonly weight: Float64Array;
  /** One weight per output channel for all its taps (spec per_channel): entry w of a tap reads weight[c]. */
  readonly perChannel?: boolean;
}

export interface ConvProjectionRuntime extends ProjectionRuntime {
  readonly spec: ConvProjectionSpec;
  readonly kernel: ConvKernel;
}

/** Kernel index of W[c][ci][d][ky][kx]. */
export function convWeightIndex(g: ConvKernel, c: number, ci: number, d: number, ky: number, kx: number): number {
  return (((c * g.cin + ci) * g.delays + d) * g.k + ky) * g.k + kx;
}

/**
 * The first kernel tap along one axis that reaches an output from input coordinate y: the smallest
 * ky ≥ 0 with (y − ky) divisible by the stride and (y − ky)/stride ≤ n − 1.
 */
function kyStart(y: number, stride: number, n: number): number {
  const first = y % stride;
  const lowest = y - (n - 1) * stride; // ky below this gives an output index ≥ n
  return first >= lowest ? first : lowest; // lowest ≡ y (mod stride) too
}

/**
 * Calls visit(w, o) for every (kernel entry, output unit) pair carrying input at step t: an input
 * spike of step t − d at (ci, y, x) reaches output (c, oy, ox) through W[c][ci][d][y − oy·s][x − ox·s].
 * `channels` (default all): visit output channels 0 … channels − 1 only.
 */
export function forEachConvArrival(g: ConvKernel, pre: SpikeHistory, t: number, visit: (w: number, o: number) => void, channels = g.cout): void {
  const { cin, h, w: W, oh, ow, k, stride, delays: D } = g;
  const cout = channels;
  const plane = h * W;
  const lists = pre.lists;
  for (let d = D - 1; d >= 0; d--) {
    const n = pre.count(t - d);
    if (n === 0) continue;
    const at = pre.offset(t - d);
    for (let q = 0; q < n; q++) {
      const i = lists[at + q]!;
      const ci = Math.floor(i / plane);
      const r = i - ci * plane;
      const y = Math.floor(r / W);
      const x = r - y * W;
      const ky0 = kyStart(y, stride, oh);
      const kx0 = kyStart(x, stride, ow);
      for (let c = 0; c < cout; c++) {
        const wc = (c * cin + ci) * D + d;
        // Only taps with (y − ky) a multiple of the stride and oy < oh hit an output: start at the
        // first such ky and step by the stride (same visits, same order as testing every ky).
        for (let ky = ky0; ky < k && ky <= y; ky += stride) {
          const oy = (y - ky) / stride;
          const wy = (wc * k + ky) * k;
          const oRow = (c * oh + oy) * ow;
          for (let kx = kx0; kx < k && kx <= x; kx += stride) {
            const ox = (x - kx) / stride;
            visit(wy + kx, oRow + ox);
          }
        }
      }
    }
  }
}

/**
 * Adds step t's arrivals to target (the output population's input): target[o] += W[w]. The loop of
 * forEachConvArrival written out: through its callback the motion-direction step took 1.5× as long.
 */
export function convDeliver(g: ConvKernel, pre: SpikeHistory, t: number, target: Float64Array): void {
  const { cin, h, w: W, cout, oh, ow, k, stride, delays: D, weight } = g;
  if (g.perChannel) return perChannelDeliver(g, pre, t, target);
  const plane = h * W;
  const lists = pre.lists;
  for (let d = D - 1; d >= 0; d--) {
    const n = pre.count(t - d);
    if (n === 0) continue;
    const at = pre.offset(t - d);
    for (let q = 0; q < n; q++) {
      const i = lists[at + q]!;
      const ci = Math.floor(i / plane);
      const r = i - ci * plane;
      const y = Math.floor(r / W);
      const x = r - y * W;
      const ky0 = kyStart(y, stride, oh);
      const kx0 = kyStart(x, stride, ow);
      for (let c = 0; c < cout; c++) {
        const wc = (c * cin + ci) * D + d;
        // Only taps with (y − ky) a multiple of the stride and oy < oh hit an output: start at the
        // first such ky and step by the stride (same visits, same order as testing every ky).
        for (let ky = ky0; ky < k && ky <= y; ky += stride) {
          const oy = (y - ky) / stride;
          const wy = (wc * k + ky) * k;
          const oRow = (c * oh + oy) * ow;
          for (let kx = kx0; kx < k && kx <= x; kx += stride) {
            const ox = (x - kx) / stride;
            target[oRow + ox] = target[oRow + ox]! + weight[wy + kx]!;
          }
        }
      }
    }
  }
}

/**
 * counts[q] = input spikes in output position q's receptive field over the delays (the arrivals of
 * step t at position q of any one channel); counts must be zero on entry. Returns how many positions
 * it touched, listed in `at`.
 */
export function convCounts(g: ConvKernel, pre: SpikeHistory, t: number, counts: Float64Array, at: Int32Array): number {
  let m = 0;
  // Channel 0's arrivals: output index o of channel 0 is the position.
  forEachConvArrival(
    g,
    pre,
    t,
    (_, o) => {
      if (counts[o] === 0) at[m++] = o;
      counts[o] = counts[o]! + 1;
    },
    1,
  );
  return m;
}

/** Scratch of convCounts per kernel (positions' counts and the list of touched ones). */
const countScratch = new WeakMap<ConvKernel, { counts: Float64Array; at: Int32Array }>();
function scratchOf(g: ConvKernel): { counts: Float64Array; at: Int32Array } {
  let s = countScratch.get(g);
  if (!s) countScratch.set(g, (s = { counts: new Float64Array(g.oh * g.ow), at: new Int32Array(g.oh * g.ow) }));
  return s;
}

/** per_channel delivery: target[c, q] += W[c] · counts[q], for the positions with input. */
function perChannelDeliver(g: ConvKernel, pre: SpikeHistory, t: number, target: Float64Array): void {
  const { counts, at } = scratchOf(g);
  const m = convCounts(g, pre, t, counts, at);
  const P = g.oh * g.ow;
  for (let c = 0; c < g.cout; c++) {
    const wc = g.weight[c]!;
    for (let j = 0; j < m; j++) {
      const o = c * P + at[j]!;
      target[o] = target[o]! + wc * counts[at[j]!]!;
    }
  }
  for (let j = 0; j < m; j++) counts[at[j]!] = 0;
}

/** per_channel gradient: grad[c] += Σ_q e[c, q] · counts[q] (mask and rows as convGradient). */
function perChannelGradient(g: ConvKernel, pre: SpikeHistory, t: number, e: Float64Array, mask: Uint8Array | undefined, grad: Float64Array, touched: Int32Array, seen: Uint8Array, rows?: Uint8Array): number {
  const { counts, at } = scratchOf(g);
  const m = convCounts(g, pre, t, counts, at);
  if (m === 0) return 0;
  const P = g.oh * g.ow;
  let nt = 0;
  for (let c = 0; c < g.cout; c++) {
    if (mask && mask[c]) continue;
    let sum = grad[c]!;
    for (let j = 0; j < m; j++) {
      const q = at[j]!;
      if (!rows || rows[q]) sum += e[c * P + q]! * counts[q]!;
    }
    grad[c] = sum;
    if (!seen[c]) {
      seen[c] = 1;
      touched[nt++] = c;
    }
  }
  for (let j = 0; j < m; j++) counts[at[j]!] = 0;
  return nt;
}

/**
 * The readout's gradient over a conv kernel (plasticity/readout.ts): grad[w] += e[o] for every
 * arrival (w, o) of step t whose entry is not masked, in forEachConvArrival's order; each entry
 * touched for the first time is flagged in seen and listed in touched. Returns how many were listed.
 * mask undefined: nothing is pruned. rows (one flag per output position, oh × ow): when given, only
 * arrivals at flagged positions are summed and listed; the caller flags every position where e is
 * non-zero in some class, so the sums are the same, but entries reached only through zero errors are
 * not listed (exact for SGD, whose step of a zero gradient changes nothing; not for Adam, whose
 * moments decay on every listed entry). (The WASM backend has the fast version.)
 */
export function convGradient(
  g: ConvKernel,
  pre: SpikeHistory,
  t: number,
  e: Float64Array,
  mask: Uint8Array | undefined,
  grad: Float64Array,
  touched: Int32Array,
  seen: Uint8Array,
  rows?: Uint8Array,
): number {
  if (g.perChannel) return perChannelGradient(g, pre, t, e, mask, grad, touched, seen, rows);
  let nt = 0;
  const plane = g.oh * g.ow;
  forEachConvArrival(g, pre, t, (w, o) => {
    if (mask && mask[w]) return;
    if (rows && !rows[o % plane]) return;
    if (!seen[w]) {
      seen[w] = 1;
      touched[nt++] = w;
    }
    grad[w] = grad[w]! + e[o]!;
  });
  return nt;
}

export function createConvProjection(spec: ConvProjectionSpec, from: PopulationRuntime, to: PopulationRuntime, ctx: BuildContext): ConvProjectionRuntime {
  const [cin, h, w] = from.spec.shape as [number, number, number];
  const [cout, oh, ow] = to.spec.shape as [number, number, number];
  const k = spec.kernel_size;
  const D = spec.delays;
  const perChannel = spec.per_channel === true;
  const n = perChannel ? cout : cout * cin * D * k * k;
  const weight = ctx.arena.f64(`${spec.name}.weight`, n);
  if (Array.isArray(spec.weight)) {
    weight.set(spec.weight as readonly number[]);
  } else {
    const rng = new Rng(spec.seed ?? ctx.spec.seed, hashName(spec.name));
    for (let s = 0; s < n; s++) weight[s] = drawInit(spec.weight as Exclude<ConvProjectionSpec['weight'], readonly number[]>, rng, false);
  }
  if (from.history.slots < D) throw new RangeError(`conv '${spec.name}': '${from.spec.name}' keeps ${from.history.slots} steps of spikes, the kernel needs ${D}`);
  const kernel: ConvKernel = { cin, h, w, cout, oh, ow, k, stride: spec.stride, delays: D, weight, ...(perChannel ? { perChannel } : {}) };
  const deliver = ctx.backend.kernels.convDeliver ?? convDeliver;
  return {
    spec,
    from,
    to,
    kernel,
    // Effective connections (what an equivalent sparse projection would list), not kernel entries.
    synapseCount: cout * oh * ow * cin * D * k * k,
    deliver(t) {
      deliver(kernel, from.history, t, to.input);
    },
  };
}
