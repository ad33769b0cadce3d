/**
 * Generated scenes for the emulator: intensity images I(x, y, t) > 0 rendered at any time t, as
 * pure functions of (params, t). Images are row-major Float32Array, width × height, index y·width + x.
 *
 * Coordinates and motion. Pixel (x, y) samples the scene at its centre; y grows downwards (image
 * rows). A moving scene translates a static pattern P by the displacement
 *   d(t) = offset + v·t,   v = speed · (cos θ, −sin θ)
 * so I(x, y, t) = P(x − d_x(t), y − d_y(t)). θ = direction_deg: 0° moves rightwards (+x), 90° moves
 * upwards (towards row 0), counter-clockwise as seen on screen. Speed is in pixels per second and
 * t in microseconds since the scene started.
 *
 * Kinds:
 * - 'bars': a square-wave grating (bars of width w repeating every period Λ) oriented
 *   perpendicular to the motion, one bar starting at the sensor centre c at t = 0 (so a single bar,
 *   Λ ≫ sensor, is in view at first whatever the direction). Each pixel integrates the bar over its
 *   unit footprint along the motion axis, so sub-pixel motion changes intensity smoothly:
 *   coverage(u) = |[u − ½, u + ½] ∩ bars|,  bars = ∪_k [kΛ, kΛ + w),  u = (p − c − d)·n,
 *   I = background + (bar_intensity − background)·coverage.
 * - 'dots': `count` Gaussian blobs (σ = radius_px) at seeded positions on the sensor torus (they wrap
 *   around the edges, so density stays constant): I = background + (dot − background)·min(1, Σ g).
 * - 'texture': band-limited random noise in the spirit of MotionClouds (Leon, Vanzetta, Masson &
 *   Perrinet 2012; used by Grimaldi & Perrinet 2023): random phases under the spectral envelope
 *   E(f, φ) = exp(−½·ln²(f/sf0) / ln²((sf0 + bsf)/sf0)) · exp(cos(2(φ − θ_tex)) / (4·bθ²)),
 *   inverse FFT on an N×N periodic grid (N = power of two ≥ the sensor), normalised to z ∈ [−1, 1],
 *   I = background·(1 + contrast·z). Rigid translation only (MotionClouds' speed bandwidth B_V = 0).
 *   Sampled bilinearly in log intensity (so renderLog needs no log per pixel).
 * - 'frames': user-supplied frames with timestamps, linearly interpolated in log intensity between
 *   neighbouring frames, held constant before the first and after the last.
 */

import type { Geometry } from '../events/packet.js';
import { Rng } from './rng.js';
import { EmulatorConfigError, checkNumber, describe } from './config-error.js';

/** How a moving scene moves. */
export interface MotionParams {
  /** Direction of motion in degrees: 0 = rightwards, 90 = upwards (counter-clockwise on screen). */
  readonly direction_deg: number;
  /** Speed in pixels per second (≥ 0). */
  readonly speed_px_s: number;
  /** Displacement at t = 0 in pixels (lets a schedule continue a pattern where it was). Default 0. */
  readonly offset_x_px?: number;
  readonly offset_y_px?: number;
}

export interface BarsParams extends MotionParams {
  readonly kind: 'bars';
  /** Distance between bar starts along the motion axis (px). Default 16. */
  readonly period_px?: number;
  /** Bar width (px), < period. Default period / 2. */
  readonly bar_width_px?: number;
  /** Intensity between bars (> 0). Default 0.2. */
  readonly background?: number;
  /** Intensity of the bars (> 0; below background gives dark bars). Default 1. */
  readonly bar_intensity?: number;
}

export interface DotsParams extends MotionParams {
  readonly kind: 'dots';
  /** Number of dots. Default 20. */
  readonly count?: number;
  /** Gaussian σ of each dot (px). Default 1.5. */
  readonly radius_px?: number;
  /** Default 0.2. */
  readonly background?: number;
  /** Peak intensity of a dot (> 0). Default 1. */
  readonly dot_intensity?: number;
  /** Seed of the dot positions. Default 1. */
  readonly seed?: number;
}

