/**
 * denoise: background-activity filter. An event is kept only when another pixel of its
 * neighbourhood (the (2r+1)² square around it, itself excluded; r = 1 is the 8-neighbourhood) had
 * an event less than `windowUs` before it. Every event, kept or not, updates its pixel's last time
 * (as dv-processing's BackgroundActivityNoiseFilter and tonic's denoise do), so support is about
 * activity near the pixel, not about what survived the filter.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { denoise } from 'spikeflow/operators';
 *   openEmulator({ dvs: { noiseRateHz: 5 } }, { durationUs: 1e6 }).events
 *     .pipe(denoise({ windowUs: 10_000 }))
 *     .subscribe((packet) => console.log(packet.length, 'supported events'));
 *
 * One output packet per input packet (possibly empty, so the stream keeps its cadence). State: one
 * Float64Array of last times per pixel, sized from the geometry on the first non-empty packet (in the
 * WASM filter's memory when it runs: option `kernel`; packets under MIN_KERNEL_EVENTS take the
 * TypeScript loop over the same state).
 */

import type { OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { denoiseCells, denoiseKernel } from '../src/events/pixel-kernels.js';
import { checkInteger, checkPositive, pixelStateFilter, type FilterKernelOption, type FilterOutput, type OutputPoolOption } from './support.js';

export interface DenoiseOptions extends OutputPoolOption, FilterKernelOption {
  /** Support window (µs): a neighbour's event must be less than this old. */
  readonly windowUs: number;
  /** Neighbourhood radius in pixels. Default 1 (8 neighbours). */
  readonly radius?: number;
  /** Sensor geometry when the packets do not carry one. */
  readonly geometry?: Geometry;
}

export function denoise(options: DenoiseOptions): OperatorFunction<EventPacket, EventPacket> {
  const windowUs = checkPositive(options.windowUs, 'denoise: windowUs');
  const radius = checkInteger(options.radius ?? 1, 'denoise: radius', 1);
  return pixelStateFilter(
    {
      op: 'denoise',
      cells: (g) => denoiseCells(g, radius),
      kernel: (g) => denoiseKernel(options.kernel ?? 'auto', g, radius, windowUs),
      loop: (packet, g, last, out) => keepSupported(packet, g, last, out, windowUs, radius),
    },
    options,
  );
}

/**
 * The TypeScript loop: events with a recent neighbour kept into `out`; every event's time in `last`,
 * padded by r cells on every side (denoiseCells), so the square needs no clipping.
 */
function keepSupported(packet: EventPacket, g: Geometry, last: Float64Array, out: FilterOutput, windowUs: number, r: number): number {
  const { x, y, t, p } = packet;
  const pitch = g.width + 2 * r;
  let n = 0;
  for (let i = 0; i < packet.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    const ti = t[i]!;
    const self = (yi + r) * pitch + xi + r;
    let supported = false;
    for (let dy = -r; dy <= r && !supported; dy++) {
      const row = self + dy * pitch;
      for (let dx = -r; dx <= r; dx++) {
        if ((dx !== 0 || dy !== 0) && ti - last[row + dx]! < windowUs) {
          supported = true;
          break;
        }
      }
    }
    last[self] = ti;
    if (supported) {
      out.x[n] = xi;
      out.y[n] = yi;
      out.t[n] = ti;
      out.p[n] = p[i]!;
      n++;
    }
  }
  return n;
}
