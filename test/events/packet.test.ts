import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocatePacket, clonePacket, concatPackets, countOn, packetFromArrays, packetOf, packetsEqual, slicePacket } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';
import { PacketBuilder } from '../../src/events/builder.js';

const G = { width: 640, height: 480 };
const S = { format: 'memory' };

test('slicePacket returns views of the same memory (no copy)', () => {
  const pk = packetFromArrays({ x: [1, 2, 3, 4], y: [5, 6, 7, 8], t: [10, 20, 30, 40], p: [1, 0, 1, 0] }, G, S);
  const s = slicePacket(pk, 1, 3);
  assert.equal(s.length, 2);
  assert.deepEqual([...s.x], [2, 3]);
  assert.deepEqual([...s.t], [20, 30]);
  assert.equal(s.x.buffer, pk.x.buffer, 'slice shares the buffer');
  pk.x[1] = 99;
  assert.equal(s.x[0], 99);
  assert.equal(slicePacket(pk, 0), pk, 'whole slice is the packet itself');
  assert.equal(slicePacket(pk, 3, 1).length, 0, 'inverted range is empty');
});

test('concatPackets copies once and keeps order; a single packet is not copied', () => {
  const a = packetFromArrays({ x: [1], y: [1], t: [1], p: [1] }, G, S);
  const b = packetFromArrays({ x: [2, 3], y: [2, 3], t: [2, 3], p: [0, 1] }, G, S);
  const c = concatPackets([a, allocatePacket(0, G, S), b]);
  assert.deepEqual([...c.x], [1, 2, 3]);
  assert.deepEqual([...c.p], [1, 0, 1]);
  assert.equal(concatPackets([b]), b);
  assert.equal(countOn(c), 2);
});

test('timestamps are exact beyond 2^32 and up to 2^53 (Unix microseconds)', () => {
  const t = 1_700_000_000_123_457; // a 2023 Unix time in µs
  const pk = packetFromArrays({ x: [0], y: [0], t: [t], p: [1] });
  assert.equal(pk.t[0], t);
  assert.equal(clonePacket(pk).t[0], t);
});

test('packetOf rejects mismatched column lengths', () => {
  assert.throws(() => packetOf(new Uint16Array(2), new Uint16Array(1), new Float64Array(2), new Uint8Array(2), G, S), /lengths differ/);
});

test('PacketPool recycles a buffer once every packet viewing it is released', () => {
  const pool = new PacketPool(8);
  const b = new PacketBuilder(G, S, pool);
  b.push(1, 1, 1, 1);
  const [a] = b.take();
  b.push(2, 2, 2, 0);
  const [c] = b.take();
  assert.equal(a!.x.buffer, c!.x.buffer, 'consecutive takes share one buffer (no allocation per take)');
  assert.equal(pool.allocated, 1);
  b.reserve(8); // current buffer cannot hold 8 more: the builder moves on and drops its hold
  assert.equal(pool.release(a!), true);
  assert.equal(pool.idle, 0, 'still viewed by the second packet');
  assert.equal(pool.release(c!), true);
  assert.equal(pool.idle, 1, 'no holder left: back to the free list');
  assert.equal(pool.release(allocatePacket(3, G, S)), false, 'foreign packets are not taken');
  const again = pool.acquire();
  assert.equal(again.x.buffer, a!.x.buffer, 'the same memory comes back');
  assert.equal(pool.reused, 1);
});

test('PacketBuilder seals full buffers into packets and keeps every event in order', () => {
  const pool = new PacketPool(4);
  const b = new PacketBuilder(G, S, pool);
  for (let i = 0; i < 10; i++) b.push(i, i + 1, i * 10, i & 1);
  assert.equal(b.pending, 10);
  const out = b.take();
  assert.deepEqual(out.map((p) => p.length), [4, 4, 2]);
  const all = concatPackets(out);
  assert.deepEqual([...all.x], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...all.t], [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  assert.equal(all.geometry, G);
  assert.deepEqual(b.take(), [], 'nothing pending after take');
  b.push(1, 1, 1, 1);
  b.reserve(2); // 2 written + 1 + 2 > 4: moves to fresh buffers, keeping the written event
  b.push(2, 2, 2, 0);
  const got = concatPackets(b.take());
  assert.ok(packetsEqual(got, packetFromArrays({ x: [1, 2], y: [1, 2], t: [1, 2], p: [1, 0] })));
  assert.deepEqual([...out[2]!.x], [8, 9], 'earlier packets are not overwritten by later writes');
});

test('PacketBuilder.finish lets the pool recycle its buffer: a steady stream of decodes allocates once', () => {
  const pool = new PacketPool(16);
  for (let run = 0; run < 50; run++) {
    const b = new PacketBuilder(G, S, pool);
    for (let i = 0; i < 10; i++) b.push(i, i, i, 1);
    const out = b.finish();
    assert.equal(concatPackets(out).length, 10);
    for (const p of out) pool.release(p);
  }
  assert.equal(pool.allocated, 1);
  assert.equal(pool.reused, 49);
});