export interface TextureParams extends MotionParams {
  readonly kind: 'texture';
  /** Peak spatial frequency (cycles per pixel, ≤ 0.5). Default 0.125 (MotionClouds' sf_0). */
  readonly sf0?: number;
  /** Spatial-frequency bandwidth (cycles per pixel). Default 0.1 (MotionClouds' B_sf). */
  readonly bsf?: number;
  /** Mean orientation of the texture's wave vectors (degrees, same convention as direction). Default: the direction. */
  readonly theta_deg?: number;
  /** Orientation bandwidth bθ (degrees); Infinity = isotropic. Default Infinity. */
  readonly btheta_deg?: number;
  /** Michelson-like contrast in [0, 1). Default 0.7. */
  readonly contrast?: number;
  /** Mean intensity (> 0). Default 0.5. */
  readonly background?: number;
  /** Seed of the random phases. Default 1. */
  readonly seed?: number;
  /** Texture period N (power of two ≥ max(width, height)). Default the smallest such, at least 32. */
  readonly size_px?: number;
}

export interface SceneFrame {
  /** Frame time in µs since the scene started. Non-decreasing across frames. */
  readonly t_us: number;
  /** width × height intensities, row-major, all > 0. */
  readonly pixels: ArrayLike<number>;
}

export interface FramesParams {
  readonly kind: 'frames';
  readonly frames: readonly SceneFrame[];
}

export type MovingSceneParams = BarsParams | DotsParams | TextureParams;
export type SceneParams = MovingSceneParams | FramesParams;
export type SceneKind = SceneParams['kind'];

export interface Scene {
  readonly params: SceneParams;
  readonly geometry: Geometry;
  /** Intensity image at `tUs` (µs since the scene started) into `out` (width × height, values > 0). */
  render(tUs: number, out: Float32Array): void;
  /** Natural log of the same image: what the pixel model consumes. */
  renderLog(tUs: number, out: Float32Array): void;
}

/** Unit velocity (x, y) in pixel coordinates (y down) for a direction in degrees. */
export function directionVector(direction_deg: number): { readonly x: number; readonly y: number } {
  const a = (direction_deg * Math.PI) / 180;
  return { x: Math.cos(a), y: -Math.sin(a) };
}

/** Displacement of a moving scene at `tUs`. */
export function displacementAt(params: MotionParams, tUs: number): { readonly x: number; readonly y: number } {
  const v = directionVector(params.direction_deg);
  const s = params.speed_px_s * tUs * 1e-6;
  return { x: (params.offset_x_px ?? 0) + v.x * s, y: (params.offset_y_px ?? 0) + v.y * s };
}

/**
 * Build a scene for a sensor geometry. Validates the parameters (errors name `field`.<param>).
 * `textureCache` lets a caller that builds many texture scenes reuse the generated log textures
 * (keyed by the parameters that shape them).
 */
export function createScene(params: SceneParams, geometry: Geometry, field = 'scene', textureCache?: Map<string, Float32Array>): Scene {
  if (params === null || typeof params !== 'object') throw new EmulatorConfigError(field, `must be an object, got ${describe(params)}`);
  switch (params.kind) {
    case 'bars':
      return createBarsScene(params, geometry, field);
    case 'dots':
      return createDotsScene(params, geometry, field);
    case 'texture':
      return createTextureScene(params, geometry, field, textureCache);
    case 'frames':
      return createFramesScene(params, geometry, field);
    default:
      throw new EmulatorConfigError(`${field}.kind`, `must be one of 'bars', 'dots', 'texture', 'frames', got ${describe((params as { kind?: unknown }).kind)}`);
  }
}

