/**
 * The DVS pixel model (in the style of v2e / ESIM), as plain records and a step function:
 * `DvsParameters` (what the sensor is), `DvsState` (what each pixel remembers), and
 * `dvsStep(params, state, logNext, tNext, rng, out)` advancing every pixel from state.tUs to tNext.
 *
 * Per pixel i, with L(t) = log I(t) linear within the step from L0 = L(t0) to L1 = L(t1):
 *   - the pixel memorises a reference level ref_i (log intensity at its last reset);
 *   - an ON event fires when L(t) − ref_i reaches +θ_on,i, an OFF event when it reaches −θ_off,i;
 *     the crossing time solves L(t_c) = ref ± θ, i.e. t_c = t0 + (ref ± θ − L0)·(t1 − t0)/(L1 − L0),
 *     and the pixel resets: ref_i ← ref_i ± θ. A large change fires several events in one step,
 *     each at its own interpolated time (v2e / ESIM).
 *   - refractory period R: after an event at t_e the pixel is held in reset until t_e + R; no event
 *     can fire before then and the reference follows the input, ref_i ← L(min(t_e + R, t1)), so a
 *     change during the refractory period is lost, as in the physical circuit.
 *   - threshold mismatch: θ_on,i ~ max(θ_min, N(θ_on, σ_θ²)), likewise θ_off,i, drawn once (seeded).
 *   - background activity: Poisson events at `noiseRateHz` per pixel, ON with probability
 *     `noiseOnFraction`; hot pixels (a seeded fraction) add ON events at `hotPixelRateHz`. A noise
 *     event is a real reset of its pixel (ref_i ← L(t)) and obeys the refractory period.
 * Timestamps are rounded to whole microseconds (as in every file format); for a whole-µs R the
 * rounded times of one pixel still lie ≥ R apart. Events of one step are
 * written to the PacketBuilder sorted by time (ties in pixel order y·width + x), so the stream is
 * time-ordered within and across steps. No per-event objects: scratch typed arrays, reused.
 */

import type { Geometry } from '../events/packet.js';
import type { PacketBuilder } from '../events/builder.js';
import { Rng } from './rng.js';
import { checkNumber, EmulatorConfigError, describe } from './config-error.js';

export interface DvsParameters {
  /** Mean ON contrast threshold θ_on in log-intensity units (0.2 ≈ 22 % brightness increase). */
  readonly thresholdOn: number;
  /** Mean OFF contrast threshold θ_off (log units). */
  readonly thresholdOff: number;
  /** Pixel-to-pixel threshold standard deviation σ_θ (log units, absolute, as v2e's sigma_thres). */
  readonly thresholdSigma: number;
  /** Lower clip of a pixel's threshold (log units). */
  readonly thresholdMin: number;
  /** Refractory period R in µs (0 = none). */
  readonly refractoryUs: number;
  /** Background-activity rate per pixel (Hz). */
  readonly noiseRateHz: number;
  /** Probability that a background-activity event is ON. */
  readonly noiseOnFraction: number;
  /** Fraction of pixels that are hot. */
  readonly hotPixelFraction: number;
  /** Event rate of each hot pixel (Hz, ON events). */
  readonly hotPixelRateHz: number;
}

export const DEFAULT_DVS_PARAMETERS: DvsParameters = Object.freeze({
  thresholdOn: 0.2,
  thresholdOff: 0.2,
  thresholdSigma: 0.03,
  thresholdMin: 0.01,
  refractoryUs: 100,
  noiseRateHz: 0,
  noiseOnFraction: 0.5,
  hotPixelFraction: 0,
  hotPixelRateHz: 1000,
});

/** What a config may give: any parameter, plus `threshold` to set ON and OFF at once. */
export type DvsConfig = Partial<DvsParameters> & { readonly threshold?: number };

