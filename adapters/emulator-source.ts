/**
 * The event-camera emulator as an Rx source: `openEmulator(config, options)` gives
 *   events: Observable<EventPacket>  — one packet per emulator step (empty packets included, they
 *                                      mark the passing of time), time-sorted, emulator time from 0;
 *   labels: Observable<MotionLabel>  — each segment's ground truth, emitted before its packets.
 *
 * Multicasting. Subscribing to `events` starts one emulator run, shared by every events
 * subscriber (rxjs share: the run stops when the last one unsubscribes; a later subscription starts
 * a fresh, identical run). The run's first step happens on a later macrotask, never during
 * subscribe, so every subscriber — to events or labels — that subscribes in the same synchronous
 * block, in any order, sees the run from its start. A `labels` subscriber joins the current run,
 * or the next one when none is running, and is completed when that run ends (schedule exhausted,
 * durationUs reached, or every events subscriber gone); it errors if the run errors.
 *
 * Pacing. By default steps are computed as fast as possible, in slices of about `sliceMs` of work
 * between which the event loop runs (so unsubscribing and timers work during endless runs). With
 * `realtime: true` a step ending at emulated time t is emitted once the wall clock since the start
 * has reached t / speed (timers; no busy waiting). Event times are always the emulator's.
 *
 * Backpressure. `pause()` stops the run in progress after the current step and `resume()` continues
 * it (a real-time run continues paced from where it stopped), so a pipeline slower than the emulator
 * holds it back instead of dropping its events.
 */

import { Observable, Subject, defer, share } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { createEmulator, resolveEmulatorConfig, type EmulatorConfig, type MotionLabel, type ResolvedEmulatorConfig } from '../src/emulator/emulator.js';
import { EmulatorConfigError, checkNumber } from '../src/emulator/config-error.js';

export interface EmulatorSourceOptions {
  /** Pace emission at real time × speed. Default false: as fast as possible. */
  readonly realtime?: boolean;
  /** Real-time multiplier when `realtime` (2 = twice as fast as real time). Default 1. */
  readonly speed?: number;
  /** Stop after this much emulated time (µs). Default: when the schedule ends (never for the default random schedule). */
  readonly durationUs?: number;
  /** Repeat a list schedule; overrides config.loop. */
  readonly loop?: boolean;
  /** As-fast-as-possible mode: work this long (ms) before yielding to the event loop. Default 15. */
  readonly sliceMs?: number;
}

export interface EmulatorSource {
  readonly events: Observable<EventPacket>;
  readonly labels: Observable<MotionLabel>;
  readonly geometry: Geometry;
  readonly config: ResolvedEmulatorConfig;
  /** Hold the run in progress (backpressure); no effect when none runs. */
  pause(): void;
  resume(): void;
  /**
   * `realtime` runs: when the packet's step was due (its end on the wall clock, performance.now()
   * ms), however late its timer fired; undefined otherwise.
   */
  dueAt(packet: EventPacket): number | undefined;
}

/** Validates the config and options at once (EmulatorConfigError naming the field); the run starts on subscription. */
export function openEmulator(config: EmulatorConfig = {}, options: EmulatorSourceOptions = {}): EmulatorSource {
  const effective: EmulatorConfig = options.loop === undefined ? config : { ...config, loop: options.loop };
  const resolved = resolveEmulatorConfig(effective);
  if (options.realtime !== undefined && typeof options.realtime !== 'boolean') throw new EmulatorConfigError('options.realtime', 'must be a boolean');
  if (options.loop !== undefined && typeof options.loop !== 'boolean') throw new EmulatorConfigError('options.loop', 'must be a boolean');
  const speed = checkNumber(options.speed, 1, 'options.speed', { min: 0, exclusiveMin: true });
  const durationUs = checkNumber(options.durationUs, Infinity, 'options.durationUs', { min: 0, exclusiveMin: true, allowInfinity: true });
  const sliceMs = checkNumber(options.sliceMs, 15, 'options.sliceMs', { min: 0, exclusiveMin: true });
  const realtime = options.realtime ?? false;
  const stepUs = resolved.stepUs;

  // Labels of the run in progress (or of the next run); replaced when a run ends.
  let labelHub = new Subject<MotionLabel>();
  const labels = defer(() => labelHub);
  // Pause state, shared with the run in progress (one run at a time: `share()` below).
  let paused = false;
  const due = new WeakMap<EventPacket, number>();
  let wake: (() => void) | undefined;

  const run = new Observable<EventPacket>((subscriber) => {
    const hub = labelHub;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    let ended = false;
    const end = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      if (labelHub === hub) labelHub = new Subject<MotionLabel>();
      if (error === undefined) {
        hub.complete();
        subscriber.complete();
      } else {
        hub.error(error);
        subscriber.error(error);
      }
    };

    const emulator = createEmulator(effective);
    const limit = Number.isFinite(durationUs) ? durationUs : undefined;
    /** One step out to the subscribers; false when the run is over. */
    const emitStep = (): boolean => {
      const s = emulator.step(limit);
      if (!s) return false;
      if (s.startsSegment) hub.next(s.label);
      // Paced: the step was due when the wall clock reached its end, whenever the timer fired.
      if (realtime) due.set(s.packet, startWall + emulator.timeUs / 1000 / speed);
      subscriber.next(s.packet);
      return true;
    };

    let startWall = 0;
    const pump = (): void => {
      timer = undefined;
      immediate = undefined;
      if (paused) {
        // Continue from here on resume; a paced run re-bases its clock so no burst follows.
        wake = () => {
          wake = undefined;
          startWall = performance.now() - emulator.timeUs / 1000 / speed;
          immediate = setImmediate(pump);
        };
        return;
      }
      try {
        if (realtime) {
          const dueUs = (performance.now() - startWall) * 1000 * speed;
          while (!subscriber.closed && !paused && emulator.timeUs + stepUs <= dueUs) {
            if (!emitStep()) return end();
          }
          if (emulator.done || (limit !== undefined && emulator.timeUs >= limit)) return end();
          if (subscriber.closed) return;
          const waitMs = (emulator.timeUs + stepUs) / speed / 1000 - (performance.now() - startWall);
          timer = setTimeout(pump, Math.max(0, waitMs));
        } else {
          const sliceEnd = performance.now() + sliceMs;
          do {
            if (subscriber.closed) return;
            if (!emitStep()) return end();
          } while (!paused && performance.now() < sliceEnd);
          immediate = setImmediate(pump);
        }
      } catch (error) {
        end(error);
      }
    };
    // Start on a later macrotask: subscribers added in the same synchronous block see everything.
    immediate = setImmediate(() => {
      startWall = performance.now();
      pump();
    });

    return () => {
      wake = undefined;
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      // Unsubscribed before the end: the run is over for labels subscribers too.
      if (!ended) {
        ended = true;
        if (labelHub === hub) labelHub = new Subject<MotionLabel>();
        hub.complete();
      }
    };
  });

  return {
    events: run.pipe(share()),
    labels,
    geometry: Object.freeze({ width: resolved.width, height: resolved.height }),
    config: resolved,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wake?.();
    },
    dueAt: (packet) => due.get(packet),
  };
}