function checkMotion(p: MotionParams, field: string): void {
  checkNumber(p.direction_deg, NaN, `${field}.direction_deg`);
  if (p.direction_deg === undefined) throw new EmulatorConfigError(`${field}.direction_deg`, 'is required');
  checkNumber(p.speed_px_s, NaN, `${field}.speed_px_s`, { min: 0 });
  if (p.speed_px_s === undefined) throw new EmulatorConfigError(`${field}.speed_px_s`, 'is required');
  checkNumber(p.offset_x_px, 0, `${field}.offset_x_px`);
  checkNumber(p.offset_y_px, 0, `${field}.offset_y_px`);
}

function expInPlace(out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]!);
}

// ---------------------------------------------------------------------------------------------
// Bars

function createBarsScene(params: BarsParams, geometry: Geometry, field: string): Scene {
  checkMotion(params, field);
  const period = checkNumber(params.period_px, 16, `${field}.period_px`, { min: 1 });
  const width = checkNumber(params.bar_width_px, period / 2, `${field}.bar_width_px`, { min: 0, exclusiveMin: true });
  if (width >= period) throw new EmulatorConfigError(`${field}.bar_width_px`, `must be < period_px (${period}), got ${width}`);
  const background = checkNumber(params.background, 0.2, `${field}.background`, { min: 0, exclusiveMin: true });
  const bar = checkNumber(params.bar_intensity, 1, `${field}.bar_intensity`, { min: 0, exclusiveMin: true });
  const n = directionVector(params.direction_deg);
  const W = geometry.width;
  const H = geometry.height;

  // log(background + (bar − background)·c) on a fine grid of coverage c ∈ [0, 1], linearly interpolated.
  const LUT_STEPS = 4096;
  const logLut = new Float32Array(LUT_STEPS + 2);
  for (let i = 0; i <= LUT_STEPS + 1; i++) logLut[i] = Math.log(background + (bar - background) * Math.min(1, i / LUT_STEPS));
  const invPeriod = 1 / period;

  const coverageImage = (tUs: number, out: Float32Array, asLog: boolean): void => {
    const d = displacementAt(params, tUs);
    // u = (p − c − d)·n for the pixel centre p = (x, y), with the pattern anchored at the sensor centre c
    const u0 = -((W / 2 + d.x) * n.x + (H / 2 + d.y) * n.y);
    for (let y = 0; y < H; y++) {
      const uRow = u0 + y * n.y;
      const row = y * W;
      for (let x = 0; x < W; x++) {
        // The footprint [u − ½, u + ½] starts at phase r ∈ [0, Λ) of bar k; as Λ ≥ 1 it can only
        // overlap bar k, [0, w), and bar k + 1, [Λ, Λ + w) (relative to bar k's start).
        // (Ternaries rather than Math.min/max: several times faster in this loop.)
        const a = uRow + x * n.x - 0.5;
        const r = a - Math.floor(a * invPeriod) * period;
        const inFirst = r < width ? (r + 1 < width ? 1 : width - r) : 0;
        const intoNext = r + 1 - period;
        const inNext = intoNext > 0 ? (intoNext < width ? intoNext : width) : 0;
        const c = inFirst + inNext < 1 ? inFirst + inNext : 1;
        if (asLog) {
          const f = c * LUT_STEPS;
          const i = f | 0; // f ≥ 0
          const l0 = logLut[i]!;
          out[row + x] = l0 + (logLut[i + 1]! - l0) * (f - i);
        } else {
          out[row + x] = background + (bar - background) * c;
        }
      }
    }
  };
  return {
    params,
    geometry,
    render: (tUs, out) => coverageImage(tUs, out, false),
    renderLog: (tUs, out) => coverageImage(tUs, out, true),
  };
}

// ---------------------------------------------------------------------------------------------
// Dots

