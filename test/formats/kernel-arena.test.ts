// Decoders writing events straight into packet buffers in the WASM kernels' memory (a PacketPool on
// kernelArena()): the same events, packet boundaries, side data and errors as the TypeScript loops
// with ordinary buffers, for every recording and chunking, including buffers too small for a kernel's
// usual room (the vector kernels then stop early and the reference loop takes the next word); a held
// packet is never overwritten by later decodes; a used-up arena makes the pool hand out ordinary
// buffers and the decoders copy from the staging area again, with the same output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clonePacket, packetsEqual, type EventPacket } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';
import { decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { addToTimes, kernelArena, kernelPacketPool, timesKernelStatus } from '../../src/formats/wasm-kernels.js';
import { chunkSizes, eventChecksum } from '../helpers/chunking.js';
import { readShared } from '../helpers/shared-data.js';

const RECORDED = [
  ['evt2_expelliarmus_sample.raw', 'evt2'],
  ['evt2_sparklers.raw', 'evt2'],
  ['derived_evt21_little_from_sparklers.raw', 'evt21'],
  ['derived_evt21_legacy_from_sparklers.raw', 'evt21'],
  ['evt3_expelliarmus_sample.raw', 'evt3'],
  ['evt3_pedestrians_small.raw', 'evt3'],
  ['dat_ncars_obj_004397_td.dat', 'dat'],
  ['dat_tonic_sample_ncars.dat', 'dat'],
] as const;

const ARENA = kernelArena();
const inArena = (p: EventPacket): boolean => p.x.buffer === ARENA!.buffer;

test('the kernels\' memory and its packet-buffer arena exist', () => {
  assert.ok(ARENA);
  assert.ok(ARENA.uncarved > 60 * 2 ** 20, 'about 62 MiB of packet buffers');
});

function releaseAll(pool: PacketPool, d: Decoded): void {
  for (const p of d.packets) assert.equal(pool.release(p), true);
}

for (const [file, format] of RECORDED) {
  test(`${file}: events written in place in kernel-memory buffers equal the TypeScript loop's, packet for packet`, () => {
    const bytes = readShared(file);
    // 999 events per buffer: odd, and often less room than a vector kernel asks for.
    for (const capacity of [65536, 999]) {
      const ref = decodeBuffer(bytes, format, { kernel: 'js', pool: new PacketPool(capacity) });
      const pool = kernelPacketPool(capacity);
      for (const chunks of [[], chunkSizes(7, 400, 20_000)]) {
        const d = decodeBuffer(bytes, format, { kernel: 'wasm', pool, chunkSizes: chunks });
        assert.equal(eventChecksum(d), eventChecksum(ref), `${capacity}/${chunks.length}: events`);
        if (chunks.length === 0) assert.deepEqual(d.packets.map((p) => p.length), ref.packets.map((p) => p.length), 'packet boundaries');
        assert.deepEqual(d.errors.map((e) => e.toJSON()), ref.errors.map((e) => e.toJSON()));
        assert.equal(d.side.length, ref.side.length);
        assert.ok(d.packets.every(inArena), 'every buffer came from the kernels\' memory');
        releaseAll(pool, d);
      }
    }
  });
}

test('packets held by a consumer are never overwritten while other streams decode through the same kernel-memory pool', () => {
  const pool = kernelPacketPool(4096);
  const held = decodeBuffer(readShared('evt3_expelliarmus_sample.raw'), 'evt3', { pool, chunkSizes: [65_536] });
  assert.ok(held.packets.length > 50 && held.packets.every(inArena));
  const snapshot = held.packets.map(clonePacket);
  for (const [file, format] of RECORDED) {
    for (let r = 0; r < 2; r++) releaseAll(pool, decodeBuffer(readShared(file), format, { pool, chunkSizes: [100_003] }));
  }
  held.packets.forEach((p, i) => assert.ok(packetsEqual(p, snapshot[i]!), `held packet ${i} unchanged`));
  releaseAll(pool, held);
});

test('a used-up arena: the rest of the stream goes to ordinary buffers (staging copied), same events; released buffers are reused', () => {
  const bytes = readShared('evt2_expelliarmus_sample.raw');
  const ref = decodeBuffer(bytes, 'evt2', { kernel: 'js', pool: new PacketPool(65536) });
  // Room for three 65,536-event buffers (832 KiB each) in a part of the kernels' arena.
  const arena = ARENA!.split(3 * 851_968)!;
  assert.ok(arena, 'the kernel arena has room for the test');
  const pool = new PacketPool(65536, 16, arena);
  const d = decodeBuffer(bytes, 'evt2', { kernel: 'wasm', pool });
  assert.equal(eventChecksum(d), eventChecksum(ref));
  assert.deepEqual(d.packets.map(inArena), [true, true, true, false, false, false, false, false, false]);
  assert.ok(pool.arenaMisses >= 6);
  releaseAll(pool, d);
  const again = decodeBuffer(bytes, 'evt2', { kernel: 'wasm', pool });
  assert.equal(eventChecksum(again), eventChecksum(ref));
  assert.deepEqual(again.packets.slice(0, 3).map(inArena), [true, true, true], 'the arena buffers, released, are taken again first');
  releaseAll(pool, again);
});

test('addToTimes: in the kernels\' memory (WASM) and in an ordinary buffer, the same sums as one by one', () => {
  const pool = kernelPacketPool(1024, 1);
  const inKernel = pool.acquire().t;
  assert.equal(inKernel.buffer, ARENA!.buffer, 'a buffer in the kernels\' memory');
  const ordinary = new Float64Array(1024);
  const times = Float64Array.from({ length: 1024 }, (_, i) => 1e12 + i * 0.1 + (i % 7) * 1e-3);
  // Odd and even ranges, at odd and even starts, and an empty one; a shift that rounds.
  for (const [from, to] of [[0, 1024], [3, 500], [1, 2], [10, 10], [511, 1024]] as const) {
    const shift = 123_456.789;
    for (const t of [inKernel, ordinary]) {
      t.set(times);
      addToTimes(t, from, to, shift);
      for (let i = 0; i < 1024; i++) assert.equal(t[i], i >= from && i < to ? times[i]! + shift : times[i], `[${from}, ${to}) at ${i}`);
    }
  }
  assert.equal(timesKernelStatus(), 'wasm', 'the WASM kernel ran');
});
