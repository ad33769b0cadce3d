/**
 * polarity: keeps the ON (p = 1) or the OFF (p = 0) events only.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { polarity } from 'spikeflow/operators';
 *   openEmulator({}, { durationUs: 1e6 }).events
 *     .pipe(polarity('on'))
 *     .subscribe((packet) => console.log(packet.length, 'ON events'));
 */

import { map, type OperatorFunction } from 'rxjs';
import type { EventPacket } from '../src/events/packet.js';
import { filterOutput, finishOutput } from './support.js';

export type PolarityChoice = 'on' | 'off' | 0 | 1;

export function polarity(keep: PolarityChoice): OperatorFunction<EventPacket, EventPacket> {
  if (keep !== 'on' && keep !== 'off' && keep !== 0 && keep !== 1) throw new RangeError(`polarity: expected 'on', 'off', 1 or 0, got ${String(keep)}`);
  const want = keep === 'on' || keep === 1 ? 1 : 0;
  return map((packet) => {
    const { x, y, t, p } = packet;
    const out = filterOutput(packet.length);
    let n = 0;
    for (let i = 0; i < packet.length; i++) {
      if (p[i] !== want) continue;
      out.x[n] = x[i]!;
      out.y[n] = y[i]!;
      out.t[n] = t[i]!;
      out.p[n] = want;
      n++;
    }
    return finishOutput(out, n, packet.geometry, packet);
  });
}
