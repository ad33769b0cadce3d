/**
 * countWindows: regroups a packet stream into packets of exactly `n` events (tonic's
 * SliceByEventCount as a stream). A window inside one input packet is a view of it (no copy); one
 * spanning packets is one copy. The last, shorter window is emitted at completion unless
 * `partial: false`.
 *
 * @example
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { countWindows } from 'spikeflow/operators';
 *   openEmulator({}, { durationUs: 1e6 }).events
 *     .pipe(countWindows(5000))
 *     .subscribe((packet) => console.log(packet.length, packet.t[0], packet.t[packet.length - 1]));
 */

import { Observable, type OperatorFunction } from 'rxjs';
import { concatPackets, slicePacket, type EventPacket } from '../src/events/packet.js';
import { checkInteger } from './support.js';

export function countWindows(n: number, options: { readonly partial?: boolean } = {}): OperatorFunction<EventPacket, EventPacket> {
  const size = checkInteger(n, 'countWindows: n', 1);
  const partial = options.partial ?? true;
  return (source) =>
    new Observable<EventPacket>((subscriber) => {
      // Views of the events gathered for the next window (fewer than `size` in all).
      let pending: EventPacket[] = [];
      let pendingCount = 0;
      const subscription = source.subscribe({
        next(packet) {
          let off = 0;
          while (pendingCount + (packet.length - off) >= size && !subscriber.closed) {
            const take = size - pendingCount;
            const part = slicePacket(packet, off, off + take);
            off += take;
            if (pendingCount === 0) subscriber.next(part);
            else {
              pending.push(part);
              const window = concatPackets(pending);
              pending = [];
              pendingCount = 0;
              subscriber.next(window);
            }
          }
          if (off < packet.length) {
            pending.push(slicePacket(packet, off));
            pendingCount += packet.length - off;
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          if (partial && pendingCount > 0) subscriber.next(concatPackets(pending));
          pending = [];
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
