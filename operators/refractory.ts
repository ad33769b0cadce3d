/**
 * refractory: after a pixel's kept event, its events are dropped for `refractoryUs` (an event at
 * exactly last + refractoryUs is kept). Only kept events restart the period, so a pixel passes at
 * most one event per period, as tonic's RefractoryPeriod.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { refractory } from 'spikeflow/operators';
 *   openEmulator({}, { durationUs: 1e6 }).events
 *     .pipe(refractory({ refractoryUs: 5_000 }))
 *     .subscribe((packet) => console.log(packet.length));
 *
 * One output packet per input packet. State: one Float64Array of last kept times per pixel (per
 * pixel and polarity with `perPolarity`), in the WASM filter's memory when it runs (option `kernel`);
 * packets under MIN_KERNEL_EVENTS take the TypeScript loop over the same state.
 */

import type { OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { refractoryCells, refractoryKernel } from '../src/events/pixel-kernels.js';
import { checkPositive, pixelStateFilter, type FilterKernelOption, type FilterOutput, type OutputPoolOption } from './support.js';

export interface RefractoryOptions extends OutputPoolOption, FilterKernelOption {
  readonly refractoryUs: number;
  /** ON and OFF events have separate periods. Default false (one period per pixel). */
  readonly perPolarity?: boolean;
  readonly geometry?: Geometry;
}

export function refractory(options: RefractoryOptions): OperatorFunction<EventPacket, EventPacket> {
  const period = checkPositive(options.refractoryUs, 'refractory: refractoryUs');
  const perPolarity = options.perPolarity ?? false;
  return pixelStateFilter(
    {
      op: 'refractory',
      cells: (g) => refractoryCells(g, perPolarity),
      kernel: (g) => refractoryKernel(options.kernel ?? 'auto', g, perPolarity, period),
      loop: (packet, g, last, out) => keepAfterPeriod(packet, g, last, out, period, perPolarity),
    },
    options,
  );
}

/** The TypeScript loop: events kept into `out`, their pixels' last kept times in `last`. */
function keepAfterPeriod(packet: EventPacket, g: Geometry, last: Float64Array, out: FilterOutput, period: number, perPolarity: boolean): number {
  const { x, y, t, p } = packet;
  const w = g.width;
  const plane = perPolarity ? g.width * g.height : 0;
  let n = 0;
  for (let i = 0; i < packet.length; i++) {
    const pi = p[i]!;
    const k = y[i]! * w + x[i]! + (pi ? plane : 0);
    const ti = t[i]!;
    if (ti - last[k]! < period) continue;
    last[k] = ti;
    out.x[n] = x[i]!;
    out.y[n] = y[i]!;
    out.t[n] = ti;
    out.p[n] = pi;
    n++;
  }
  return n;
}
