/**
 * rotate: turns the image counter-clockwise as seen on screen (rows grow downwards) by 90, 180 or
 * 270 degrees. 90°: (x, y) → (y, W − 1 − x) and the geometry becomes H × W; 180°: (W − 1 − x,
 * H − 1 − y); 270°: (H − 1 − y, x), H × W. The input geometry must be known.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { rotate } from 'spikeflow/operators';
 *   openEmulator({ width: 64, height: 48 }, { durationUs: 1e6 }).events
 *     .pipe(rotate(90))   // 48 × 64
 *     .subscribe((packet) => console.log(packet.geometry));
 */

import { map, type OperatorFunction } from 'rxjs';
import { packetOf, type EventPacket, type Geometry } from '../src/events/packet.js';
import { checkBounds, geometryOf } from './support.js';

export type RotationDeg = 90 | 180 | 270;

export function rotate(degrees: RotationDeg, options: { readonly geometry?: Geometry } = {}): OperatorFunction<EventPacket, EventPacket> {
  if (degrees !== 90 && degrees !== 180 && degrees !== 270) throw new RangeError(`rotate: degrees must be 90, 180 or 270, got ${String(degrees)}`);
  let lastIn: Geometry | undefined;
  let lastOut: Geometry | undefined;
  return map((packet) => {
    // An empty packet of unknown geometry passes as is; a known one is turned like the others.
    if (packet.length === 0 && !options.geometry && !(packet.geometry.width > 0 && packet.geometry.height > 0)) return packet;
    const g = geometryOf(packet, options.geometry, 'rotate');
    checkBounds(packet, g, 'rotate');
    if (g !== lastIn) {
      lastIn = g;
      lastOut = degrees === 180 ? g : Object.freeze({ width: g.height, height: g.width });
    }
    const n = packet.length;
    const sx = packet.x;
    const sy = packet.y;
    const x = new Uint16Array(n);
    const y = new Uint16Array(n);
    const wm = g.width - 1;
    const hm = g.height - 1;
    if (degrees === 90) {
      for (let i = 0; i < n; i++) {
        x[i] = sy[i]!;
        y[i] = wm - sx[i]!;
      }
    } else if (degrees === 180) {
      for (let i = 0; i < n; i++) {
        x[i] = wm - sx[i]!;
        y[i] = hm - sy[i]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        x[i] = hm - sy[i]!;
        y[i] = sx[i]!;
      }
    }
    return packetOf(x, y, packet.t.slice(), packet.p.slice(), lastOut!, packet.source);
  });
}
