/** mergeByTime: time-ordered merge with a bounded reorder window; lateness counted, never hidden. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { concatPackets, slicePacket, type EventPacket } from '../../src/events/packet.js';
import { mergeByTime } from '../../operators/merge-by-time.js';
import { marbles, pk, recordingEvents, show } from './support.js';

const times = (p: EventPacket): string => Array.from(p.t).join(' ');

test('events wait until the newest time is reorderWindowUs past them, then come out merged (virtual time)', () => {
  marbles().run(({ cold, expectObservable }) => {
    const a1 = pk([[0, 0, 10, 1], [0, 0, 30, 1]]);
    const b1 = pk([[1, 0, 20, 1], [1, 0, 40, 1]]);
    const a2 = pk([[0, 0, 130, 1]]);
    const b2 = pk([[1, 0, 25, 1], [1, 0, 140, 1]]); // 25 is older than 30, already emitted: late
    const left = cold('a-----c---|', { a: a1, c: a2 });
    const right = cold('--b------d--|', { b: b1, d: b2 });
    const merged = mergeByTime([left, right], { reorderWindowUs: 100 });
    // At c (newest 130) everything ≤ 30 goes; at d, 25 is late (dropped), ≤ 40 goes; at completion the rest.
    expectObservable(merged.pipe(map(times))).toBe('------x--y--(z|)', { x: '10 20 30', y: '40', z: '130 140' });
  });
});

test("late events are counted and dropped by default, passed at once in their own packet with late: 'pass'", async () => {
  const a = pk([[0, 0, 10, 1], [0, 0, 500, 1]]);
  const b = pk([[1, 0, 5, 1], [1, 0, 600, 1]]);
  for (const late of ['drop', 'pass'] as const) {
    // Sequential sources: all of a is flushed up to 500 − 100 before b arrives.
    const merged = mergeByTime([from([a]), from([b])], { reorderWindowUs: 100, late });
    const out = await lastValueFrom(merged.pipe(toArray()));
    assert.equal(merged.stats.late, 1);
    assert.equal(merged.stats.received, 4);
    if (late === 'drop') {
      // b's 600 moves the watermark to 500: 500 goes then, 600 at completion.
      assert.deepEqual(out.map(times), ['10', '500', '600']);
      assert.equal(merged.stats.emitted, 3);
    } else {
      assert.deepEqual(out.map(times), ['10', '5', '500', '600']);
      assert.equal(merged.stats.passedLate, 1);
    }
    assert.equal(merged.stats.pending, 0);
  }
});

test('ties keep the source order, and within-source disorder inside the window is sorted, not late', async () => {
  const a = pk([[0, 0, 100, 1], [0, 0, 50, 1], [0, 0, 200, 1]]);
  const b = pk([[1, 0, 100, 1], [1, 0, 150, 1]]);
  const merged = mergeByTime([from([a]), from([b])], { reorderWindowUs: 1000 });
  const out = concatPackets(await lastValueFrom(merged.pipe(toArray())));
  assert.equal(show(out), '0,0,50,1 0,0,100,1 1,0,100,1 1,0,150,1 0,0,200,1');
  assert.equal(merged.stats.late, 0);
});

test('two real recordings with offset clocks merge into one time-sorted stream without loss', async () => {
  const a = recordingEvents('dat_ncars_obj_004397_td.dat').all;
  const b = recordingEvents('dat_tonic_sample_ncars.dat').all;
  const chunks = (p: EventPacket, n: number): EventPacket[] => Array.from({ length: Math.ceil(p.length / n) }, (_, k) => slicePacket(p, k * n, (k + 1) * n));
  const merged = mergeByTime([from(chunks(a, 100)), from(chunks(b, 37))], { reorderWindowUs: 1e9 });
  const out = concatPackets(await lastValueFrom(merged.pipe(toArray())));
  assert.equal(out.length, a.length + b.length);
  for (let i = 1; i < out.length; i++) assert.ok(out.t[i]! >= out.t[i - 1]!, `sorted at ${i}`);
  const key = (p: EventPacket): string[] => Array.from({ length: p.length }, (_, i) => `${p.x[i]},${p.y[i]},${p.t[i]},${p.p[i]}`).sort();
  assert.deepEqual(key(out), [...key(a), ...key(b)].sort());
  assert.equal(merged.stats.late, 0);
  assert.deepEqual(out.geometry, { width: 0, height: 0 });
});

test('a small window with one source lagging: late events are counted exactly', async () => {
  // Source b's clock is 5 ms behind; with a 1 ms window the events it sends late are exactly those
  // older than what was emitted when they arrive (subscribed sequentially: a entirely first).
  const a = pk(Array.from({ length: 50 }, (_, k) => [0, 0, k * 1000, 1] as const));
  const b = pk(Array.from({ length: 50 }, (_, k) => [1, 0, k * 1000 + 500, 1] as const));
  const merged = mergeByTime([from([a]), from([b])], { reorderWindowUs: 1000 });
  const out = concatPackets(await lastValueFrom(merged.pipe(toArray())));
  // a's whole packet arrives first: everything ≤ 48,000 is emitted; b's events below 48,000 are late.
  assert.equal(merged.stats.late, 48);
  assert.equal(out.length, 100 - 48);
  for (let i = 1; i < out.length; i++) assert.ok(out.t[i]! >= out.t[i - 1]!);
});
