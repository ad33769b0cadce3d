// The filters' output pool: with each output packet released once it is consumed, the same events
// come out as without a pool, from a few reused buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, map, type OperatorFunction } from 'rxjs';
import { PacketPool } from '../../src/events/pool.js';
import { clonePacket, concatPackets, packetsEqual, type EventPacket } from '../../src/events/packet.js';
import { denoise, downsample, refractory } from '../../operators/index.js';
import { recordingEvents, rechunk } from './support.js';

const { all } = recordingEvents('evt2_sparklers.raw');
const packets = rechunk(all, [700, 3000, 1, 4096]);

const cases: [string, (pool?: PacketPool) => OperatorFunction<EventPacket, EventPacket>][] = [
  ['denoise', (pool) => denoise({ windowUs: 5000, pool })],
  ['refractory', (pool) => refractory({ refractoryUs: 1000, pool })],
  ['downsample', (pool) => downsample({ factor: 4, pool })],
];

for (const [name, make] of cases) {
  test(`${name} with an output pool: the same events, from reused buffers`, () => {
    const plain: EventPacket[] = [];
    from(packets).pipe(make()).subscribe((p) => plain.push(p));
    const pool = new PacketPool(4096, 4);
    const pooled: EventPacket[] = [];
    const buffers = new Set<ArrayBufferLike>();
    from(packets)
      .pipe(
        make(pool),
        map((p) => {
          buffers.add(p.x.buffer);
          const copy = clonePacket(p); // what a consumer keeps, it copies
          pool.release(p);
          return copy;
        }),
      )
      .subscribe((p) => pooled.push(p));
    assert.ok(packetsEqual(concatPackets(pooled), concatPackets(plain)), 'same events');
    assert.ok(buffers.size <= 2, `${buffers.size} buffers`);
    assert.ok(pool.reused > packets.length / 2, `${pool.reused} reuses over ${packets.length} packets`);
  });
}
