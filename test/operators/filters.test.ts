/** Event filters: denoise, refractory, hotPixels — exact semantics on hand-built packets and real recordings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatPackets, packetFromArrays, type EventPacket } from '../../src/events/packet.js';
import { emulateToPackets } from '../../src/emulator/index.js';
import { denoise } from '../../operators/denoise.js';
import { refractory } from '../../operators/refractory.js';
import { hotPixels, type HotPixel } from '../../operators/hot-pixels.js';
import { marbles, pk, recordingEvents, rechunk, show, through, tuples } from './support.js';
import { map } from 'rxjs';

/** Straightforward reference of the background-activity rule, one event at a time. */
function denoiseReference(all: EventPacket, windowUs: number, radius: number): number[] {
  const last = new Map<number, number>();
  const kept: number[] = [];
  const w = all.geometry.width;
  const h = all.geometry.height;
  for (let i = 0; i < all.length; i++) {
    const x = all.x[i]!;
    const y = all.y[i]!;
    const t = all.t[i]!;
    let ok = false;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        if ((dx === 0 && dy === 0) || x + dx < 0 || y + dy < 0 || x + dx >= w || y + dy >= h) continue;
        const l = last.get((y + dy) * w + x + dx);
        if (l !== undefined && t - l < windowUs) ok = true;
      }
    }
    last.set(y * w + x, t);
    if (ok) kept.push(i);
  }
  return kept;
}

function pick(all: EventPacket, idx: readonly number[]): EventPacket {
  return packetFromArrays({ x: idx.map((i) => all.x[i]!), y: idx.map((i) => all.y[i]!), t: idx.map((i) => all.t[i]!), p: idx.map((i) => all.p[i]!) }, all.geometry);
}

test('denoise keeps an event only with a neighbour event less than windowUs before it', async () => {
  const input = pk([
    [3, 3, 0, 1], // nothing before it: dropped
    [4, 3, 50, 0], // (3,3) 50 µs before: kept
    [3, 3, 120, 1], // (4,3) at 50: kept (the pixel's own earlier event does not count)
    [6, 6, 130, 1], // isolated: dropped
    [7, 7, 229, 1], // (6,6) 99 µs before: kept
    [5, 5, 330, 1], // (6,6) at 130 is exactly 200 µs... window 100: dropped
    [0, 0, 400, 1], // corner, no neighbour: dropped
    [1, 1, 450, 0], // diagonal neighbour (0,0) 50 µs before: kept
  ]);
  const [out] = await through([input], denoise({ windowUs: 100 }));
  assert.deepEqual(tuples(out!), [
    [4, 3, 50, 0],
    [3, 3, 120, 1],
    [7, 7, 229, 1],
    [1, 1, 450, 0],
  ]);
  // Radius 2 reaches (5,5) from (7,7) at 229 (101 µs before 330): kept with windowUs 102, not 101.
  const wide = pk([
    [7, 7, 229, 1],
    [5, 5, 330, 1],
  ]);
  assert.equal((await through([wide], denoise({ windowUs: 102, radius: 2 })))[0]!.length, 1);
  assert.equal((await through([wide], denoise({ windowUs: 101, radius: 2 })))[0]!.length, 0);
  assert.equal((await through([wide], denoise({ windowUs: 1000, radius: 1 })))[0]!.length, 0);
});

