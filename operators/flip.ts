/**
 * flip: mirrors the sensor. 'x' mirrors left–right (x → W − 1 − x), 'y' top–bottom
 * (y → H − 1 − y), 'xy' both (a 180° rotation). The geometry is unchanged but must be known.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { flip } from 'spikeflow/operators';
 *   openEmulator({}, { durationUs: 1e6 }).events
 *     .pipe(flip('y'))   // a camera mounted upside down
 *     .subscribe((packet) => console.log(packet.length));
 */

import { map, type OperatorFunction } from 'rxjs';
import { packetOf, type EventPacket, type Geometry } from '../src/events/packet.js';
import { checkBounds, geometryOf } from './support.js';

export type FlipAxis = 'x' | 'y' | 'xy';

export function flip(axis: FlipAxis, options: { readonly geometry?: Geometry } = {}): OperatorFunction<EventPacket, EventPacket> {
  if (axis !== 'x' && axis !== 'y' && axis !== 'xy') throw new RangeError(`flip: axis must be 'x', 'y' or 'xy', got ${String(axis)}`);
  const fx = axis !== 'y';
  const fy = axis !== 'x';
  return map((packet) => {
    if (packet.length === 0) return packet;
    const g = geometryOf(packet, options.geometry, 'flip');
    checkBounds(packet, g, 'flip');
    const n = packet.length;
    const x = fx ? new Uint16Array(n) : packet.x.slice();
    const y = fy ? new Uint16Array(n) : packet.y.slice();
    const wm = g.width - 1;
    const hm = g.height - 1;
    if (fx) for (let i = 0; i < n; i++) x[i] = wm - packet.x[i]!;
    if (fy) for (let i = 0; i < n; i++) y[i] = hm - packet.y[i]!;
    return packetOf(x, y, packet.t.slice(), packet.p.slice(), options.geometry ?? packet.geometry, packet.source);
  });
}