function createDotsScene(params: DotsParams, geometry: Geometry, field: string): Scene {
  checkMotion(params, field);
  const count = checkNumber(params.count, 20, `${field}.count`, { min: 0, integer: true, max: 100000 });
  const sigma = checkNumber(params.radius_px, 1.5, `${field}.radius_px`, { min: 0, exclusiveMin: true, max: 1000 });
  const background = checkNumber(params.background, 0.2, `${field}.background`, { min: 0, exclusiveMin: true });
  const peak = checkNumber(params.dot_intensity, 1, `${field}.dot_intensity`, { min: 0, exclusiveMin: true });
  const seed = checkNumber(params.seed, 1, `${field}.seed`);
  const W = geometry.width;
  const H = geometry.height;
  const rng = new Rng(seed, 0xd075);
  const cx = new Float64Array(count);
  const cy = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    cx[j] = rng.uniform() * W;
    cy[j] = rng.uniform() * H;
  }
  const reach = Math.ceil(3 * sigma);
  const span = 2 * reach + 2;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const sum = new Float32Array(W * H);
  // exp(−(dx² + dy²)/2σ²) = gx·gy: two short 1D profiles per dot instead of a 2D patch of exps.
  const gx = new Float64Array(span);
  const gy = new Float64Array(span);

  const accumulate = (tUs: number): void => {
    sum.fill(0);
    const d = displacementAt(params, tUs);
    for (let j = 0; j < count; j++) {
      const px = mod(cx[j]! + d.x, W);
      const py = mod(cy[j]! + d.y, H);
      const x0 = Math.floor(px) - reach;
      const y0 = Math.floor(py) - reach;
      for (let k = 0; k < span; k++) {
        const dx = x0 + k - px;
        const dy = y0 + k - py;
        gx[k] = Math.exp(-dx * dx * inv2s2);
        gy[k] = Math.exp(-dy * dy * inv2s2);
      }
      for (let ky = 0; ky < span; ky++) {
        const row = mod(y0 + ky, H) * W;
        const wy = gy[ky]!;
        for (let kx = 0; kx < span; kx++) sum[row + mod(x0 + kx, W)] += wy * gx[kx]!;
      }
    }
  };
  const logBackground = Math.log(background);
  const swing = peak - background;
  return {
    params,
    geometry,
    render(tUs, out) {
      accumulate(tUs);
      for (let i = 0; i < out.length; i++) {
        const s = sum[i]!;
        out[i] = background + swing * (s < 1 ? s : 1);
      }
    },
    renderLog(tUs, out) {
      accumulate(tUs);
      for (let i = 0; i < out.length; i++) {
        const s = sum[i]!;
        // Far from every dot the sum underflows to exactly 0: no log needed there.
        out[i] = s === 0 ? logBackground : Math.log(background + swing * (s < 1 ? s : 1));
      }
    },
  };
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

// ---------------------------------------------------------------------------------------------
// Texture (MotionClouds-like)

