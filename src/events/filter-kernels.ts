/**
 * The WASM per-pixel filters (src/wasm/filters.as.ts, compiled to dist/wasm/filters.wasm by `npm run
 * build`) behind operators/refractory.ts and operators/denoise.ts. Each filter gets its own instance
 * and memory: a batch area, which a packet's events are copied into in batches, and the per-pixel
 * last times. The kernel compacts the kept events at the front of the batch; they are copied out into
 * the operator's output buffers. Same decisions as the TypeScript loops, bit for bit; when the file is
 * missing or fails to load, `filterKernelStatus()` says why and the operators use their loops.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventPacket, Geometry } from './packet.js';
import { kernelPath } from '../formats/wasm-kernels.js';

interface FilterExports {
  heapBase(): number;
  refractory(n: number, xs: number, ys: number, ts: number, ps: number, last: number, width: number, height: number, plane: number, period: number): number;
  denoise(n: number, xs: number, ys: number, ts: number, ps: number, last: number, width: number, height: number, r: number, window: number): number;
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

function filterModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const path = kernelPath('filters');
  if (!path) {
    const dir = process.env['SPIKEFLOW_WASM_DIR'];
    status = `js (${dir ? join(dir, 'filters.wasm') : 'dist/wasm/filters.wasm'} not found: run npm run build)`;
    return (compiled = null);
  }
  try {
    compiled = new WebAssembly.Module(readFileSync(path));
    status = 'wasm';
  } catch (e) {
    status = `js (${path} failed to load: ${(e as Error).message})`;
    compiled = null;
  }
  return compiled;
}

/** 'wasm' when the filters run as WASM in this process, else 'js (why)'. */
export function filterKernelStatus(): string {
  filterModule();
  return status;
}

/** How an operator's `kernel` option picks its loop: 'auto' (WASM when built), 'wasm' (required) or 'js'. */
export type FilterKernelChoice = 'auto' | 'wasm' | 'js';

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * A new instance with a batch area and `cells` f64 last times (all −∞), running `call` per batch; null
 * when the kernel is not wanted or not available ('wasm' then throws, naming why).
 */
function pixelFilter(
  choice: FilterKernelChoice,
  op: string,
  cells: number,
  call: (ex: FilterExports, n: number, a: BatchAddresses) => number,
): PixelFilter | null {
  if (choice === 'js') return null;
  const module = filterModule();
  if (!module) {
    if (choice === 'wasm') throw new Error(`${op}: the WASM filter kernel is unavailable: ${status}`);
    return null;
  }
  const layout = (base: number) => {
    const xs = align(base, 64);
    const ys = xs + 2 * BATCH;
    const ts = ys + 2 * BATCH;
    const ps = ts + 8 * BATCH;
    const last = align(ps + BATCH, 64);
    return { xs, ys, ts, ps, last, end: last + 8 * cells };
  };
  // heapBase is known only once instantiated; the statics are tiny, so 64 KiB for them is ample.
  const a = layout(PAGE);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(a.end / PAGE), maximum: Math.ceil(a.end / PAGE) });
  const ex = new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error(`${op} WASM kernel aborted`); } } }).exports as unknown as FilterExports;
  if (ex.heapBase() > a.xs) throw new Error(`${op}: filters.wasm statics (to ${ex.heapBase()}) overlap its batch area at ${a.xs}: rebuild it (npm run build)`);
  const buf = memory.buffer;
  const x = new Uint16Array(buf, a.xs, BATCH);
  const y = new Uint16Array(buf, a.ys, BATCH);
  const t = new Float64Array(buf, a.ts, BATCH);
  const p = new Uint8Array(buf, a.ps, BATCH);
  const last = new Float64Array(buf, a.last, cells).fill(-Infinity);
  return {
    last,
    run(packet, out) {
      let kept = 0;
      for (let i0 = 0; i0 < packet.length; i0 += BATCH) {
        const i1 = Math.min(packet.length, i0 + BATCH);
        const n = i1 - i0;
        x.set(packet.x.subarray(i0, i1));
        y.set(packet.y.subarray(i0, i1));
        t.set(packet.t.subarray(i0, i1));
        p.set(packet.p.subarray(i0, i1));
        const k = call(ex, n, a);
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

interface BatchAddresses {
  readonly xs: number;
  readonly ys: number;
  readonly ts: number;
  readonly ps: number;
  /** The per-pixel last times. */
  readonly last: number;
}

/** Largest packet run() can reject without having changed state (bigger ones: check bounds whole first). */
export const FILTER_BATCH = BATCH;

/**
 * Smallest packet worth a kernel call: below it the copies in and out and the call cost more than the
 * TypeScript loop (an emulator step of a few dozen events: 2.2 against 1.1 µs).
 */
export const MIN_KERNEL_EVENTS = 64;

/** The refractory filter (operators/refractory.ts semantics) as WASM, or null (see pixelFilter). */
export function refractoryKernel(choice: FilterKernelChoice, g: Geometry, perPolarity: boolean, period: number): PixelFilter | null {
  const plane = perPolarity ? g.width * g.height : 0;
  return pixelFilter(choice, 'refractory', g.width * g.height * (perPolarity ? 2 : 1), (ex, n, a) =>
    ex.refractory(n, a.xs, a.ys, a.ts, a.ps, a.last, g.width, g.height, plane, period),
  );
}

/** The background-activity filter (operators/denoise.ts semantics) as WASM, or null (see pixelFilter). */
export function denoiseKernel(choice: FilterKernelChoice, g: Geometry, radius: number, windowUs: number): PixelFilter | null {
  // Padded by `radius` cells on every side (never written, so −∞): the kernel's square needs no bounds checks.
  const pitch = g.width + 2 * radius;
  return pixelFilter(choice, 'denoise', pitch * (g.height + 2 * radius), (ex, n, a) =>
    ex.denoise(n, a.xs, a.ys, a.ts, a.ps, a.last, g.width, g.height, radius, windowUs),
  );
}