/** Fill defaults and validate; errors name `field`.<parameter>. */
export function resolveDvsParameters(config: DvsConfig = {}, field = 'dvs'): DvsParameters {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new EmulatorConfigError(field, `must be an object, got ${describe(config)}`);
  const d = DEFAULT_DVS_PARAMETERS;
  const positive = { min: 0, exclusiveMin: true, max: 100 };
  const both = checkNumber(config.threshold, NaN, `${field}.threshold`, positive);
  const resolved: DvsParameters = {
    thresholdOn: checkNumber(config.thresholdOn, Number.isNaN(both) ? d.thresholdOn : both, `${field}.thresholdOn`, positive),
    thresholdOff: checkNumber(config.thresholdOff, Number.isNaN(both) ? d.thresholdOff : both, `${field}.thresholdOff`, positive),
    thresholdSigma: checkNumber(config.thresholdSigma, d.thresholdSigma, `${field}.thresholdSigma`, { min: 0 }),
    thresholdMin: checkNumber(config.thresholdMin, d.thresholdMin, `${field}.thresholdMin`, positive),
    refractoryUs: checkNumber(config.refractoryUs, d.refractoryUs, `${field}.refractoryUs`, { min: 0 }),
    noiseRateHz: checkNumber(config.noiseRateHz, d.noiseRateHz, `${field}.noiseRateHz`, { min: 0, max: 1e6 }),
    noiseOnFraction: checkNumber(config.noiseOnFraction, d.noiseOnFraction, `${field}.noiseOnFraction`, { min: 0, max: 1 }),
    hotPixelFraction: checkNumber(config.hotPixelFraction, d.hotPixelFraction, `${field}.hotPixelFraction`, { min: 0, max: 1 }),
    hotPixelRateHz: checkNumber(config.hotPixelRateHz, d.hotPixelRateHz, `${field}.hotPixelRateHz`, { min: 0, max: 1e6 }),
  };
  return Object.freeze(resolved);
}

/** Events of the step being computed, before sorting (grown on demand, kept between steps). */
interface StepScratch {
  pixel: Uint32Array;
  /** Integer µs since the step start, 0..dt. */
  offset: Uint32Array;
  polarity: Uint8Array;
  n: number;
  /** Noise events encoded as ((pixel·(dt+1) + offset)·2 + polarity), sorted numerically. */
  noiseKeys: Float64Array;
  /** Pixels to visit this step (see findActivePixels). */
  readonly active: Uint32Array;
  /** Counting-sort buckets and the resulting order. */
  buckets: Uint32Array;
  order: Uint32Array;
}

export interface DvsState {
  readonly width: number;
  readonly height: number;
  /** Time of `logPrev` (µs). */
  tUs: number;
  /** L(tUs) per pixel. */
  readonly logPrev: Float32Array;
  /** Reference (memorised) log intensity per pixel. */
  readonly logRef: Float32Array;
  /** Per-pixel thresholds after mismatch. */
  readonly thresholdOn: Float32Array;
  readonly thresholdOff: Float32Array;
  /** Exact (unrounded) time of each pixel's last event, −Infinity before the first. */
  readonly lastEventUs: Float64Array;
  /**
   * Derived from the above, to make the common case cheap: the levels at which the pixel fires
   * next, ref + θ_on and ref − θ_off, or NaN while it is held in reset past the step's end. A pixel
   * with fireBelow < L(t1) < fireAbove and no noise event does nothing in that step.
   */
  readonly fireAbove: Float32Array;
  readonly fireBelow: Float32Array;
  /** Indices of hot pixels. */
  readonly hotPixels: Uint32Array;
  readonly scratch: StepScratch;
}

/**
 * Initial state: every pixel's reference set to the first image (no events at start), thresholds
 * and hot pixels drawn from `rng` (mismatch first, so noise settings do not change the mismatch map).
 */
export function createDvsState(params: DvsParameters, geometry: Geometry, logInitial: Float32Array, tUs: number, rng: Rng): DvsState {
  const size = geometry.width * geometry.height;
  if (logInitial.length !== size) throw new RangeError(`createDvsState: initial image has ${logInitial.length} values, expected ${size}`);
  const thresholdOn = new Float32Array(size);
  const thresholdOff = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    thresholdOn[i] = Math.max(params.thresholdMin, params.thresholdOn + params.thresholdSigma * rng.normal());
    thresholdOff[i] = Math.max(params.thresholdMin, params.thresholdOff + params.thresholdSigma * rng.normal());
  }
  const hot: number[] = [];
  if (params.hotPixelFraction > 0) {
    for (let i = 0; i < size; i++) if (rng.uniform() < params.hotPixelFraction) hot.push(i);
  }
  const initialCapacity = 4096;
  const fireAbove = new Float32Array(size);
  const fireBelow = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    fireAbove[i] = logInitial[i]! + thresholdOn[i]!;
    fireBelow[i] = logInitial[i]! - thresholdOff[i]!;
  }
  return {
    width: geometry.width,
    height: geometry.height,
    tUs,
    logPrev: Float32Array.from(logInitial),
    logRef: Float32Array.from(logInitial),
    thresholdOn,
    thresholdOff,
    lastEventUs: new Float64Array(size).fill(-Infinity),
    fireAbove,
    fireBelow,
    hotPixels: Uint32Array.from(hot),
    scratch: {
      pixel: new Uint32Array(initialCapacity),
      offset: new Uint32Array(initialCapacity),
      polarity: new Uint8Array(initialCapacity),
      n: 0,
      noiseKeys: new Float64Array(256),
      active: new Uint32Array(size),
      buckets: new Uint32Array(0),
      order: new Uint32Array(initialCapacity),
    },
  };
}