function createTextureScene(params: TextureParams, geometry: Geometry, field: string, cache?: Map<string, Float32Array>): Scene {
  checkMotion(params, field);
  const sf0 = checkNumber(params.sf0, 0.125, `${field}.sf0`, { min: 0, exclusiveMin: true, max: 0.5 });
  const bsf = checkNumber(params.bsf, 0.1, `${field}.bsf`, { min: 0, exclusiveMin: true });
  const theta = checkNumber(params.theta_deg, params.direction_deg, `${field}.theta_deg`);
  const btheta = checkNumber(params.btheta_deg, Infinity, `${field}.btheta_deg`, { min: 0, exclusiveMin: true, allowInfinity: true });
  const contrast = checkNumber(params.contrast, 0.7, `${field}.contrast`, { min: 0 });
  if (contrast >= 1) throw new EmulatorConfigError(`${field}.contrast`, `must be < 1 (intensity stays positive), got ${contrast}`);
  const background = checkNumber(params.background, 0.5, `${field}.background`, { min: 0, exclusiveMin: true });
  const seed = checkNumber(params.seed, 1, `${field}.seed`);
  let minSize = 32;
  while (minSize < Math.max(geometry.width, geometry.height)) minSize *= 2;
  const N = checkNumber(params.size_px, minSize, `${field}.size_px`, { integer: true, min: minSize, max: 8192 });
  if ((N & (N - 1)) !== 0) throw new EmulatorConfigError(`${field}.size_px`, `must be a power of two, got ${N}`);

  // The orientation only shapes the texture when the envelope is anisotropic.
  const key = JSON.stringify([N, sf0, bsf, Number.isFinite(btheta) ? theta : 0, btheta, contrast, background, seed]);
  let logTexture = cache?.get(key);
  if (!logTexture) {
    logTexture = makeLogTexture(N, sf0, bsf, theta, btheta, contrast, background, seed);
    cache?.set(key, logTexture);
  }
  const W = geometry.width;
  const H = geometry.height;
  const mask = N - 1;
  // Rows padded with their first W + 1 texels repeated, so a sensor row reads one contiguous run.
  const stride = N + W + 1;
  const tex = new Float32Array(N * stride);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < stride; c++) tex[r * stride + c] = logTexture[r * N + (c & mask)]!;
  }

  const renderLog = (tUs: number, out: Float32Array): void => {
    // Sample T(x − d_x, y − d_y): the integer and fractional parts of −d are the same for every
    // pixel, so the bilinear weights are computed once per frame.
    const d = displacementAt(params, tUs);
    const sx = -d.x;
    const sy = -d.y;
    const ix = Math.floor(sx);
    const iy = Math.floor(sy);
    const fx = sx - ix;
    const fy = sy - iy;
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    const col = ix & mask;
    for (let y = 0; y < H; y++) {
      const a = ((y + iy) & mask) * stride + col;
      const b = ((y + iy + 1) & mask) * stride + col;
      const row = y * W;
      for (let x = 0; x < W; x++) {
        out[row + x] = w00 * tex[a + x]! + w10 * tex[a + x + 1]! + w01 * tex[b + x]! + w11 * tex[b + x + 1]!;
      }
    }
  };
  return {
    params,
    geometry,
    renderLog,
    render(tUs, out) {
      renderLog(tUs, out);
      expInPlace(out);
    },
  };
}

/**
 * The N×N periodic log-intensity texture: random phases under the MotionClouds envelope, inverse
 * FFT, real part, normalised to max |z| = 1, then log(background·(1 + contrast·z)).
 */
export function makeLogTexture(N: number, sf0: number, bsf: number, theta_deg: number, btheta_deg: number, contrast: number, background: number, seed: number): Float32Array {
  const rng = new Rng(seed, 0x7e47);
  const re = new Float64Array(N * N);
  const im = new Float64Array(N * N);
  const logBandwidth = Math.log((sf0 + bsf) / sf0);
  const theta = (theta_deg * Math.PI) / 180;
  const btheta = (btheta_deg * Math.PI) / 180;
  for (let ky = 0; ky < N; ky++) {
    const fy = (ky < N / 2 ? ky : ky - N) / N;
    for (let kx = 0; kx < N; kx++) {
      const fx = (kx < N / 2 ? kx : kx - N) / N;
      const f = Math.hypot(fx, fy);
      const phase = 2 * Math.PI * rng.uniform(); // drawn for every bin so the texture depends only on the seed
      if (f === 0) continue;
      const lr = Math.log(f / sf0) / logBandwidth;
      let envelope = Math.exp(-0.5 * lr * lr);
      if (Number.isFinite(btheta)) {
        // Frequency angle in the screen convention (y up), orientation-symmetric (period π).
        const phi = Math.atan2(-fy, fx);
        envelope *= Math.exp((Math.cos(2 * (phi - theta)) - 1) / (4 * btheta * btheta));
      }
      re[ky * N + kx] = envelope * Math.cos(phase);
      im[ky * N + kx] = envelope * Math.sin(phase);
    }
  }
  fft2dInPlace(re, im, N);
  let maxAbs = 0;
  let mean = 0;
  for (let i = 0; i < re.length; i++) mean += re[i]!;
  mean /= re.length;
  for (let i = 0; i < re.length; i++) maxAbs = Math.max(maxAbs, Math.abs(re[i]! - mean));
  const scale = maxAbs > 0 ? contrast / maxAbs : 0;
  const out = new Float32Array(N * N);
  for (let i = 0; i < out.length; i++) out[i] = Math.log(background * (1 + scale * (re[i]! - mean)));
  return out;
}

