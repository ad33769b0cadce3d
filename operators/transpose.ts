/**
 * transpose: swaps the axes, (x, y) → (y, x); a W × H geometry becomes H × W (unknown stays
 * unknown).
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { transpose } from 'spikeflow/operators';
 *   openEmulator({ width: 64, height: 48 }, { durationUs: 1e6 }).events
 *     .pipe(transpose())   // 48 × 64
 *     .subscribe((packet) => console.log(packet.geometry));
 */

import { map, type OperatorFunction } from 'rxjs';
import { packetOf, type EventPacket, type Geometry } from '../src/events/packet.js';

export function transpose(): OperatorFunction<EventPacket, EventPacket> {
  let lastIn: Geometry | undefined;
  let lastOut: Geometry | undefined;
  return map((packet) => {
    if (packet.geometry !== lastIn) {
      lastIn = packet.geometry;
      lastOut = Object.freeze({ width: lastIn.height, height: lastIn.width });
    }
    // The coordinate arrays trade places; copies, since a pooled input may be recycled.
    return packetOf(packet.y.slice(), packet.x.slice(), packet.t.slice(), packet.p.slice(), lastOut!, packet.source);
  });
}