/**
 * Advance every pixel from state.tUs to `tNextUs` (an integer number of µs later) given the new
 * log image, and append the step's events, time-sorted, to `out`. Returns the number of events.
 */
export function dvsStep(params: DvsParameters, state: DvsState, logNext: Float32Array, tNextUs: number, rng: Rng, out: PacketBuilder): number {
  const t0 = state.tUs;
  const dt = tNextUs - t0;
  if (!(dt > 0) || !Number.isInteger(dt)) throw new RangeError(`dvsStep: step must be a positive whole number of µs, got ${dt} (from ${t0} to ${tNextUs})`);
  const size = state.width * state.height;
  if (logNext.length !== size) throw new RangeError(`dvsStep: image has ${logNext.length} values, expected ${size}`);
  const s = state.scratch;
  s.n = 0;

  const noiseCount = drawNoise(params, state, dt, rng);
  const keys = s.noiseKeys;
  const keyPerPixel = 2 * (dt + 1);
  const activeCount = findActivePixels(logNext, state.fireAbove, state.fireBelow, s.active);
  const active = s.active;

  const R = params.refractoryUs;
  const { logPrev, logRef, lastEventUs, thresholdOn, thresholdOff, fireAbove, fireBelow } = state;
  // Visit, in pixel order, the union of the active pixels and the pixels with noise events.
  let a = 0;
  let cursor = 0;
  let noisePixel = noiseCount > 0 ? Math.floor(keys[0]! / keyPerPixel) : size;
  while (a < activeCount || cursor < noiseCount) {
    const activePixel = a < activeCount ? active[a]! : size;
    const i = activePixel < noisePixel ? activePixel : noisePixel;
    if (activePixel === i) a++;
    const L0 = logPrev[i]!;
    const slope = (logNext[i]! - L0) / dt;
    let from = t0;
    while (noisePixel === i) {
      const within = keys[cursor]! - i * keyPerPixel;
      const offset = within >>> 1;
      const tn = t0 + offset;
      integratePixel(state, params, i, t0, L0, slope, from, tn, s);
      // The noise event is a real reset of the pixel, unless it is held in reset already.
      if (tn - lastEventUs[i]! >= R) {
        emit(s, i, offset, within & 1);
        lastEventUs[i] = tn;
        logRef[i] = L0 + slope * offset;
      }
      from = tn;
      cursor++;
      noisePixel = cursor < noiseCount ? Math.floor(keys[cursor]! / keyPerPixel) : size;
    }
    integratePixel(state, params, i, t0, L0, slope, from, tNextUs, s);
    const held = lastEventUs[i]! + R > tNextUs;
    fireAbove[i] = held ? NaN : logRef[i]! + thresholdOn[i]!;
    fireBelow[i] = held ? NaN : logRef[i]! - thresholdOff[i]!;
  }

  writeSorted(s, state.width, t0, dt, out);
  logPrev.set(logNext);
  state.tUs = tNextUs;
  return s.n;
}

/**
 * Indices of the pixels that may do something this step: a threshold reached by the step's end, or
 * held in reset (NaN levels). Everything else (most pixels, most steps) is skipped in this one tight loop.
 */
function findActivePixels(logNext: Float32Array, fireAbove: Float32Array, fireBelow: Float32Array, active: Uint32Array): number {
  let m = 0;
  for (let i = 0; i < logNext.length; i++) {
    const L1 = logNext[i]!;
    if (!(L1 < fireAbove[i]! && L1 > fireBelow[i]!)) active[m++] = i;
  }
  return m;
}

/**
 * Threshold crossings of pixel i in (ta, tb], with L(t) = L0 + slope·(t − t0). Updates the pixel's
 * reference and last-event time.
 */
