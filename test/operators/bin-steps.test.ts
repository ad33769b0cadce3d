/** binSteps: steps of dt in event time, empty steps for gaps, layouts, every event exactly once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map, take } from 'rxjs';
import { binSteps, type StepBatch } from '../../operators/bin-steps.js';
import { marbles, pk, recordingEvents, rechunk, through } from './support.js';

/** "step:index×count,index×count" */
function label(s: StepBatch): string {
  return `${s.step}:` + Array.from(s.active, (k, j) => `${k}x${s.counts[j]}`).join(',');
}

const g = { width: 4, height: 3 };

test('steps come out when a later event closes them, empty steps fill gaps, the open step at completion', () => {
  marbles().run(({ cold, expectObservable }) => {
    const a = pk([[1, 0, 0, 1], [2, 0, 400, 0], [1, 0, 999, 1]], g); // all in step 0 of 1000 µs
    const b = pk([[3, 2, 1000, 1], [3, 2, 1500, 1]], g); // closes step 0; step 1 open
    const c = pk([[0, 1, 4200, 0]], g); // closes 1, skips 2 and 3 (empty), opens 4
    const source = cold('a--b---c-------|', { a, b, c });
    // p-y-x: index = (p·3 + y)·4 + x.
    expectObservable(source.pipe(binSteps({ dtUs: 1000 }), map(label))).toBe('---x---(yuv)---(w|)', {
      x: '0:2x1,13x2',
      y: '1:23x2',
      u: '2:',
      v: '3:',
      w: '4:4x1',
    });
  });
});

test('with an origin, the steps before the first event are emitted too; without one, step 0 is the first event', () => {
  marbles().run(({ cold, expectObservable }) => {
    const a = pk([[0, 0, 2500, 1]], g);
    expectObservable(cold('--a----|', { a }).pipe(binSteps({ dtUs: 1000, originUs: 0 }), map(label))).toBe('--(xy)-(w|)', { x: '0:', y: '1:', w: '2:12x1' });
    expectObservable(cold('--a----|', { a }).pipe(binSteps({ dtUs: 1000 }), map((s) => `${s.step}@${s.tStartUs}`))).toBe('-------(x|)', { x: '0@2000' });
  });
});

test('layouts, dense frames, late events and no partial flush', async () => {
  const input = pk([[1, 2, 10, 1], [1, 2, 20, 1], [3, 0, 30, 0], [0, 0, 150, 1], [2, 2, 90, 0], [3, 2, 260, 1]], g);
  const [pyx] = await through([input], binSteps({ dtUs: 100, frames: true }));
  assert.deepEqual(Array.from(pyx!.active), [3, 21]);
  assert.deepEqual(Array.from(pyx!.counts), [1, 2]);
  assert.equal(pyx!.frame!.length, 24);
  assert.equal(pyx!.frame![21], 2);
  assert.equal(pyx!.frame!.reduce((a, b) => a + b, 0), 3);
  assert.deepEqual(pyx!.shape, [2, 3, 4]);
  const yxp = await through([input], binSteps({ dtUs: 100, layout: 'y-x-p' }));
  assert.deepEqual(Array.from(yxp[0]!.active), [6, 19]); // (0·4+3)·2+0, (2·4+1)·2+1
  const yx = await through([input], binSteps({ dtUs: 100, layout: 'y-x' }));
  assert.deepEqual(Array.from(yx[0]!.active), [3, 9]);
  assert.equal(yx[0]!.size, 12);
  // The event at 90 arrives after 150 opened step 1: counted there, as late.
  assert.equal(yx[1]!.events, 2);
  assert.equal(yx[1]!.late, 1);
  assert.deepEqual(Array.from(yx[1]!.active), [0, 10]);
  assert.deepEqual(yx.map((s) => s.step), [0, 1, 2]);
  const noPartial = await through([input], binSteps({ dtUs: 100, flushPartial: false }));
  assert.deepEqual(noPartial.map((s) => s.step), [0, 1]);
});

test('binning a real recording preserves every event exactly once, whatever the packet cuts', async () => {
  const { all } = recordingEvents('aedat4_tonic_sample.aedat4');
  const dt = 5000;
  const origin = Math.floor(all.t[0]! / dt) * dt;
  const w = all.geometry.width;
  const h = all.geometry.height;
  // Reference: counts per (step, index) from the events directly.
  const expected = new Map<string, number>();
  for (let i = 0; i < all.length; i++) {
    const k = `${Math.floor((all.t[i]! - origin) / dt)}/${(all.p[i]! * h + all.y[i]!) * w + all.x[i]!}`;
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const lastStep = Math.floor((all.t[all.length - 1]! - origin) / dt);
  for (const sizes of [[all.length], [333, 4096]]) {
    const steps = await through(rechunk(all, sizes), binSteps({ dtUs: dt }));
    assert.deepEqual(steps.map((s) => s.step), Array.from({ length: lastStep + 1 }, (_, k) => k), 'one batch per step, in order, none skipped');
    const got = new Map<string, number>();
    let total = 0;
    for (const s of steps) {
      assert.equal(s.tStartUs, origin + s.step * dt);
      assert.equal(s.late, 0);
      for (let j = 0; j < s.active.length; j++) {
        if (j > 0) assert.ok(s.active[j]! > s.active[j - 1]!, 'active indices ascending and distinct');
        got.set(`${s.step}/${s.active[j]}`, s.counts[j]!);
        total += s.counts[j]!;
      }
      assert.equal(s.counts.reduce((a, b) => a + b, 0), s.events);
    }
    assert.equal(total, all.length);
    assert.deepEqual(got, expected);
  }
});

test('a gap gives one empty step per dt, so a network stepped per batch sees the time pass', async () => {
  const steps = await through([pk([[0, 0, 0, 1]], g), pk([[0, 0, 50_000, 1]], g)], binSteps({ dtUs: 1000, frames: true }));
  assert.equal(steps.length, 51);
  for (let k = 1; k < 50; k++) {
    assert.equal(steps[k]!.events, 0);
    assert.equal(steps[k]!.active.length, 0);
    assert.equal(steps[k]!.frame!.length, 24);
  }
  assert.throws(() => binSteps({ dtUs: -1 }), /dtUs/);
});

test('a consumer that stops early stops the empty-step fill of a huge gap at once', async () => {
  // A timestamp jump of 10^12 µs would be 10^9 empty steps; take(5) must end it after five.
  const started = performance.now();
  const steps = await through([pk([[0, 0, 0, 1]], g), pk([[0, 0, 1e12, 1]], g)], (s) => s.pipe(binSteps({ dtUs: 1000 }), take(5)));
  assert.deepEqual(steps.map((s) => s.step), [0, 1, 2, 3, 4]);
  assert.ok(performance.now() - started < 1000);
});
