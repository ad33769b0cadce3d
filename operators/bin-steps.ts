/**
 * binSteps: cuts a packet stream into simulation steps of `dtUs` of event time, for an SNN input
 * population. Step k covers [origin + k·dt, origin + (k+1)·dt) and carries the distinct input
 * indices that had events in it (ascending), their event counts and, with `frames`, a dense count
 * frame. Every step is emitted, empty ones included, so a network stepped once per batch sees time
 * pass through gaps in the events.
 *
 * A step is emitted as soon as an event at or after its end arrives (event time drives it, not the
 * wall clock), so a step comes out with the packet that closes it; the step still open when the
 * source completes is emitted then (unless `flushPartial: false`). An event older than the open
 * step (its own step already gone out) is counted in the open step and in its `late` count: binning
 * never drops or duplicates an event.
 *
 * Input index layouts, for a W × H sensor:
 *   'p-y-x' (default): (p·H + y)·W + x, a [2, H, W] population;
 *   'y-x-p':           (y·W + x)·2 + p, [H, W, 2];
 *   'y-x':             y·W + x, polarity merged, [1, H, W].
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { binSteps } from 'spikeflow/operators';
 *   openEmulator({ width: 32, height: 32 }, { durationUs: 1e6 }).events
 *     .pipe(binSteps({ dtUs: 1000, originUs: 0 }))
 *     .subscribe((s) => console.log(s.step, s.active.length)); // e.g. network.step({ spikes: { retina: s.active } })
 */

import { Observable, type OperatorFunction } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { checkPositive, packetGeometry } from './support.js';

export type ChannelLayout = 'p-y-x' | 'y-x-p' | 'y-x';

export interface BinStepsOptions {
  /** Step length in µs of event time. */
  readonly dtUs: number;
  /** Default 'p-y-x'. */
  readonly layout?: ChannelLayout;
  /**
   * Time of step 0's start (µs). Default: the first event's time rounded down to a multiple of dt.
   * Given, steps from 0 are emitted even before the first event.
   */
  readonly originUs?: number;
  /** Add a dense Uint32Array count frame (population size) to every step. Default false. */
  readonly frames?: boolean;
  /** Emit the step still open at completion. Default true. */
  readonly flushPartial?: boolean;
  readonly geometry?: Geometry;
}

export interface StepBatch {
  /** Step index from the origin. */
  readonly step: number;
  readonly tStartUs: number;
  readonly dtUs: number;
  /** Input population size (2·W·H, or W·H for 'y-x'). */
  readonly size: number;
  /** Population shape as [channels, H, W] ('y-x-p': [H, W, 2]). */
  readonly shape: readonly [number, number, number];
  /** Distinct active input indices, ascending. */
  readonly active: Uint32Array;
  /** Events per active index (parallel to `active`). */
  readonly counts: Uint32Array;
  /** Events in the step (sum of counts). */
  readonly events: number;
  /** Events of this step whose time was before its start (their own step had been emitted). */
  readonly late: number;
  /** Dense counts, one per input index, when `frames` is set. */
  readonly frame?: Uint32Array;
  /** Signals for the learning rules given to this step only (set by operators such as triggeredLabels). */
  readonly signals?: Readonly<Record<string, ArrayLike<number>>>;
  /** Output positions of a conv readout whose receptive-field centre spiked in this step (set by triggeredLabels). */
  readonly triggered?: Int32Array;
}

const NONE = new Uint32Array(0);

export function isStepBatch(value: unknown): value is StepBatch {
  return typeof value === 'object' && value !== null && 'step' in value && 'active' in value && 'counts' in value;
}

