/** Helpers for the operator tests: tiny packets from tuples, a readable packet summary, marbles. */
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { packetFromArrays, slicePacket, type EventPacket, type Geometry } from '../../src/events/packet.js';
import { decodeBuffer, allEvents } from '../../src/formats/decode-all.js';
import { readShared } from '../helpers/shared-data.js';

export type Ev = readonly [x: number, y: number, t: number, p: number];

export function pk(events: readonly Ev[], geometry: Geometry = { width: 8, height: 8 }): EventPacket {
  return packetFromArrays({ x: events.map((e) => e[0]), y: events.map((e) => e[1]), t: events.map((e) => e[2]), p: events.map((e) => e[3]) }, geometry, { format: 'test' });
}

export function tuples(packet: EventPacket): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < packet.length; i++) out.push([packet.x[i]!, packet.y[i]!, packet.t[i]!, packet.p[i]!]);
  return out;
}

/** "x,y,t,p x,y,t,p" — compact enough for marble value maps. */
export function show(packet: EventPacket): string {
  return tuples(packet)
    .map((e) => e.join(','))
    .join(' ');
}

export function marbles(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepStrictEqual(actual, expected));
}

/** A shared recording decoded into one packet, and split into the decoder's own packets. */
export function recordingEvents(file: string): { all: EventPacket; packets: EventPacket[] } {
  const d = decodeBuffer(readShared(file), 'auto', { fileName: file });
  return { all: allEvents(d), packets: d.packets };
}

/** The same events cut into packets of the given sizes (cycled): operators must not care. */
export function rechunk(all: EventPacket, sizes: readonly number[]): EventPacket[] {
  const out: EventPacket[] = [];
  let o = 0;
  let k = 0;
  while (o < all.length) {
    const n = sizes[k++ % sizes.length]!;
    out.push(slicePacket(all, o, o + n));
    o += n;
  }
  return out;
}

import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';

/** Runs packets through an operator; every output packet, in order. */
export function through<T>(packets: readonly EventPacket[], op: OperatorFunction<EventPacket, T>): Promise<T[]> {
  return lastValueFrom(from(packets).pipe(op, toArray()));
}
