/**
 * roi: crops to a rectangle. Events inside [x, x + width) × [y, y + height) are kept with their
 * coordinates shifted so the rectangle's corner becomes (0, 0); the packets' geometry becomes
 * width × height.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { roi } from 'spikeflow/operators';
 *   openEmulator({ width: 64, height: 64 }, { durationUs: 1e6 }).events
 *     .pipe(roi({ x: 16, y: 16, width: 32, height: 32 }))
 *     .subscribe((packet) => console.log(packet.geometry, packet.length));
 */

import { map, type OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { checkInteger, filterOutput, finishOutput } from './support.js';

export interface RoiOptions {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function roi(options: RoiOptions): OperatorFunction<EventPacket, EventPacket> {
  const x0 = checkInteger(options.x, 'roi: x', 0);
  const y0 = checkInteger(options.y, 'roi: y', 0);
  const width = checkInteger(options.width, 'roi: width', 1);
  const height = checkInteger(options.height, 'roi: height', 1);
  const geometry: Geometry = Object.freeze({ width, height });
  return map((packet) => {
    const { x, y, t, p } = packet;
    const out = filterOutput(packet.length);
    let n = 0;
    for (let i = 0; i < packet.length; i++) {
      // Unsigned compare: one test covers both sides of the interval.
      const dx = (x[i]! - x0) >>> 0;
      const dy = (y[i]! - y0) >>> 0;
      if (dx >= width || dy >= height) continue;
      out.x[n] = dx;
      out.y[n] = dy;
      out.t[n] = t[i]!;
      out.p[n] = p[i]!;
      n++;
    }
    return finishOutput(out, n, geometry, packet);
  });
}
