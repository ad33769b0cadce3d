/**
 * The WASM per-pixel kernels (src/wasm/pixels.as.ts, compiled to dist/wasm/pixels.wasm by `npm run
 * build`) behind operators/refractory.ts, operators/denoise.ts and the WebSocket server's frame
 * counts (adapters/ws-frames.ts). Each user gets its own instance and memory: a batch area, which a
 * packet's events are copied into in batches, and its per-pixel state. A filter kernel compacts the
 * kept events at the front of the batch; they are copied out into the operator's output buffers.
 * Same results as the TypeScript loops, bit for bit; when the file is missing or fails to load,
 * `pixelKernelStatus()` says why and the TypeScript loops run.
 */
import type { EventPacket, Geometry } from './packet.js';
import type { WindowCounter } from './window-counter.js';
import { compileKernel } from '../formats/wasm-kernels.js';

interface PixelExports {
  heapBase(): number;
  refractory(n: number, xs: number, ys: number, ts: number, ps: number, list: number, last: number, width: number, height: number, plane: number, period: number): number;
  denoise(n: number, xs: number, ys: number, ts: number, ps: number, list: number, last: number, width: number, height: number, r: number, window: number): number;
  countFrame(n: number, xs: number, ys: number, ts: number, counts: number, touched: number, tally: number, width: number, height: number, windowEnd: number, force: boolean): number;
  clearTouched(counts: number, touched: number, n: number): void;
  sparsePayload(counts: number, pixels: number, nnz: number, out: number): void;
}

/** Where kept events go: room for at least the packet's length. */
export interface FilterTarget {
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
}

/** A filter with its state: `run` filters one packet into `out` and returns the number kept. */
export interface PixelFilter {
  /**
   * The per-pixel last times, a view of the instance's memory: the operator's TypeScript loop runs
   * over the same state for packets too small to be worth the copies (MIN_KERNEL_EVENTS).
   */
  readonly last: Float64Array;
  /**
   * Keeps the events of `packet` that pass, in order, at the front of `out`; returns how many. When
   * an event lies outside the geometry it returns -(i + 1) for the first such event i and changes no
   * state (the caller reports it).
   */
  run(packet: EventPacket, out: FilterTarget): number;
}

/** Events per kernel call: a file replay's packets (8,192 events) fit in one. */
const BATCH = 16384;
const PAGE = 65536;

let compiled: WebAssembly.Module | null | undefined;
let status = '';

function pixelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const c = compileKernel('pixels');
  status = typeof c === 'string' ? c : 'wasm';
  return (compiled = typeof c === 'string' ? null : c.module);
}

/** 'wasm' when the per-pixel kernels run as WASM in this process, else 'js (why)'. */
export function pixelKernelStatus(): string {
  pixelModule();
  return status;
}

/** How an operator's `kernel` option picks its loop: 'auto' (WASM when built), 'wasm' (required) or 'js'. */
export type FilterKernelChoice = 'auto' | 'wasm' | 'js';

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Where an instance keeps the batch and its own state (`state` bytes from `at.state`). */
interface InstanceAddresses {
  readonly xs: number;
  readonly ys: number;
  readonly ts: number;
  readonly ps: number;
  /** BATCH i32 for the indices of the events a filter keeps, after 8 bytes it writes off dropped events' times to. */
  readonly list: number;
  readonly state: number;
}

interface PixelInstance {
  readonly ex: PixelExports;
  readonly buffer: ArrayBuffer;
  readonly at: InstanceAddresses;
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
  /** Copies events [i0, i1) of the packet (at most BATCH) into the batch area. */
  load(packet: EventPacket, i0: number, i1: number, withPolarity: boolean): void;
}

/**
 * A new instance with its own memory: the batch area, then `stateBytes` for its per-pixel state. Null
 * when the kernel is not wanted ('js') or not available ('wasm' then throws, naming why).
 */
function pixelInstance(choice: FilterKernelChoice, op: string, stateBytes: number): PixelInstance | null {
  if (choice === 'js') return null;
  const module = pixelModule();
  if (!module) {
    if (choice === 'wasm') throw new Error(`${op}: the WASM pixel kernel is unavailable: ${status}`);
    return null;
  }
  // heapBase is known only once instantiated; the statics are tiny, so 64 KiB for them is ample.
  const xs = PAGE;
  const ys = xs + 2 * BATCH;
  const ts = ys + 2 * BATCH;
  const ps = ts + 8 * BATCH;
  const list = align(ps + BATCH, 64) + 64;
  const state = align(list + 4 * BATCH, 64);
  const pages = Math.ceil((state + stateBytes) / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const ex = new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error(`${op} WASM kernel aborted`); } } }).exports as unknown as PixelExports;
  if (ex.heapBase() > xs) throw new Error(`${op}: pixels.wasm statics (to ${ex.heapBase()}) overlap its batch area at ${xs}: rebuild it (npm run build)`);
  const buffer = memory.buffer;
  const x = new Uint16Array(buffer, xs, BATCH);
  const y = new Uint16Array(buffer, ys, BATCH);
  const t = new Float64Array(buffer, ts, BATCH);
  const p = new Uint8Array(buffer, ps, BATCH);
  return {
    ex,
    buffer,
    at: { xs, ys, ts, ps, list, state },
    x,
    y,
    t,
    p,
    load(packet, i0, i1, withPolarity) {
      x.set(packet.x.subarray(i0, i1));
      y.set(packet.y.subarray(i0, i1));
      t.set(packet.t.subarray(i0, i1));
      if (withPolarity) p.set(packet.p.subarray(i0, i1));
    },
  };
}

