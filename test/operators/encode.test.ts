/** encode: analog samples → spike packets through the src/encoders encoders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { concatPackets } from '../../src/events/packet.js';
import { encode, type ValueSample } from '../../operators/encode.js';
import { binSteps } from '../../operators/bin-steps.js';
import { marbles, show } from './support.js';

test('delta encoding: one packet per sample at its virtual time, one spike per threshold crossed', () => {
  marbles().run(({ cold, expectObservable }) => {
    const s = (tUs: number, v: number): ValueSample => ({ tUs, values: [v, 7] });
    const source = cold('a-b-c-d|', { a: s(0, 0), b: s(100, 2.5), c: s(200, 1), d: s(300, -3) });
    const op = encode({ kind: 'delta', channels: 2, threshold: 1, interpolate: false });
    expectObservable(source.pipe(op, map(show))).toBe('a-b-c-d|', {
      a: '', // the first sample sets the reference
      b: '0,0,100,1 0,0,100,1',
      c: '0,0,200,0',
      d: '0,0,300,0 0,0,300,0 0,0,300,0 0,0,300,0',
    });
  });
});

test('latency encoding: held spikes come out once time has reached them, the rest at completion', () => {
  marbles().run(({ cold, expectObservable }) => {
    const source = cold('a--b---|', { a: { tUs: 0, values: [1, 0.5, 0] }, b: { tUs: 600, values: [0, 0, 0] } });
    const op = encode({ kind: 'latency', channels: 3, windowUs: 1000 });
    // Linear code: latency (1 − v)·window: channel 0 at 0, channel 1 at 500, channel 2 silent.
    expectObservable(source.pipe(op, map(show))).toBe('a--b---|', { a: '0,0,0,1', b: '1,0,500,1' });
  });
});

test('rate encoding is reproducible from its seed and fires at the value-given rate', async () => {
  const samples = Array.from({ length: 1001 }, (_, k): ValueSample => ({ tUs: k * 1000, values: [0.5, 0.1] }));
  const run = (seed: number) => lastValueFrom(from(samples).pipe(encode({ kind: 'rate', channels: 2, maxRateHz: 1000, seed }), toArray())).then(concatPackets);
  const a = await run(5);
  const b = await run(5);
  const c = await run(6);
  assert.equal(show(a), show(b));
  assert.notEqual(show(a), show(c));
  let ch0 = 0;
  for (let i = 0; i < a.length; i++) if (a.x[i] === 0) ch0++;
  const ch1 = a.length - ch0;
  // 1 s at 500 Hz and 100 Hz: Poisson counts within 4 σ.
  assert.ok(Math.abs(ch0 - 500) < 4 * Math.sqrt(500), `channel 0: ${ch0}`);
  assert.ok(Math.abs(ch1 - 100) < 4 * Math.sqrt(100), `channel 1: ${ch1}`);
  for (let i = 1; i < a.length; i++) assert.ok(a.t[i]! >= a.t[i - 1]!, 'time-sorted');
  assert.deepEqual(a.geometry, { width: 2, height: 1 });
});

test('encoded spikes feed binSteps: a sine through the delta encoder becomes steps of channel indices', async () => {
  const samples = Array.from({ length: 200 }, (_, k): ValueSample => ({ tUs: k * 1000, values: [Math.sin(k / 10), 0] }));
  const steps = await lastValueFrom(from(samples).pipe(encode({ kind: 'delta', channels: 2, threshold: 0.1 }), binSteps({ dtUs: 5000, layout: 'p-y-x', originUs: 0 }), toArray()));
  const total = steps.reduce((n, s) => n + s.events, 0);
  // sin over 0..19.9 rad swings through about 12.7 amplitude units: ~127 crossings of 0.1.
  assert.ok(total > 110 && total < 135, `${total} spikes`);
  for (const s of steps) for (const k of s.active) assert.ok(k === 0 || k === 2, 'only channel 0, ON (index 2) or OFF (index 0)');
  assert.equal(steps.length, 40);
  assert.throws(() => encode({ kind: 'delta', channels: 0, threshold: 1 }), /channels/);
});