function integratePixel(state: DvsState, params: DvsParameters, i: number, t0: number, L0: number, slope: number, ta: number, tb: number, s: StepScratch): void {
  if (tb <= ta) return;
  const R = params.refractoryUs;
  const thOn = state.thresholdOn[i]!;
  const thOff = state.thresholdOff[i]!;
  const Lb = L0 + slope * (tb - t0);
  let ref = state.logRef[i]!;
  let last = state.lastEventUs[i]!;
  let from = ta;
  // Held in reset (refractory) at the start: the reference follows the input until release.
  const release = last + R;
  if (release > from) {
    if (release >= tb) {
      state.logRef[i] = Lb;
      return;
    }
    ref = L0 + slope * (release - t0);
    from = release;
  }
  for (;;) {
    let level: number;
    let polarity: number;
    if (Lb - ref >= thOn) {
      level = ref + thOn;
      polarity = 1;
    } else if (ref - Lb >= thOff) {
      level = ref - thOff;
      polarity = 0;
    } else break;
    // Linear interpolation of the crossing time; clamped against rounding at the interval ends.
    let tc = slope !== 0 ? t0 + (level - L0) / slope : tb;
    if (!(tc >= from)) tc = from;
    else if (tc > tb) tc = tb;
    emit(s, i, Math.round(tc - t0), polarity);
    last = tc;
    if (R > 0) {
      const free = tc + R;
      if (free >= tb) {
        ref = Lb;
        break;
      }
      ref = L0 + slope * (free - t0);
      from = free;
    } else {
      ref = level;
      from = tc;
    }
  }
  state.logRef[i] = ref;
  state.lastEventUs[i] = last;
}

function emit(s: StepScratch, pixel: number, offset: number, polarity: number): void {
  if (s.n === s.pixel.length) growEvents(s);
  const k = s.n;
  s.pixel[k] = pixel;
  s.offset[k] = offset;
  s.polarity[k] = polarity;
  s.n = k + 1;
}

function growEvents(s: StepScratch): void {
  const cap = s.pixel.length * 2;
  const pixel = new Uint32Array(cap);
  pixel.set(s.pixel);
  const offset = new Uint32Array(cap);
  offset.set(s.offset);
  const polarity = new Uint8Array(cap);
  polarity.set(s.polarity);
  s.pixel = pixel;
  s.offset = offset;
  s.polarity = polarity;
  s.order = new Uint32Array(cap);
}

/**
 * Background activity and hot-pixel events of one step, as sorted keys in scratch.noiseKeys.
 * The total background count over all pixels is one Poisson draw (superposition of independent
 * per-pixel Poisson processes), each event then gets a uniform pixel and time in (t0, t0 + dt].
 */
function drawNoise(params: DvsParameters, state: DvsState, dt: number, rng: Rng): number {
  const s = state.scratch;
  const size = state.width * state.height;
  const seconds = dt * 1e-6;
  let n = 0;
  if (params.noiseRateHz > 0) {
    const count = rng.poisson(params.noiseRateHz * size * seconds);
    for (let k = 0; k < count; k++) {
      const pixel = rng.int(size);
      const offset = 1 + rng.int(dt);
      n = pushNoiseKey(s, n, (pixel * (dt + 1) + offset) * 2 + (rng.uniform() < params.noiseOnFraction ? 1 : 0));
    }
  }
  if (params.hotPixelRateHz > 0) {
    const hot = state.hotPixels;
    const lambda = params.hotPixelRateHz * seconds;
    for (let h = 0; h < hot.length; h++) {
      const count = rng.poisson(lambda);
      for (let k = 0; k < count; k++) n = pushNoiseKey(s, n, (hot[h]! * (dt + 1) + 1 + rng.int(dt)) * 2 + 1);
    }
  }
  if (n > 1) s.noiseKeys.subarray(0, n).sort();
  return n;
}

function pushNoiseKey(s: StepScratch, n: number, key: number): number {
  if (n === s.noiseKeys.length) {
    const bigger = new Float64Array(n * 2);
    bigger.set(s.noiseKeys);
    s.noiseKeys = bigger;
  }
  s.noiseKeys[n] = key;
  return n + 1;
}

/** Counting sort of the step's events by µs offset (stable: ties keep pixel order), into `out`. */
function writeSorted(s: StepScratch, width: number, t0: number, dt: number, out: PacketBuilder): void {
  const n = s.n;
  if (n === 0) return;
  if (s.buckets.length < dt + 2) s.buckets = new Uint32Array(dt + 2);
  const buckets = s.buckets;
  buckets.fill(0, 0, dt + 2);
  const offset = s.offset;
  for (let k = 0; k < n; k++) buckets[offset[k]! + 1]++;
  for (let b = 1; b <= dt + 1; b++) buckets[b] += buckets[b - 1]!;
  const order = s.order;
  for (let k = 0; k < n; k++) order[buckets[offset[k]!]++] = k;

  const pixel = s.pixel;
  const polarity = s.polarity;
  let k = 0;
  while (k < n) {
    const m = Math.min(n - k, out.capacity);
    out.reserve(m);
    const { x, y, t, p } = out;
    let w = out.n;
    for (const end = k + m; k < end; k++) {
      const e = order[k]!;
      const pix = pixel[e]!;
      const row = (pix / width) | 0;
      x[w] = pix - row * width;
      y[w] = row;
      t[w] = t0 + offset[e]!;
      p[w] = polarity[e]!;
      w++;
    }
    out.n = w;
  }
}