test('denoise keeps a dense moving edge from the emulator and removes isolated noise events', async () => {
  const geometry = { width: 64, height: 48 };
  const edge = concatPackets(
    emulateToPackets(
      {
        ...geometry,
        seed: 3,
        scene: { kind: 'bars', period_px: 200, bar_width_px: 100 },
        schedule: { kind: 'list', segments: [{ durationUs: 100_000, direction_deg: 0, speed_px_s: 300 }] },
      },
      100_000,
    ).packets,
  );
  assert.ok(edge.length > 2000, `the moving edge gives events (${edge.length})`);
  // Isolated noise: pixels and times with no edge event within 5 ms in their 5x5 neighbourhood.
  const windowUs = 5000;
  const noise: [number, number, number, number][] = [];
  let seed = 12345;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  while (noise.length < 40) {
    const x = rand(geometry.width);
    const y = rand(geometry.height);
    const t = 10_000 + rand(90_000) + 0.5; // .5: never equal to an emulator time
    let alone = true;
    for (let i = 0; i < edge.length && alone; i++) {
      if (Math.abs(edge.x[i]! - x) <= 2 && Math.abs(edge.y[i]! - y) <= 2 && Math.abs(edge.t[i]! - t) < 2 * windowUs) alone = false;
    }
    for (const n of noise) if (Math.abs(n[0] - x) <= 2 && Math.abs(n[1] - y) <= 2 && Math.abs(n[2] - t) < 2 * windowUs) alone = false;
    if (alone) noise.push([x, y, t, 1]);
  }
  const merged: [number, number, number, number][] = tuples(edge).map((e) => [...e]);
  merged.push(...noise);
  merged.sort((a, b) => a[2] - b[2]);
  const input = pk(merged, geometry);
  const out = concatPackets(await through(rechunk(input, [997]), denoise({ windowUs })));
  const outKeys = new Set(tuples(out).map((e) => e.join(',')));
  for (const n of noise) assert.ok(!outKeys.has(n.join(',')), `noise event ${n} removed`);
  // Every edge event after the edge's first appearance has support from the column it left.
  let lost = 0;
  let lostLate = 0;
  for (const e of tuples(edge)) {
    if (outKeys.has(e.join(','))) continue;
    lost++;
    if (e[2] >= 2 * windowUs) lostLate++;
  }
  assert.equal(lostLate, 0, 'no edge event after the first 10 ms is lost');
  assert.ok(lost <= edge.length * 0.01, `at most 1% of the edge lost at its very start (${lost} of ${edge.length})`);
  assert.equal(out.length, edge.length - lost);
});

test('denoise on a real recording equals the one-event-at-a-time reference, whatever the packet cuts', async () => {
  const { all } = recordingEvents('aedat4_tonic_sample.aedat4');
  const expected = pick(all, denoiseReference(all, 10_000, 1));
  assert.ok(expected.length > 0.1 * all.length && expected.length < 0.99 * all.length, `filters some, keeps most (${expected.length} of ${all.length})`);
  for (const sizes of [[all.length], [4096], [1, 7, 1000]]) {
    const out = concatPackets(await through(rechunk(all, sizes), denoise({ windowUs: 10_000 })));
    assert.equal(out.length, expected.length, `sizes ${sizes}`);
    assert.equal(show(out), show(expected));
  }
});

test('refractory: at most one event per pixel per period, restarting only on kept events', async () => {
  const input = pk([
    [1, 1, 0, 1], // kept
    [1, 1, 50, 0], // within 100 of 0: dropped
    [2, 1, 60, 1], // other pixel: kept
    [1, 1, 99, 1], // dropped
    [1, 1, 100, 1], // exactly the period: kept
    [1, 1, 150, 0], // dropped (period restarted at 100)
    [1, 1, 199, 0], // dropped: the dropped 150 did not restart it, but 100 did
    [1, 1, 200, 0], // kept
  ]);
  const [out] = await through([input], refractory({ refractoryUs: 100 }));
  assert.deepEqual(tuples(out!), [
    [1, 1, 0, 1],
    [2, 1, 60, 1],
    [1, 1, 100, 1],
    [1, 1, 200, 0],
  ]);
  const [perPol] = await through([input], refractory({ refractoryUs: 100, perPolarity: true }));
  assert.deepEqual(tuples(perPol!), [
    [1, 1, 0, 1],
    [1, 1, 50, 0],
    [2, 1, 60, 1],
    [1, 1, 100, 1],
    [1, 1, 150, 0],
  ]);
});

test('refractory on a real recording: ≤ 1 event per pixel per period, and exactly the kept-event rule', async () => {
  const { all, packets } = recordingEvents('evt2_sparklers.raw');
  const period = 1000;
  const out = concatPackets(await through(packets, refractory({ refractoryUs: period })));
  const last = new Map<number, number>();
  const expected: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const k = all.y[i]! * 65536 + all.x[i]!;
    const l = last.get(k);
    if (l === undefined || all.t[i]! - l >= period) {
      last.set(k, all.t[i]!);
      expected.push(i);
    }
  }
  assert.equal(show(out), show(pick(all, expected)));
  const seen = new Map<number, number>();
  for (let i = 0; i < out.length; i++) {
    const k = out.y[i]! * 65536 + out.x[i]!;
    const prev = seen.get(k);
    assert.ok(prev === undefined || out.t[i]! - prev >= period);
    seen.set(k, out.t[i]!);
  }
  assert.ok(out.length < all.length * 0.9, `the sparklers' bursts are thinned (${out.length} of ${all.length})`);
});

