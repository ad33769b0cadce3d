/**
 * hotPixels: removes every event of pixels known to be hot — a given list, and/or pixels whose
 * event rate over a calibration window exceeds `thresholdHz`.
 *
 * Calibration runs in event time over [first event, first event + calibrationUs). Meanwhile the
 * packets are held (default; they come out filtered once the hot pixels are known, so no hot event
 * ever passes) or passed unfiltered (`whileCalibrating: 'pass'`, no added latency). A stream that
 * ends inside the window is judged on what it had, against the full window length.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { hotPixels } from 'spikeflow/operators';
 *   openEmulator({ dvs: { hotPixelFraction: 0.001 } }, { durationUs: 2e6 }).events
 *     .pipe(hotPixels({ calibrationUs: 500_000, thresholdHz: 200, onCalibrated: (hot) => console.log(hot) }))
 *     .subscribe((packet) => console.log(packet.length));
 *
 * State: a Uint8Array hot mask per pixel, and a Uint32Array of counts while calibrating.
 */

import { Observable, type OperatorFunction } from 'rxjs';
import { slicePacket, type EventPacket, type Geometry } from '../src/events/packet.js';
import { checkPositive, filterOutput, finishOutput, packetGeometry } from './support.js';

export interface HotPixel {
  readonly x: number;
  readonly y: number;
  /** Measured rate over the calibration window (Hz); undefined for listed pixels. */
  readonly rateHz?: number;
}

export interface HotPixelsOptions {
  /** Pixels removed from the start. */
  readonly pixels?: readonly { readonly x: number; readonly y: number }[];
  /** Learn hot pixels over this much event time (µs). */
  readonly calibrationUs?: number;
  /** A pixel above this rate during calibration is hot. Required with calibrationUs. */
  readonly thresholdHz?: number;
  /** 'hold' (default): delay packets until calibration ends; 'pass': let them through unfiltered. */
  readonly whileCalibrating?: 'hold' | 'pass';
  /** Called once with the learned hot pixels (listed ones not repeated), highest rate first. */
  readonly onCalibrated?: (hot: HotPixel[]) => void;
  readonly geometry?: Geometry;
}

export function hotPixels(options: HotPixelsOptions): OperatorFunction<EventPacket, EventPacket> {
  const calibrationUs = options.calibrationUs === undefined ? undefined : checkPositive(options.calibrationUs, 'hotPixels: calibrationUs');
  const thresholdHz = calibrationUs === undefined ? 0 : checkPositive(options.thresholdHz as number, 'hotPixels: thresholdHz', true);
  if (calibrationUs === undefined && !options.pixels) throw new RangeError('hotPixels: give pixels, or calibrationUs and thresholdHz');
  const mode = options.whileCalibrating ?? 'hold';
  if (mode !== 'hold' && mode !== 'pass') throw new RangeError(`hotPixels: whileCalibrating must be 'hold' or 'pass', got ${String(mode)}`);

  return (source) =>
    new Observable<EventPacket>((subscriber) => {
      let geometry: Geometry | undefined;
      let hot = new Uint8Array(0);
      let counts: Uint32Array | undefined;
      let calibrating = calibrationUs !== undefined;
      let calibrationEnd = NaN;
      const held: EventPacket[] = [];

      const setUp = (g: Geometry): void => {
        geometry = g;
        hot = new Uint8Array(g.width * g.height);
        for (const px of options.pixels ?? []) {
          if (!(px.x >= 0 && px.x < g.width && px.y >= 0 && px.y < g.height && Number.isInteger(px.x) && Number.isInteger(px.y))) {
            throw new RangeError(`hotPixels: listed pixel (${px.x}, ${px.y}) lies outside the ${g.width}x${g.height} geometry`);
          }
          hot[px.y * g.width + px.x] = 1;
        }
        if (calibrating) counts = new Uint32Array(g.width * g.height);
      };

      const finishCalibration = (): void => {
        calibrating = false;
        const found: HotPixel[] = [];
        if (counts && geometry) {
          const seconds = calibrationUs! / 1e6;
          for (let k = 0; k < counts.length; k++) {
            const rateHz = counts[k]! / seconds;
            if (rateHz > thresholdHz && !hot[k]) {
              hot[k] = 1;
              found.push({ x: k % geometry.width, y: Math.floor(k / geometry.width), rateHz });
            }
          }
        }
        counts = undefined;
        found.sort((a, b) => b.rateHz! - a.rateHz! || a.y - b.y || a.x - b.x);
        options.onCalibrated?.(found);
        for (const pk of held.splice(0, held.length)) subscriber.next(filter(pk));
      };

      const filter = (packet: EventPacket): EventPacket => {
        if (packet.length === 0 || !geometry) return packet;
        const { x, y, t, p } = packet;
        const w = geometry.width;
        const out = filterOutput(packet.length);
        const mask = hot; // a local: faster than the closure variable in the loop
        let n = 0;
        for (let i = 0; i < packet.length; i++) {
          if (mask[y[i]! * w + x[i]!]) continue;
          out.x[n] = x[i]!;
          out.y[n] = y[i]!;
          out.t[n] = t[i]!;
          out.p[n] = p[i]!;
          n++;
        }
        return finishOutput(out, n, packet.geometry, packet);
      };

      /** Counts the events before the calibration end; returns how many of the packet's events that is. */
      const calibrate = (packet: EventPacket): number => {
        const { x, y, t } = packet;
        const w = geometry!.width;
        if (Number.isNaN(calibrationEnd)) calibrationEnd = t[0]! + calibrationUs!;
        const c = counts!;
        let i = 0;
        for (; i < packet.length; i++) {
          if (t[i]! >= calibrationEnd) break;
          c[y[i]! * w + x[i]!]!++;
        }
        return i;
      };

      const subscription = source.subscribe({
        next(packet) {
          try {
            if (packet.length > 0) {
              const g = packetGeometry(packet, options.geometry, geometry, 'hotPixels');
              if (!geometry) setUp(g);
            }
            if (!calibrating) return subscriber.next(filter(packet));
            const inWindow = packet.length > 0 && geometry ? calibrate(packet) : packet.length;
            if (inWindow === packet.length) {
              if (mode === 'hold') held.push(packet);
              else subscriber.next(packet);
              return;
            }
            // The window ends inside this packet: its first part belongs to calibration.
            if (mode === 'hold') held.push(slicePacket(packet, 0, inWindow));
            else subscriber.next(slicePacket(packet, 0, inWindow));
            finishCalibration();
            subscriber.next(filter(slicePacket(packet, inWindow)));
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          try {
            if (calibrating) finishCalibration();
          } catch (error) {
            return subscriber.error(error);
          }
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