/** A filter over `cells` f64 last times (all −∞), running `call` per batch (see pixelInstance for null). */
function pixelFilter(choice: FilterKernelChoice, op: string, cells: number, call: (ex: PixelExports, n: number, a: InstanceAddresses) => number): PixelFilter | null {
  const inst = pixelInstance(choice, op, 8 * cells);
  if (!inst) return null;
  const { ex, at, x, y, t, p } = inst;
  const last = new Float64Array(inst.buffer, at.state, cells).fill(-Infinity);
  return {
    last,
    run(packet, out) {
      let kept = 0;
      for (let i0 = 0; i0 < packet.length; i0 += BATCH) {
        const i1 = Math.min(packet.length, i0 + BATCH);
        inst.load(packet, i0, i1, true);
        const k = call(ex, i1 - i0, at);
        // Only the first batch can fail before state changes: bigger packets are checked whole first.
        if (k < 0) return k - i0;
        out.x.set(x.subarray(0, k), kept);
        out.y.set(y.subarray(0, k), kept);
        out.t.set(t.subarray(0, k), kept);
        out.p.set(p.subarray(0, k), kept);
        kept += k;
      }
      return kept;
    },
  };
}

/** Largest packet run() can reject without having changed state (bigger ones: check bounds whole first). */
export const FILTER_BATCH = BATCH;

/**
 * Smallest packet worth a kernel call: below it the copies in and out and the call cost more than the
 * TypeScript loop (an emulator step of a few dozen events: 2.2 against 1.1 µs).
 */
export const MIN_KERNEL_EVENTS = 64;

/** The refractory filter's state: a last kept time per pixel, or per pixel and polarity (ON events after the OFF plane). */
export const refractoryCells = (g: Geometry, perPolarity: boolean): number => g.width * g.height * (perPolarity ? 2 : 1);

/**
 * The background-activity filter's state: a last time per pixel, padded by `radius` cells on every
 * side (never written, so −∞), so the square around a pixel needs no bounds checks; pitch width + 2r.
 */
export const denoiseCells = (g: Geometry, radius: number): number => (g.width + 2 * radius) * (g.height + 2 * radius);

/** The refractory filter (operators/refractory.ts semantics) as WASM, or null (see pixelFilter). */
export function refractoryKernel(choice: FilterKernelChoice, g: Geometry, perPolarity: boolean, period: number): PixelFilter | null {
  const plane = perPolarity ? g.width * g.height : 0;
  return pixelFilter(choice, 'refractory', refractoryCells(g, perPolarity), (ex, n, a) =>
    ex.refractory(n, a.xs, a.ys, a.ts, a.ps, a.list, a.state, g.width, g.height, plane, period),
  );
}

/** The background-activity filter (operators/denoise.ts semantics) as WASM, or null (see pixelFilter). */
export function denoiseKernel(choice: FilterKernelChoice, g: Geometry, radius: number, windowUs: number): PixelFilter | null {
  return pixelFilter(choice, 'denoise', denoiseCells(g, radius), (ex, n, a) =>
    ex.denoise(n, a.xs, a.ys, a.ts, a.ps, a.list, a.state, g.width, g.height, radius, windowUs),
  );
}

/**
 * The frame accumulator's counting loop (adapters/ws-frames.ts WindowCounter) as WASM for one
 * geometry, or null (see pixelInstance): counts (u8 per pixel), the touched list (one spare entry:
 * the kernel writes an entry before it knows whether it keeps it), three i32 tallies, and room for
 * a frame's sparse counts section, which it builds from the counts (zero blocks skipped whole).
 */
export function frameCounterKernel(choice: FilterKernelChoice, g: Geometry): WindowCounter | null {
  const pixels = g.width * g.height;
  // The state, from at.state: tallies, counts, the touched list, the sparse section (u32 count, then
  // a u32 index and a u8 count per pixel).
  const counts = 16;
  const touched = align(counts + pixels, 4);
  const sparse = touched + 4 * (pixels + 1);
  const inst = pixelInstance(choice, 'frames', sparse + 4 + 5 * pixels);
  if (!inst) return null;
  const { ex, at } = inst;
  const tallyAt = at.state;
  const countsAt = at.state + counts;
  const touchedAt = at.state + touched;
  const sparseAt = at.state + sparse;
  const tally = new Int32Array(inst.buffer, tallyAt, 3);
  return {
    counts: new Uint8Array(inst.buffer, countsAt, pixels),
    touched: new Int32Array(inst.buffer, touchedAt, pixels + 1),
    count(packet, i0, windowEnd, force, w) {
      tally[0] = w.nTouched;
      tally[1] = w.events;
      tally[2] = w.clipped;
      let i = i0;
      let first = force;
      while (i < packet.length) {
        const i1 = Math.min(packet.length, i + BATCH);
        inst.load(packet, i, i1, false);
        const stop = ex.countFrame(i1 - i, at.xs, at.ys, at.ts, countsAt, touchedAt, tallyAt, g.width, g.height, windowEnd, first);
        first = false;
        i += stop;
        if (i < i1) break;
      }
      w.nTouched = tally[0]!;
      w.events = tally[1]!;
      w.clipped = tally[2]!;
      return i;
    },
    clear(n) {
      ex.clearTouched(countsAt, touchedAt, n);
    },
    sparseSection(nnz) {
      ex.sparsePayload(countsAt, pixels, nnz, sparseAt);
      return new Uint8Array(inst.buffer, sparseAt, 4 + 5 * nnz);
    },
  };
}
