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

import { defer, map, type OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { denoiseKernel, type PixelFilter } from '../src/events/pixel-kernels.js';
import { checkInteger, checkPositive, filterOutput, finishOutput, kernelChecksBounds, packetGeometry, runPixelFilter, usesKernel, type FilterKernelOption, type OutputPoolOption } from './support.js';

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
  return (source) =>
    defer(() => {
      let geometry: Geometry | undefined;
      let last: Float64Array = new Float64Array(0);
      let kernel: PixelFilter | null = null;
      return source.pipe(
        map((packet) => {
          if (packet.length === 0) return packet;
          const g = packetGeometry(packet, options.geometry, geometry, 'denoise', !kernelChecksBounds(kernel, packet));
          if (!geometry) {
            geometry = g;
            kernel = denoiseKernel(options.kernel ?? 'auto', g, radius, windowUs);
            last = kernel ? kernel.last : new Float64Array(paddedCells(g, radius)).fill(-Infinity);
          }
          if (usesKernel(kernel, packet)) return runPixelFilter(kernel, packet, g, 'denoise', options.pool);
          return filterPacket(packet, g, last, windowUs, radius, options.pool);
        }),
      );
    });
}

/** Last times are kept padded by r cells on every side (never written, so −∞): the square needs no clipping. */
const paddedCells = (g: Geometry, r: number): number => (g.width + 2 * r) * (g.height + 2 * r);

function filterPacket(packet: EventPacket, g: Geometry, last: Float64Array, windowUs: number, r: number, pool: OutputPoolOption['pool']): EventPacket {
  const { x, y, t, p } = packet;
  const pitch = g.width + 2 * r;
  const out = filterOutput(packet.length, pool);
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
  return finishOutput(out, n, packet.geometry, packet);
}
