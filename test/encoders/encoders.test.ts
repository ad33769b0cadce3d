/** Analog → spike encoders: exact spike times from the documented equations, seeded determinism, ordering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeltaEncoder } from '../../src/encoders/delta.js';
import { RateEncoder } from '../../src/encoders/rate.js';
import { LatencyEncoder } from '../../src/encoders/latency.js';
import { createEncoder } from '../../src/encoders/create.js';
import type { AnalogEncoder } from '../../src/encoders/types.js';

interface Spike {
  x: number;
  t: number;
  p: number;
}

function collector(): { out: { push(x: number, y: number, t: number, p: number): void }; spikes: Spike[] } {
  const spikes: Spike[] = [];
  return { spikes, out: { push: (x, y, t, p) => (assert.equal(y, 0), spikes.push({ x, t, p })) } };
}

function run(enc: AnalogEncoder, samples: [number, number[]][]): Spike[] {
  const c = collector();
  for (const [t, v] of samples) enc.encode(t, v, c.out);
  enc.flush(c.out);
  for (let i = 1; i < c.spikes.length; i++) assert.ok(c.spikes[i]!.t >= c.spikes[i - 1]!.t, `spike ${i} out of time order`);
  return c.spikes;
}

test('delta: a ramp of 1.0 with θ = 0.25 gives 4 UP spikes at the interpolated crossing times, then DOWN spikes back', () => {
  const enc = new DeltaEncoder({ channels: 1, threshold: 0.25 });
  const s = run(enc, [
    [0, [0]],
    [1000, [1]],
    [2000, [0.4]],
  ]);
  assert.deepEqual(s, [
    { x: 0, t: 250, p: 1 },
    { x: 0, t: 500, p: 1 },
    { x: 0, t: 750, p: 1 },
    { x: 0, t: 1000, p: 1 },
    // 1 → 0.4: levels 0.75 and 0.5 are crossed (0.25 would need 0.25 more): t = 1000 + (1 − level)/0.6 · 1000
    { x: 0, t: 1000 + (0.25 / 0.6) * 1000, p: 0 },
    { x: 0, t: 1000 + (0.5 / 0.6) * 1000, p: 0 },
  ]);
});

test("delta: 'channels' output puts UP on 2c and DOWN on 2c+1, interleaves channels in time, and tracks a sine within θ", () => {
  const enc = new DeltaEncoder({ channels: 2, threshold: [0.1, 0.05], output: 'channels', interpolate: false });
  assert.equal(enc.outputs, 4);
  const samples: [number, number[]][] = [];
  for (let k = 0; k <= 2000; k++) samples.push([k * 100, [Math.sin(k / 100), 0.5 * Math.cos(k / 80)]]);
  const c = collector();
  const level = [samples[0]![1][0]!, samples[0]![1][1]!];
  const theta = [0.1, 0.05];
  for (const [t, v] of samples) {
    c.spikes.length = 0;
    enc.encode(t, v, c.out);
    for (const sp of c.spikes) {
      assert.equal(sp.p, 1);
      assert.equal(sp.t, t);
      const ch = sp.x >> 1;
      level[ch]! += sp.x & 1 ? -theta[ch]! : theta[ch]!;
    }
    for (let ch = 0; ch < 2; ch++) assert.ok(Math.abs(level[ch]! - v[ch]!) < theta[ch]! + 1e-9, `channel ${ch} at ${t}: level ${level[ch]} vs ${v[ch]}`);
  }
});

test('delta: a jump larger than maxSpikesPerSample·θ is capped and the reference follows the signal', () => {
  const enc = new DeltaEncoder({ channels: 1, threshold: 0.001, maxSpikesPerSample: 10 });
  const s = run(enc, [
    [0, [0]],
    [10, [5]],
    [20, [5.0015]],
  ]);
  assert.equal(s.length, 11);
  // The reference restarted at 5, so 5.0015 crosses 5.001 two thirds of the way from 10 to 20 µs.
  assert.equal(s[10]!.p, 1);
  assert.ok(Math.abs(s[10]!.t - (10 + (0.001 / 0.0015) * 10)) < 1e-6, `t ${s[10]!.t}`);
});

test('rate (regular): value 0.5 of [0, 1] at 1 kHz max gives one spike every 2 ms, phase carried across samples', () => {
  const enc = new RateEncoder({ channels: 1, maxRateHz: 1000, mode: 'regular' });
  const samples: [number, number[]][] = [];
  for (let k = 0; k <= 1000; k++) samples.push([k * 300, [0.5]]); // 300 µs samples: spikes fall inside intervals
  const s = run(enc, samples);
  assert.equal(s.length, 150); // 300 ms at 500 Hz
  s.forEach((sp, i) => assert.ok(Math.abs(sp.t - (i + 1) * 2000) < 1e-6, `spike ${i} at ${sp.t}`));
});

test('rate (poisson): seeded and reproducible; count and mean interval match λ; values clamp to [min, max]', () => {
  const make = (seed: number) => new RateEncoder({ channels: 3, maxRateHz: 2000, min: [0, 0, -1], max: [1, 1, 1], seed });
  const samples: [number, number[]][] = [];
  for (let k = 0; k <= 10000; k++) samples.push([k * 1000, [0.25, 7, -3]]); // 10 s; channel 1 clamps to 1, channel 2 to 0
  const a = run(make(42), samples);
  const b = run(make(42), samples);
  const c = run(make(43), samples);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const n0 = a.filter((s) => s.x === 0).length;
  const n1 = a.filter((s) => s.x === 1).length;
  assert.equal(a.filter((s) => s.x === 2).length, 0);
  // Poisson counts: mean 5000 and 20000, 5 σ bounds.
  assert.ok(Math.abs(n0 - 5000) < 5 * Math.sqrt(5000), `channel 0: ${n0}`);
  assert.ok(Math.abs(n1 - 20000) < 5 * Math.sqrt(20000), `channel 1: ${n1}`);
  const enc = make(42);
  enc.reset();
  assert.deepEqual(run(enc, samples), a);
});

test('latency (linear): L = τ(1 − s), one volley per window, spikes held until the stream reaches them', () => {
  const enc = new LatencyEncoder({ channels: 4, windowUs: 10000 });
  const c = collector();
  enc.encode(0, [1, 0.5, 0, 0.75], c.out);
  assert.deepEqual(c.spikes, [{ x: 0, t: 0, p: 1 }]); // s = 1 spikes at once; s = 0 never
  enc.encode(3000, [0, 0, 1, 1], c.out); // inside the window: sets nothing, releases the 2500 µs spike
  assert.deepEqual(c.spikes.slice(1), [{ x: 3, t: 2500, p: 1 }]);
  enc.encode(10000, [0.9, 0.2, 0, 0], c.out); // new window at 10 ms; the 5000 µs spike comes first
  assert.deepEqual(c.spikes.slice(2), [{ x: 1, t: 5000, p: 1 }]);
  enc.flush(c.out);
  assert.equal(c.spikes.length, 5);
  assert.deepEqual(c.spikes[3], { x: 0, t: 10000 + 1000, p: 1 });
  assert.ok(Math.abs(c.spikes[4]!.t - 18000) < 1e-9 && c.spikes[4]!.x === 1);
});

test('latency (log): L = τ·ln(s/(s − θ)), silent at or below θ, dropped beyond the window', () => {
  const enc = new LatencyEncoder({ channels: 3, windowUs: 50000, tauUs: 10000, code: 'log', threshold: 0.5 });
  const s = run(enc, [[0, [1, 0.5, 0.5001]]]);
  // channel 2: 10 ms · ln(0.5001/0.0001) = 85 ms > window → dropped
  assert.deepEqual(s, [{ x: 0, t: 10000 * Math.log(2), p: 1 }]);
});

test('encoders reject bad specs and out-of-order samples', () => {
  assert.throws(() => createEncoder({ kind: 'delta', channels: 2, threshold: 0 }), /threshold/);
  assert.throws(() => createEncoder({ kind: 'rate', channels: 1, maxRateHz: -1 }), /maxRateHz/);
  assert.throws(() => createEncoder({ kind: 'latency', channels: 1, windowUs: 100, tauUs: 200 }), /tauUs/);
  assert.throws(() => createEncoder({ kind: 'latency', channels: 1, windowUs: 100, code: 'log' }), /threshold/);
  assert.throws(() => createEncoder({ kind: 'nope' } as never), /unknown encoder/);
  const enc = createEncoder({ kind: 'delta', channels: 2, threshold: 1 });
  const c = collector();
  enc.encode(100, [0, 0], c.out);
  assert.throws(() => enc.encode(50, [1, 1], c.out), /before the previous/);
  assert.throws(() => enc.encode(200, [1], c.out), /1 values for 2 channels/);
});
