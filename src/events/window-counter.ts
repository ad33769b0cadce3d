/**
 * The inner loop of a per-window event count (adapters/ws-frames.ts FrameAccumulator): what a
 * counter must do, so a WASM one (src/events/pixel-kernels.ts) can stand in for the TypeScript one.
 * Browser-safe.
 */
import type { EventPacket, Geometry } from './packet.js';

/** A window's running tallies. */
export interface WindowTally {
  /** Entries of `touched` in use: pixels whose count left 0 in this window. */
  nTouched: number;
  /** Events counted in the window. */
  events: number;
  /** Events outside the geometry, skipped. */
  clipped: number;
}

export interface WindowCounter {
  /** Per pixel (y × width + x), saturating at 255. */
  readonly counts: Uint8Array;
  /** Pixels whose count left 0, in first-touch order (at least one entry more than there are pixels). */
  readonly touched: Int32Array;
  /**
   * Counts events i0 … of `packet` until the first at or past `windowEnd` (event i0 is counted
   * whatever its time when `force`: it opened the window), updating `tally`; returns the index it
   * stopped at (packet.length when all are counted).
   */
  count(packet: EventPacket, i0: number, windowEnd: number, force: boolean, tally: WindowTally): number;
  /** Zeroes the counts of the first n touched pixels (the window was emitted). */
  clear(n: number): void;
  /**
   * Optional: the sparse counts section of a frame message for the current counts, `nnz` of them
   * non-zero (adapters/ws-frames.ts: u32 nnz, the indices ascending as u32, their counts as u8,
   * little-endian); valid until the counts change.
   */
  sparseSection?(nnz: number): Uint8Array;
}

/** The TypeScript counter: the reference the WASM one must match. */
export function windowCounter(g: Geometry): WindowCounter {
  const pixels = g.width * g.height;
  const counts = new Uint8Array(pixels);
  const touched = new Int32Array(pixels + 1);
  const { width, height } = g;
  return {
    counts,
    touched,
    count(packet, i0, windowEnd, force, tally) {
      const { x, y, t } = packet;
      // Locals in the loop, written back at the end.
      let nTouched = tally.nTouched;
      let events = tally.events;
      let clipped = tally.clipped;
      let i = i0;
      for (; i < packet.length; i++) {
        if (t[i]! >= windowEnd && !(force && i === i0)) break;
        const xi = x[i]!;
        const yi = y[i]!;
        if (xi >= width || yi >= height) {
          clipped++;
          continue;
        }
        const k = yi * width + xi;
        const c = counts[k]!;
        if (c === 0) touched[nTouched++] = k;
        if (c < 255) counts[k] = c + 1;
        events++;
      }
      tally.nTouched = nTouched;
      tally.events = events;
      tally.clipped = clipped;
      return i;
    },
    clear(n) {
      for (let k = 0; k < n; k++) counts[touched[k]!] = 0;
    },
  };
}
