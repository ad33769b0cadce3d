// PacketPool on a SlabArena (buffers carved from one fixed ArrayBuffer, as the WASM kernels' memory):
// the same holder counting as heap buffers, a buffer is never handed out again while a packet of it
// is held, and ordinary buffers once the arena has no room. A plain ArrayBuffer stands in for the
// kernels' memory here; test/formats/wasm-kernels.test.ts covers the decoders on the real one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBuilder } from '../../src/events/builder.js';
import { PacketPool, SlabArena } from '../../src/events/pool.js';

const G = { width: 8, height: 8 };
const S = { format: 'test' };

test('arena buffers are aligned views of the arena region, one slab per acquire', () => {
  const buf = new ArrayBuffer(1 << 20);
  const arena = new SlabArena(buf, 1000, 1 << 20);
  const pool = new PacketPool(1001, 4, arena);
  const a = pool.acquire();
  const b = pool.acquire();
  for (const v of [a.x, a.y, a.t, a.p, b.x, b.y, b.t, b.p]) {
    assert.equal(v.buffer, buf);
    assert.equal(v.length, 1001);
    assert.equal(v.byteOffset % 16, 0, 'every column 16-byte aligned (f64 and SIMD stores)');
    assert.ok(v.byteOffset >= 1000 && v.byteOffset + v.byteLength <= 1 << 20);
  }
  // The four columns of one slab and the two slabs do not overlap.
  const ranges = [a.x, a.y, a.t, a.p, b.x, b.y, b.t, b.p].map((v) => [v.byteOffset, v.byteOffset + v.byteLength] as const).sort((u, v) => u[0] - v[0]);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i]![0] >= ranges[i - 1]![1]);
  assert.equal(pool.fromArena, 2);
  assert.equal(pool.allocated, 2);
});

test('an arena buffer goes back to the arena only when its last packet is released, and is then reused', () => {
  const arena = new SlabArena(new ArrayBuffer(1 << 20), 0, 1 << 20);
  const pool = new PacketPool(8, 4, arena);
  const b = new PacketBuilder(G, S, pool);
  for (let i = 0; i < 5; i++) b.push(i, i, i, 1);
  const [p1] = b.take();
  for (let i = 5; i < 8; i++) b.push(i, i, i, 0);
  const [p2] = b.take();
  b.push(9, 9, 9, 1); // the buffer is full: the builder moves to a second slab
  const out = b.finish();
  assert.equal(p1!.x.buffer, arena.buffer);
  assert.equal(arena.idle, 0);
  assert.equal(pool.release(p1!), true);
  assert.equal(arena.idle, 0, 'p2 still holds the first slab');
  // While p2 is held, a new acquire never returns its slab.
  const other = pool.acquire();
  assert.notEqual(other.x.byteOffset, p2!.x.byteOffset - 5 * 2);
  pool.drop(other.x);
  assert.equal(pool.release(p2!), true);
  assert.deepEqual([...p2!.x], [5, 6, 7], 'released packets keep their values until the slab is reused');
  for (const p of out) pool.release(p);
  assert.equal(arena.idle, 3, 'both builder slabs and the extra one are free');
  const before = pool.allocated;
  pool.acquire();
  assert.equal(pool.allocated, before, 'a free slab is reused, not carved');
  assert.equal(pool.release({ ...p1!, x: new Uint16Array(3) }), false, 'a heap array is not an arena buffer of this pool');
});

test('packets of another pool on the same arena are not released by this one', () => {
  const arena = new SlabArena(new ArrayBuffer(1 << 20), 0, 1 << 20);
  const a = new PacketPool(16, 4, arena);
  const b = new PacketPool(16, 4, arena);
  const builder = new PacketBuilder(G, S, a);
  builder.push(1, 2, 3, 1);
  const [p] = builder.finish();
  assert.equal(b.release(p!), false);
  assert.equal(arena.idle, 0);
  assert.equal(a.release(p!), true);
  assert.equal(arena.idle, 1);
});

test('a used-up arena: the pool hands out ordinary buffers (counted as misses), and arena buffers again once released', () => {
  const parent = new SlabArena(new ArrayBuffer(1 << 20), 0, 1 << 20);
  const arena = parent.split(2 * 4096)!; // room for two 100-event slabs (1,304 bytes, one 4 KiB granule each)
  const pool = new PacketPool(100, 4, arena);
  const held = [pool.acquire(), pool.acquire()];
  assert.ok(held.every((h) => h.x.buffer === arena.buffer));
  const third = pool.acquire();
  assert.notEqual(third.x.buffer, arena.buffer);
  assert.equal(pool.arenaMisses, 1);
  third.x[0] = 7;
  pool.drop(third.x);
  pool.drop(held[0]!.x);
  const again = pool.acquire();
  assert.equal(again.x.byteOffset, held[0]!.x.byteOffset, 'the released arena slab, not the idle heap buffer');
  assert.equal(pool.idle, 1, 'the heap buffer waits in the pool');
});

test('a free slab of another capacity is re-carved when the region is used up; views find their slab', () => {
  const arena = new SlabArena(new ArrayBuffer(64 * 1024), 0, 56 * 1024);
  const big = new PacketPool(2000, 4, arena); // 26,000 bytes (28 KiB in whole granules): two fill the region
  const x1 = big.acquire();
  const x2 = big.acquire();
  assert.equal(big.acquire().x.buffer === arena.buffer, false);
  big.drop(x1.x);
  const small = new PacketPool(500, 4, arena);
  const s = small.acquire();
  assert.equal(s.x.buffer, arena.buffer);
  assert.equal(s.x.byteOffset, x1.x.byteOffset, 'carved where the free 2000-event slab was');
  // Holder counting through a view in the middle of the re-carved slab.
  const view = s.x.subarray(200, 300);
  small.retain(view);
  assert.equal(small.drop(s.x), true);
  assert.equal(arena.idle, 0);
  assert.equal(small.drop(view), true);
  assert.equal(arena.idle, 1);
  assert.equal(big.drop(x2.x), true);
});
