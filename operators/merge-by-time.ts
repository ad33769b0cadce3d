/**
 * mergeByTime: merges several sensors' packet streams into one stream ordered by event time, with a
 * bounded reorder window. Events wait until the newest time seen on any source has moved
 * `reorderWindowUs` past them, then come out merged in time order (equal times: the earlier source
 * in the list first). An event older than the last one already emitted cannot be put in order any
 * more: it is late, counted in `stats.late`, and dropped (default) or passed on at once in a packet
 * of its own (`late: 'pass'`) — never silently reordered. Everything waiting is flushed when all
 * sources have completed.
 *
 * Packets keep their coordinates; the merged geometry is the largest width and height seen (or
 * `options.geometry`). Shift a sensor with `roi`/`rotate`… before merging to tile sensors.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { mergeByTime } from 'spikeflow/operators';
 *   const left = openEmulator({ seed: 1 }, { durationUs: 1e6 }).events;
 *   const right = openEmulator({ seed: 2 }, { durationUs: 1e6 }).events;
 *   const merged = mergeByTime([left, right], { reorderWindowUs: 5_000 });
 *   merged.subscribe({ complete: () => console.log(merged.stats) });
 *
 * Memory is bounded by the events of one window (plus whatever a stalled source lets pile up).
 */

import { Observable, type Subscription } from 'rxjs';
import { packetOf, type EventPacket, type Geometry, type SourceInfo } from '../src/events/packet.js';
import { checkPositive } from './support.js';

export interface MergeByTimeOptions {
  /** How long (µs of event time) events wait for older ones from other sources. */
  readonly reorderWindowUs: number;
  /** What happens to late events. Default 'drop'. */
  readonly late?: 'drop' | 'pass';
  readonly geometry?: Geometry;
  /** Source info of the merged packets. Default { format: 'merge' }. */
  readonly source?: SourceInfo;
}

export interface MergeByTimeStats {
  /** Events received from all sources. */
  received: number;
  /** Events emitted in order. */
  emitted: number;
  /** Events that arrived after younger ones had been emitted (dropped or passed). */
  late: number;
  /** Late events passed on (late: 'pass'). */
  passedLate: number;
  /** Events waiting in the reorder window now. */
  pending: number;
}

export type MergedStream = Observable<EventPacket> & { readonly stats: MergeByTimeStats };

/** A time-sorted run of queued packets from one source: merging k runs needs no sort. */
interface Run {
  readonly order: number;
  readonly source: number;
  readonly packets: EventPacket[];
  head: number;
  pos: number;
  lastT: number;
}

function newStats(): MergeByTimeStats {
  return { received: 0, emitted: 0, late: 0, passedLate: 0, pending: 0 };
}

