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

import { defer, map, type OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { refractoryKernel, type PixelFilter } from '../src/events/pixel-kernels.js';
import { checkPositive, filterOutput, finishOutput, kernelChecksBounds, packetGeometry, runPixelFilter, usesKernel, type FilterKernelOption, type OutputPoolOption } from './support.js';

export interface RefractoryOptions extends OutputPoolOption, FilterKernelOption {
  readonly refractoryUs: number;
  /** ON and OFF events have separate periods. Default false (one period per pixel). */
  readonly perPolarity?: boolean;
  readonly geometry?: Geometry;
}

export function refractory(options: RefractoryOptions): OperatorFunction<EventPacket, EventPacket> {
  const period = checkPositive(options.refractoryUs, 'refractory: refractoryUs');
  const perPolarity = options.perPolarity ?? false;
  return (source) =>
    defer(() => {
      let geometry: Geometry | undefined;
      let last: Float64Array = new Float64Array(0);
      let kernel: PixelFilter | null = null;
      return source.pipe(
        map((packet) => {
          if (packet.length === 0) return packet;
          const g = packetGeometry(packet, options.geometry, geometry, 'refractory', !kernelChecksBounds(kernel, packet));
          if (!geometry) {
            geometry = g;
            kernel = refractoryKernel(options.kernel ?? 'auto', g, perPolarity, period);
            last = kernel ? kernel.last : new Float64Array(g.width * g.height * (perPolarity ? 2 : 1)).fill(-Infinity);
            // The first packet's bounds were checked above, before the kernel existed.
          }
          if (usesKernel(kernel, packet)) return runPixelFilter(kernel, packet, g, 'refractory', options.pool);
          const { x, y, t, p } = packet;
          const w = g.width;
          const plane = perPolarity ? g.width * g.height : 0;
          const out = filterOutput(packet.length, options.pool);
          const lastKept = last; // a local: faster than the closure variable in the loop
          let n = 0;
          for (let i = 0; i < packet.length; i++) {
            const pi = p[i]!;
            const k = y[i]! * w + x[i]! + (pi ? plane : 0);
            const ti = t[i]!;
            if (ti - lastKept[k]! < period) continue;
            lastKept[k] = ti;
            out.x[n] = x[i]!;
            out.y[n] = y[i]!;
            out.t[n] = ti;
            out.p[n] = pi;
            n++;
          }
          return finishOutput(out, n, packet.geometry, packet);
        }),
      );
    });
}