export function binSteps(options: BinStepsOptions): OperatorFunction<EventPacket, StepBatch> {
  const dt = checkPositive(options.dtUs, 'binSteps: dtUs');
  const layout = options.layout ?? 'p-y-x';
  if (layout !== 'p-y-x' && layout !== 'y-x-p' && layout !== 'y-x') throw new RangeError(`binSteps: layout must be 'p-y-x', 'y-x-p' or 'y-x', got ${String(layout)}`);
  if (options.originUs !== undefined && !Number.isFinite(options.originUs)) throw new RangeError(`binSteps: originUs must be finite, got ${options.originUs}`);
  const frames = options.frames ?? false;
  const flushPartial = options.flushPartial ?? true;

  return (source) =>
    new Observable<StepBatch>((subscriber) => {
      let geometry: Geometry | undefined;
      let shape: readonly [number, number, number] = [0, 0, 0];
      let size = 0;
      let origin = options.originUs ?? NaN;
      // The open step: index, bounds, and its events gathered in scratch arrays.
      let step = 0;
      let start = origin;
      let end = origin + dt;
      let counts = new Uint32Array(0);
      let active = new Uint32Array(0);
      let nActive = 0;
      let events = 0;
      let late = 0;

      const setUp = (g: Geometry): void => {
        geometry = g;
        const c = layout === 'y-x' ? 1 : 2;
        size = c * g.width * g.height;
        shape = Object.freeze(layout === 'y-x-p' ? [g.height, g.width, 2] : [c, g.height, g.width]) as readonly [number, number, number];
        counts = new Uint32Array(size);
        active = new Uint32Array(Math.min(size, 4096));
      };

      const boundsOf = (k: number): void => {
        step = k;
        start = origin + k * dt;
        end = origin + (k + 1) * dt;
      };

      const emitOpen = (): void => {
        let ids = NONE;
        let cs = NONE;
        let frame: Uint32Array | undefined;
        if (nActive > 0) {
          ids = active.slice(0, nActive).sort();
          cs = new Uint32Array(nActive);
          for (let j = 0; j < nActive; j++) cs[j] = counts[ids[j]!]!;
          if (frames) frame = counts.slice();
          for (let j = 0; j < nActive; j++) counts[ids[j]!] = 0;
        } else if (frames) {
          frame = new Uint32Array(size);
        }
        const batch: StepBatch = { step, tStartUs: start, dtUs: dt, size, shape, active: ids, counts: cs, events, late, ...(frame ? { frame } : {}) };
        nActive = 0;
        events = 0;
        late = 0;
        subscriber.next(batch);
      };

      /** Emit the open step and the empty ones up to the step containing t, which becomes the open one. */
      const advanceTo = (t: number): void => {
        let k = Math.floor((t - origin) / dt);
        // Guard against rounding at a boundary: the step must satisfy start ≤ t < end.
        while (origin + k * dt > t) k--;
        while (origin + (k + 1) * dt <= t) k++;
        emitOpen();
        for (let j = step + 1; j < k && !subscriber.closed; j++) {
          boundsOf(j);
          emitOpen();
        }
        boundsOf(k);
      };

      const add = (packet: EventPacket): void => {
        const g = packetGeometry(packet, options.geometry, geometry, 'binSteps');
        if (!geometry) setUp(g);
        if (Number.isNaN(origin)) {
          origin = Math.floor(packet.t[0]! / dt) * dt;
          boundsOf(0);
        }
        const { x, y, t, p } = packet;
        const w = g.width;
        const plane = g.width * g.height;
        // The open step's state in locals for the loop (closure variables are slower), written
        // back before a step is emitted.
        const cts = counts;
        let act = active;
        let na = nActive;
        let ev = events;
        let lt = late;
        let s0 = start;
        let s1 = end;
        const pyx = layout === 'p-y-x';
        const yxp = layout === 'y-x-p';
        for (let i = 0; i < packet.length; i++) {
          const ti = t[i]!;
          if (ti >= s1) {
            nActive = na;
            events = ev;
            late = lt;
            advanceTo(ti);
            if (subscriber.closed) return;
            na = ev = lt = 0;
            s0 = start;
            s1 = end;
          } else if (ti < s0) {
            lt++;
          }
          const pix = y[i]! * w + x[i]!;
          const idx = pyx ? p[i]! * plane + pix : yxp ? pix * 2 + p[i]! : pix;
          if (cts[idx]++ === 0) {
            if (na === act.length) {
              const grown = new Uint32Array(Math.min(size, act.length * 2));
              grown.set(act);
              act = active = grown;
            }
            act[na++] = idx;
          }
          ev++;
        }
        nActive = na;
        events = ev;
        late = lt;
      };

      if (options.originUs !== undefined && options.geometry) setUp(options.geometry);
      const subscription = source.subscribe({
        next(packet) {
          if (packet.length === 0) return;
          try {
            add(packet);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          if (flushPartial && !Number.isNaN(origin) && geometry) emitOpen();
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
