/**
 * tapMetrics: measures a stream where it is tapped, without touching it (every item passes through
 * unchanged, same reference, same timing) and reports to a callback every `intervalMs` of the
 * scheduler's clock (virtual time under a TestScheduler), plus a final report when the stream ends.
 *
 * Counted per interval: items, event packets and their events, simulation steps (binSteps
 * batches) and their events, as totals and per second; queue depth and drops polled from hooks
 * (e.g. a source's stats); and the event-to-output latency: the scheduler time an item passes
 * minus the time of its newest event mapped onto the scheduler clock by `eventTimeToMs` (e.g.
 * `t => t / 1000` for sources stamping Unix-epoch µs and the default Date-based scheduler clock).
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { binSteps, tapMetrics } from 'spikeflow/operators';
 *   const speed = 10;
 *   const start = Date.now(); // the emulator's time 0, near enough
 *   openEmulator({}, { realtime: true, speed, durationUs: 2e6 }).events.pipe(
 *     tapMetrics({ intervalMs: 100, report: (m) => console.log(m.eventsPerS, 'ev/s') }),
 *     binSteps({ dtUs: 1000 }),
 *     tapMetrics({
 *       intervalMs: 100,
 *       eventTimeToMs: (t) => start + t / 1000 / speed,
 *       report: (m) => console.log(m.stepsPerS, 'steps/s', m.latency?.meanMs, 'ms behind'),
 *     }),
 *   ).subscribe();
 */

import { Observable, asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { EventPacket } from '../src/events/packet.js';
import { isStepBatch } from './bin-steps.js';
import { checkPositive } from './support.js';

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface MetricsReport {
  readonly label: string;
  /** Scheduler time of the report (ms). */
  readonly atMs: number;
  /** Length of the interval covered (ms): intervalMs, or less for the final one. */
  readonly intervalMs: number;
  readonly items: number;
  readonly packets: number;
  readonly steps: number;
  /** Events in packets and in steps. */
  readonly events: number;
  readonly itemsPerS: number;
  readonly packetsPerS: number;
  readonly stepsPerS: number;
  readonly eventsPerS: number;
  /** Since subscription. */
  readonly totalItems: number;
  readonly totalEvents: number;
  readonly queueDepth?: number;
  readonly drops?: number;
  /** Undefined when no item of the interval had a measurable time. */
  readonly latency?: LatencySummary;
  /** The stream ended (complete or error) with this report. */
  readonly final: boolean;
}

export interface TapMetricsOptions<T> {
  readonly intervalMs: number;
  readonly report: (m: MetricsReport) => void;
  readonly label?: string;
  /** Default asyncScheduler; a TestScheduler makes reports happen in virtual time. */
  readonly scheduler?: SchedulerLike;
  /** Polled at each report: e.g. () => source.stats.pending. */
  readonly queueDepth?: () => number;
  /** Polled at each report: a cumulative drop count, reported as is. */
  readonly drops?: () => number;
  /** Maps an event time (µs) to the scheduler clock (ms); enables latency. */
  readonly eventTimeToMs?: (tUs: number) => number;
  /** Event time (µs) an item stands for; default: a packet's last event, a step's end. */
  readonly timeOf?: (item: T) => number | undefined;
}

function isPacket(v: unknown): v is EventPacket {
  return typeof v === 'object' && v !== null && 't' in v && 'x' in v && 'length' in v && (v as EventPacket).t instanceof Float64Array;
}

function defaultTimeOf(item: unknown): number | undefined {
  if (isPacket(item)) return item.length > 0 ? item.t[item.length - 1] : undefined;
  if (isStepBatch(item)) return item.tStartUs + item.dtUs;
  return undefined;
}

export function tapMetrics<T>(options: TapMetricsOptions<T>): MonoTypeOperatorFunction<T> {
  const intervalMs = checkPositive(options.intervalMs, 'tapMetrics: intervalMs');
  const label = options.label ?? 'metrics';
  const timeOf = options.timeOf ?? (defaultTimeOf as (item: T) => number | undefined);
  return (source) =>
    new Observable<T>((subscriber) => {
      const scheduler = options.scheduler ?? asyncScheduler;
      let since = scheduler.now();
      let items = 0;
      let packets = 0;
      let steps = 0;
      let events = 0;
      let totalItems = 0;
      let totalEvents = 0;
      let latCount = 0;
      let latSum = 0;
      let latMin = Infinity;
      let latMax = -Infinity;

      const report = (final: boolean): void => {
        const now = scheduler.now();
        const span = now - since;
        const perS = (k: number): number => (span > 0 ? (k * 1000) / span : 0);
        const m: MetricsReport = {
          label,
          atMs: now,
          intervalMs: span,
          items,
          packets,
          steps,
          events,
          itemsPerS: perS(items),
          packetsPerS: perS(packets),
          stepsPerS: perS(steps),
          eventsPerS: perS(events),
          totalItems,
          totalEvents,
          ...(options.queueDepth ? { queueDepth: options.queueDepth() } : {}),
          ...(options.drops ? { drops: options.drops() } : {}),
          ...(latCount > 0 ? { latency: { count: latCount, meanMs: latSum / latCount, minMs: latMin, maxMs: latMax } } : {}),
          final,
        };
        since = now;
        items = packets = steps = events = 0;
        latCount = latSum = 0;
        latMin = Infinity;
        latMax = -Infinity;
        options.report(m);
      };

      const timer: Subscription = scheduler.schedule(function tick() {
        report(false);
        this.schedule(undefined, intervalMs);
      }, intervalMs);

      const subscription = source.subscribe({
        next(item) {
          items++;
          totalItems++;
          if (isPacket(item)) {
            packets++;
            events += item.length;
            totalEvents += item.length;
          } else if (isStepBatch(item)) {
            steps++;
            events += item.events;
            totalEvents += item.events;
          }
          if (options.eventTimeToMs) {
            const tUs = timeOf(item);
            if (tUs !== undefined && Number.isFinite(tUs)) {
              const lat = scheduler.now() - options.eventTimeToMs(tUs);
              latCount++;
              latSum += lat;
              if (lat < latMin) latMin = lat;
              if (lat > latMax) latMax = lat;
            }
          }
          subscriber.next(item);
        },
        error(error) {
          timer.unsubscribe();
          report(true);
          subscriber.error(error);
        },
        complete() {
          timer.unsubscribe();
          report(true);
          subscriber.complete();
        },
      });
      return () => {
        timer.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
