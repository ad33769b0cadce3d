/**
 * downsample: spatial pooling by an integer factor: (x, y) → (⌊x / fx⌋, ⌊y / fy⌋), every event
 * kept (as tonic's Downsample with a spatial factor). The geometry becomes ⌈W / fx⌉ × ⌈H / fy⌉
 * (unknown stays unknown). Follow with `refractory` to limit the pooled pixels' rate.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { downsample } from 'spikeflow/operators';
 *   openEmulator({ width: 128, height: 128 }, { durationUs: 1e6 }).events
 *     .pipe(downsample({ factor: 4 }))   // 32 × 32
 *     .subscribe((packet) => console.log(packet.geometry));
 */

import { map, type OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { checkInteger, filterOutput, finishOutput, type OutputPoolOption } from './support.js';

export interface DownsampleOptions extends OutputPoolOption {
  /** Same factor on both axes. */
  readonly factor?: number;
  readonly factorX?: number;
  readonly factorY?: number;
}

export function downsample(options: DownsampleOptions): OperatorFunction<EventPacket, EventPacket> {
  const fx = checkInteger(options.factorX ?? options.factor ?? NaN, 'downsample: factorX (or factor)', 1);
  const fy = checkInteger(options.factorY ?? options.factor ?? NaN, 'downsample: factorY (or factor)', 1);
  let lastIn: Geometry | undefined;
  let lastOut: Geometry | undefined;
  return map((packet) => {
    const g = packet.geometry;
    if (g !== lastIn) {
      lastIn = g;
      lastOut = Object.freeze({ width: Math.ceil(g.width / fx), height: Math.ceil(g.height / fy) });
    }
    const n = packet.length;
    const out = filterOutput(n, options.pool);
    const { x, y } = out;
    const sx = packet.x;
    const sy = packet.y;
    for (let i = 0; i < n; i++) {
      x[i] = Math.floor(sx[i]! / fx);
      y[i] = Math.floor(sy[i]! / fy);
    }
    // t and p are copied, not shared: a pooled input may be recycled once its consumer is done.
    out.t.set(packet.t);
    out.p.set(packet.p);
    return finishOutput(out, n, lastOut!, packet);
  });
}
