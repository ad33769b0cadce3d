/**
 * Internals shared by the packet operators (not an operator itself): geometry resolution, bounds
 * checks and the "output sized once per input packet" helper.
 */

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

/** Whether this packet goes through the WASM filter (enough events to be worth the copies). */
export const usesKernel = (filter: PixelFilter | null, packet: EventPacket): filter is PixelFilter => filter !== null && packet.length >= MIN_KERNEL_EVENTS;

/** Whether a WASM filter checks this packet's bounds itself (bigger packets are checked whole first). */
export const kernelChecksBounds = (filter: PixelFilter | null, packet: EventPacket): boolean => usesKernel(filter, packet) && packet.length <= FILTER_BATCH;

/** One packet through a WASM filter into an output from `pool`; an event outside the geometry is an error. */
export function runPixelFilter(filter: PixelFilter, packet: EventPacket, g: Geometry, op: string, pool: PacketPool | undefined): EventPacket {
  const out = filterOutput(packet.length, pool);
  const n = filter.run(packet, out);
  if (n < 0) throw outsideError(packet, -(n + 1), g, op);
  return finishOutput(out, n, packet.geometry, packet);
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
