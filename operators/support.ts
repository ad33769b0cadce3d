/**
 * Internals shared by the packet operators (not an operator itself): geometry resolution, bounds
 * checks and the "output sized once per input packet" helper.
 */

import { defer, map, type OperatorFunction } from 'rxjs';
import { eventArrays, packetOf, type EventPacket, type Geometry } from '../src/events/packet.js';
import type { PacketPool } from '../src/events/pool.js';
import { FILTER_BATCH, MIN_KERNEL_EVENTS, type FilterKernelChoice, type PixelFilter } from '../src/events/pixel-kernels.js';

/** Doc of the `pool` option the filters share. */
export interface OutputPoolOption {
  /**
   * Output buffers come from this pool: give each output packet back with `pool.release(packet)`
   * once you are done with it (the pipeline runtime does so when nothing downstream keeps packets).
   * Without it every output packet is newly allocated.
   */
  readonly pool?: PacketPool;
}

/** Geometry an operator works with: the option when given, else the packet's; error when neither is known. */
export function geometryOf(packet: EventPacket, given: Geometry | undefined, op: string): Geometry {
  const g = given ?? packet.geometry;
  if (!(g.width > 0 && g.height > 0)) {
    throw new RangeError(`${op}: the sensor geometry is unknown (packet says ${g.width}x${g.height}); pass options.geometry (in a pipeline, give the source its width and height)`);
  }
  return g;
}

/** Same size in both dimensions. */
export function sameGeometry(a: Geometry, b: Geometry): boolean {
  return a.width === b.width && a.height === b.height;
}

/**
 * Throws when any event lies outside the geometry: per-pixel state cannot hold it, and dropping it
 * quietly would hide a wrong geometry option.
 */
export function checkBounds(packet: EventPacket, g: Geometry, op: string): void {
  const { x, y } = packet;
  const w = g.width;
  const h = g.height;
  for (let i = 0; i < packet.length; i++) {
    if (x[i]! >= w || y[i]! >= h) throw outsideError(packet, i, g, op);
  }
}

/** The error for event i of `packet`, which lies outside the geometry. */
export function outsideError(packet: EventPacket, i: number, g: Geometry, op: string): RangeError {
  return new RangeError(`${op}: event ${i} at (${packet.x[i]}, ${packet.y[i]}) lies outside the ${g.width}x${g.height} geometry`);
}

/**
 * The geometry of a packet for an operator that keeps per-pixel state: resolved as geometryOf does,
 * checked against the geometry that state was sized for (`current`, undefined before the first
 * packet; a change mid-stream is an error) and, unless `checkEvents` is false (a WASM filter checks
 * them itself), against the events' coordinates.
 */
export function packetGeometry(packet: EventPacket, given: Geometry | undefined, current: Geometry | undefined, op: string, checkEvents = true): Geometry {
  const g = geometryOf(packet, given, op);
  if (current && !sameGeometry(g, current)) throw new RangeError(`${op}: geometry changed from ${current.width}x${current.height} to ${g.width}x${g.height}`);
  if (checkEvents) checkBounds(packet, g, op);
  return g;
}

/**
 * Output buffers for a filter: one allocation per input packet, sized to the input, handed out as
 * views of the first `n` entries (no second copy).
 */
export interface FilterOutput {
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
}

/**
 * Output buffers for `length` events: from `pool` when one is given and they fit (the packet made
 * from them is then the pool's to take back with pool.release), else freshly allocated.
 */
export function filterOutput(length: number, pool?: PacketPool): FilterOutput {
  return pool && length <= pool.capacity ? pool.acquire() : eventArrays(length);
}

export function finishOutput(out: FilterOutput, n: number, geometry: Geometry, packet: EventPacket): EventPacket {
  return packetOf(out.x.subarray(0, n), out.y.subarray(0, n), out.t.subarray(0, n), out.p.subarray(0, n), geometry, packet.source);
}

/** Doc of the `kernel` option the per-pixel filters share. */
export interface FilterKernelOption {
  /**
   * 'auto' (default): the WASM loop when dist/wasm/pixels.wasm is built, else the TypeScript one;
   * 'wasm' requires the WASM loop; 'js' forces the TypeScript one. Both keep the same events.
   */
  readonly kernel?: FilterKernelChoice;
}

/**
 * A filter with per-pixel state (refractory, denoise): what the shared frame, pixelStateFilter,
 * needs of it.
 */
export interface PixelStateFilter {
  readonly op: string;
  /** f64 cells of state for a geometry (all −∞ at the start). */
  cells(g: Geometry): number;
  /** The WASM kernel over such state for a geometry, or null (option `kernel`, or not built). */
  kernel(g: Geometry): PixelFilter | null;
  /** The TypeScript loop over the same state, the reference: keeps events into `out`, returns how many. */
  loop(packet: EventPacket, g: Geometry, last: Float64Array, out: FilterOutput): number;
}

/**
 * The operator of a per-pixel filter. Each packet's geometry is resolved and checked; the state is
 * sized on the first non-empty packet, in the WASM kernel's memory when one runs. A packet of at
 * least MIN_KERNEL_EVENTS goes through the kernel (which checks the events' bounds itself when the
 * packet fits one of its batches), a smaller one through the TypeScript loop over the same state.
 * One output packet per input packet; an event outside the geometry is an error naming it.
 */
export function pixelStateFilter(f: PixelStateFilter, options: OutputPoolOption & { readonly geometry?: Geometry }): OperatorFunction<EventPacket, EventPacket> {
  return (source) =>
    defer(() => {
      let geometry: Geometry | undefined;
      let last: Float64Array = new Float64Array(0);
      let kernel: PixelFilter | null = null;
      return source.pipe(
        map((packet) => {
          if (packet.length === 0) return packet;
          const viaKernel = kernel !== null && packet.length >= MIN_KERNEL_EVENTS;
          const g = packetGeometry(packet, options.geometry, geometry, f.op, !(viaKernel && packet.length <= FILTER_BATCH));
          if (!geometry) {
            geometry = g;
            kernel = f.kernel(g);
            last = kernel ? kernel.last : new Float64Array(f.cells(g)).fill(-Infinity);
          }
          const out = filterOutput(packet.length, options.pool);
          const n = viaKernel ? kernel!.run(packet, out) : f.loop(packet, g, last, out);
          if (n < 0) throw outsideError(packet, -(n + 1), g, f.op);
          return finishOutput(out, n, packet.geometry, packet);
        }),
      );
    });
}

/** A positive finite number (or ≥ 0 with allowZero), else RangeError naming the option. */
export function checkPositive(value: number, name: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${String(value)}`);
  }
  return value;
}

export function checkInteger(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}