test('filters emit one packet per input packet at the same virtual time, empty ones included', () => {
  marbles().run(({ cold, expectObservable }) => {
    const a = pk([[1, 1, 0, 1]]);
    const b = pk([[1, 1, 10, 1], [2, 1, 20, 0]]);
    const e = pk([]);
    const source = cold('a-e--b|', { a, e, b });
    expectObservable(source.pipe(refractory({ refractoryUs: 100 }), map(show))).toBe('a-e--b|', { a: '1,1,0,1', e: '', b: '2,1,20,0' });
  });
});

test('hotPixels removes listed pixels, and learns the injected hot pixels of a real recording', async () => {
  const [listed] = await through([pk([[1, 1, 0, 1], [2, 2, 1, 1], [1, 1, 2, 0]])], hotPixels({ pixels: [{ x: 1, y: 1 }] }));
  assert.deepEqual(tuples(listed!), [[2, 2, 1, 1]]);

  const { all } = recordingEvents('aedat4_tonic_sample.aedat4');
  const t0 = all.t[0]!;
  const span = all.t[all.length - 1]! - t0;
  const injected = [
    { x: 10, y: 20 },
    { x: 300, y: 5 },
    { x: 160, y: 120 },
  ];
  // 5 kHz each over the whole recording, interleaved in time order.
  const rows: [number, number, number, number][] = tuples(all).map((e) => [...e]);
  for (const h of injected) for (let t = t0 + 0.25; t < t0 + span; t += 200) rows.push([h.x, h.y, t, 1]);
  rows.sort((a, b) => a[2] - b[2]);
  const input = pk(rows, all.geometry);
  let learned: HotPixel[] = [];
  const out = concatPackets(await through(rechunk(input, [5000]), hotPixels({ calibrationUs: 200_000, thresholdHz: 2000, onCalibrated: (h) => (learned = h) })));
  assert.deepEqual(
    learned.map((h) => `${h.x},${h.y}`).sort(),
    injected.map((h) => `${h.x},${h.y}`).sort(),
  );
  for (const h of learned) assert.ok(Math.abs(h.rateHz! - 5000) < 10, `rate ${h.rateHz}`);
  // Held calibration packets come out filtered too: exactly the real events remain.
  assert.equal(out.length, all.length);
  assert.equal(show(out), show(all));

  // 'pass' lets the calibration window through unfiltered, then filters.
  const passed = concatPackets(await through(rechunk(input, [5000]), hotPixels({ calibrationUs: 200_000, thresholdHz: 2000, whileCalibrating: 'pass' })));
  const inWindow = rows.filter((r) => r[2] < t0 + 200_000);
  const injectedInWindow = inWindow.filter((r) => injected.some((h) => h.x === r[0] && h.y === r[1])).length;
  assert.equal(passed.length, all.length + injectedInWindow);
});

test('hotPixels holds packets during calibration and releases them filtered when it ends (virtual time)', () => {
  marbles().run(({ cold, expectObservable }) => {
    const a = pk([[1, 1, 0, 1], [2, 2, 10, 1], [1, 1, 20, 1]]);
    const b = pk([[1, 1, 40, 1], [3, 3, 90, 1], [1, 1, 100, 1], [3, 3, 120, 0]]);
    const c = pk([[1, 1, 130, 1], [4, 4, 140, 1]]);
    const source = cold('a-----b-----c|', { a, b, c });
    // Window [0, 100): (1,1) has 4 events → 40 kHz; (2,2) and (3,3) one each → 10 kHz. Threshold 20 kHz.
    // Nothing comes out before b closes the window; then the held packet and both parts of b at once.
    const op = hotPixels({ calibrationUs: 100, thresholdHz: 20_000 });
    expectObservable(source.pipe(op, map(show))).toBe('------(xyz)-c|', { x: '2,2,10,1', y: '3,3,90,1', z: '3,3,120,0', c: '4,4,140,1' });
  });
});

test('filters reject events outside the geometry and unknown geometry without an option', async () => {
  await assert.rejects(through([pk([[9, 0, 0, 1]])], denoise({ windowUs: 10 })), /outside the 8x8 geometry/);
  await assert.rejects(through([pk([[1, 0, 0, 1]], { width: 0, height: 0 })], refractory({ refractoryUs: 10 })), /geometry is unknown/);
  const [ok] = await through([pk([[1, 0, 0, 1]], { width: 0, height: 0 })], refractory({ refractoryUs: 10, geometry: { width: 4, height: 4 } }));
  assert.equal(ok!.length, 1);
  assert.throws(() => denoise({ windowUs: 0 }), /windowUs/);
});