export function mergeByTime(sources: readonly Observable<EventPacket>[], options: MergeByTimeOptions): MergedStream {
  const windowUs = checkPositive(options.reorderWindowUs, 'mergeByTime: reorderWindowUs', true);
  const lateMode = options.late ?? 'drop';
  if (lateMode !== 'drop' && lateMode !== 'pass') throw new RangeError(`mergeByTime: late must be 'drop' or 'pass', got ${String(lateMode)}`);
  const sourceInfo: SourceInfo = options.source ?? { format: 'merge' };
  const stats = newStats();

  const merged = new Observable<EventPacket>((subscriber) => {
    Object.assign(stats, newStats());
    const runs: Run[] = [];
    const tail: (Run | undefined)[] = sources.map(() => undefined);
    let runOrder = 0;
    let newest = -Infinity;
    let lastEmitted = -Infinity;
    let width = options.geometry?.width ?? 0;
    let height = options.geometry?.height ?? 0;
    let geometry: Geometry = Object.freeze({ width, height });
    let open = sources.length;
    // Output scratch, grown by doubling; each flush copies its events into an exact-size packet.
    let sx = new Uint16Array(1024);
    let sy = new Uint16Array(1024);
    let st = new Float64Array(1024);
    let sp = new Uint8Array(1024);

    const grow = (need: number): void => {
      if (need <= sx.length) return;
      let c = sx.length;
      while (c < need) c *= 2;
      const nx = new Uint16Array(c);
      nx.set(sx);
      const ny = new Uint16Array(c);
      ny.set(sy);
      const nt = new Float64Array(c);
      nt.set(st);
      const np = new Uint8Array(c);
      np.set(sp);
      sx = nx;
      sy = ny;
      st = nt;
      sp = np;
    };

    /** Emit, in time order, every waiting event with t ≤ upTo. */
    const flush = (upTo: number): void => {
      let n = 0;
      for (;;) {
        // Earliest run head and the runner-up; order is (time, source, run), so ties are stable.
        let best: Run | undefined;
        let bestT = Infinity;
        let second: Run | undefined;
        let secondT = Infinity;
        for (const r of runs) {
          if (r.head >= r.packets.length) continue;
          const tr = r.packets[r.head]!.t[r.pos]!;
          if (!best || before(tr, r, bestT, best)) {
            second = best;
            secondT = bestT;
            best = r;
            bestT = tr;
          } else if (!second || before(tr, r, secondT, second)) {
            second = r;
            secondT = tr;
          }
        }
        if (!best || bestT > upTo) break;
        // The best run may go on up to the runner-up's time, and past equal times when it ranks first.
        const inclusive = !second || best.source < second.source || (best.source === second.source && best.order < second.order);
        const pk = best.packets[best.head]!;
        const i = best.pos;
        const t = pk.t;
        const len = pk.length;
        let j = i + 1; // the head is the earliest waiting event
        while (j < len && t[j]! <= upTo && (t[j]! < secondT || (inclusive && t[j]! === secondT))) j++;
        const k = j - i;
        grow(n + k);
        if (k < 32) {
          // Finely interleaved sources copy a few events at a time: a loop beats four subarray views.
          const { x, y, p } = pk;
          for (let m = i; m < j; m++, n++) {
            sx[n] = x[m]!;
            sy[n] = y[m]!;
            st[n] = t[m]!;
            sp[n] = p[m]!;
          }
        } else {
          sx.set(pk.x.subarray(i, j), n);
          sy.set(pk.y.subarray(i, j), n);
          st.set(t.subarray(i, j), n);
          sp.set(pk.p.subarray(i, j), n);
          n += k;
        }
        best.pos = j;
        if (j === len) {
          best.head++;
          best.pos = 0;
        }
        if (best.head >= best.packets.length) {
          best.packets.length = 0;
          best.head = 0;
          runs.splice(runs.indexOf(best), 1);
          if (tail[best.source] === best) tail[best.source] = undefined;
        } else if (best.head > 64) {
          best.packets.splice(0, best.head);
          best.head = 0;
        }
      }
      if (n === 0) return;
      stats.emitted += n;
      stats.pending -= n;
      lastEmitted = st[n - 1]!;
      subscriber.next(packetOf(sx.slice(0, n), sy.slice(0, n), st.slice(0, n), sp.slice(0, n), geometry, sourceInfo));
    };

    const enqueue = (s: number, pk: EventPacket): void => {
      // Split sorted stretches into runs; a stretch continues the source's tail run when in order.
      let a = 0;
      const t = pk.t;
      while (a < pk.length) {
        let b = a + 1;
        while (b < pk.length && t[b]! >= t[b - 1]!) b++;
        const part = a === 0 && b === pk.length ? pk : sliceOf(pk, a, b);
        let run = tail[s];
        if (!run || part.t[0]! < run.lastT) {
          run = { order: runOrder++, source: s, packets: [], head: 0, pos: 0, lastT: -Infinity };
          runs.push(run);
          tail[s] = run;
        }
        run.packets.push(part);
        run.lastT = part.t[part.length - 1]!;
        if (run.lastT > newest) newest = run.lastT;
        a = b;
      }
    };

    const receive = (s: number, pk: EventPacket): void => {
      if (pk.length === 0) return;
      stats.received += pk.length;
      if (pk.geometry.width > width || pk.geometry.height > height) {
        width = Math.max(width, pk.geometry.width);
        height = Math.max(height, pk.geometry.height);
        geometry = Object.freeze({ width, height });
      }
      const t = pk.t;
      let lateCount = 0;
      for (let i = 0; i < pk.length; i++) if (t[i]! < lastEmitted) lateCount++;
      let onTime = pk;
      if (lateCount > 0) {
        stats.late += lateCount;
        const lateOnes = partition(pk, lastEmitted, true, lateCount);
        onTime = partition(pk, lastEmitted, false, pk.length - lateCount);
        if (lateMode === 'pass') {
          stats.passedLate += lateCount;
          subscriber.next(packetOf(lateOnes.x, lateOnes.y, lateOnes.t, lateOnes.p, geometry, sourceInfo));
        }
      }
      if (onTime.length > 0) {
        stats.pending += onTime.length;
        enqueue(s, onTime);
      }
      flush(newest - windowUs);
    };

    const subscriptions: Subscription[] = [];
    sources.forEach((src, s) => {
      if (subscriber.closed) return;
      subscriptions.push(
        src.subscribe({
          next(pk) {
            try {
              receive(s, pk);
            } catch (error) {
              subscriber.error(error);
            }
          },
          error(error) {
            subscriber.error(error);
          },
          complete() {
            if (--open === 0) {
              flush(Infinity);
              subscriber.complete();
            }
          },
        }),
      );
    });
    if (sources.length === 0) subscriber.complete();
    return () => {
      for (const s of subscriptions) s.unsubscribe();
    };
  });
  return Object.assign(merged, { stats });
}

function before(ta: number, a: Run, tb: number, b: Run): boolean {
  return ta < tb || (ta === tb && (a.source < b.source || (a.source === b.source && a.order < b.order)));
}

function sliceOf(pk: EventPacket, a: number, b: number): EventPacket {
  return packetOf(pk.x.subarray(a, b), pk.y.subarray(a, b), pk.t.subarray(a, b), pk.p.subarray(a, b), pk.geometry, pk.source);
}

/** The events older than `before` (late = true) or the others, as a fresh packet of `count` events. */
function partition(pk: EventPacket, before: number, late: boolean, count: number): EventPacket {
  const x = new Uint16Array(count);
  const y = new Uint16Array(count);
  const t = new Float64Array(count);
  const p = new Uint8Array(count);
  let n = 0;
  for (let i = 0; i < pk.length; i++) {
    if (pk.t[i]! < before !== late) continue;
    x[n] = pk.x[i]!;
    y[n] = pk.y[i]!;
    t[n] = pk.t[i]!;
    p[n] = pk.p[i]!;
    n++;
  }
  return packetOf(x, y, t, p, pk.geometry, pk.source);
}