/** In-place 2D FFT (rows then columns) of an N×N complex array; N a power of two. Sign is irrelevant for random phases. */
function fft2dInPlace(re: Float64Array, im: Float64Array, N: number): void {
  const rowRe = new Float64Array(N);
  const rowIm = new Float64Array(N);
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < N; a++) {
      // pass 0: row a; pass 1: column a
      for (let b = 0; b < N; b++) {
        const idx = pass === 0 ? a * N + b : b * N + a;
        rowRe[b] = re[idx]!;
        rowIm[b] = im[idx]!;
      }
      fft1dInPlace(rowRe, rowIm);
      for (let b = 0; b < N; b++) {
        const idx = pass === 0 ? a * N + b : b * N + a;
        re[idx] = rowRe[b]!;
        im[idx] = rowIm[b]!;
      }
    }
  }
}

/** Iterative radix-2 Cooley–Tukey FFT (bit-reversal, then butterflies). */
function fft1dInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (2 * Math.PI) / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = start + k;
        const b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

function createFramesScene(params: FramesParams, geometry: Geometry, field: string): Scene {
  const frames = params.frames;
  if (!Array.isArray(frames) || frames.length === 0) throw new EmulatorConfigError(`${field}.frames`, 'must be a non-empty array of { t_us, pixels }');
  const size = geometry.width * geometry.height;
  const times = new Float64Array(frames.length);
  const logFrames: Float32Array[] = [];
  for (let k = 0; k < frames.length; k++) {
    const f = frames[k]!;
    const where = `${field}.frames[${k}]`;
    times[k] = checkNumber(f?.t_us, NaN, `${where}.t_us`);
    if (f?.t_us === undefined) throw new EmulatorConfigError(`${where}.t_us`, 'is required');
    if (k > 0 && times[k]! < times[k - 1]!) throw new EmulatorConfigError(`${where}.t_us`, `must not decrease (previous ${times[k - 1]}, got ${times[k]})`);
    const px = f.pixels;
    if (!px || typeof px.length !== 'number' || px.length !== size) {
      throw new EmulatorConfigError(`${where}.pixels`, `must hold width × height = ${size} values, got ${px && typeof px.length === 'number' ? px.length : describe(px)}`);
    }
    const lf = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const v = px[i]!;
      if (!(v > 0) || !Number.isFinite(v)) throw new EmulatorConfigError(`${where}.pixels`, `must be finite and > 0, got ${v} at index ${i}`);
      lf[i] = Math.log(v);
    }
    logFrames.push(lf);
  }

  const renderLog = (tUs: number, out: Float32Array): void => {
    // Last frame with time ≤ t (binary search); clamp outside the recorded span.
    let lo = 0;
    let hi = times.length - 1;
    if (tUs <= times[0]!) return void out.set(logFrames[0]!);
    if (tUs >= times[hi]!) return void out.set(logFrames[hi]!);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= tUs) lo = mid;
      else hi = mid;
    }
    const a = logFrames[lo]!;
    const b = logFrames[hi]!;
    const w = (tUs - times[lo]!) / (times[hi]! - times[lo]!);
    for (let i = 0; i < size; i++) out[i] = a[i]! + (b[i]! - a[i]!) * w;
  };
  return {
    params,
    geometry,
    renderLog,
    render(tUs, out) {
      renderLog(tUs, out);
      expInPlace(out);
    },
  };
}
