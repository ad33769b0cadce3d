/**
 * Convolutional projection over input channel × delay × space, and the logistic units it feeds:
 * event-driven delivery equals a brute-force dense convolution over the recorded input frames, and
 * (bit for bit) an equivalent sparse projection; the arrival iterator visits exactly the non-zero
 * terms; logistic units compute σ(a + b) from the previous step's arrivals and spike above threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { Rng } from '../../src/emulator/rng.js';
import { forEachConvArrival, convWeightIndex, type ConvProjectionRuntime } from '../../src/snn/projections/conv.js';
import { sigmoid, type LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';

interface Geometry {
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  delays: number;
}

function outShape(g: Geometry): [number, number, number] {
  return [g.cout, Math.floor((g.h - g.k) / g.stride) + 1, Math.floor((g.w - g.k) / g.stride) + 1];
}

function convSpec(g: Geometry, weight: number[] | { min: number; max: number }, bias = 0) {
  return {
    dt_ms: 1,
    seed: 3,
    populations: [
      { name: 'in', model: 'input', shape: [g.cin, g.h, g.w] },
      { name: 'out', model: 'logistic', shape: outShape(g), threshold: 0.6, bias_init: bias },
    ],
    projections: [{ name: 'conv', kind: 'conv', from: 'in', to: 'out', kernel_size: g.k, delays: g.delays, stride: g.stride, weight }],
  };
}

/** Random spike frames: each input neuron spikes with probability p per step. */
function frames(g: Geometry, steps: number, p: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const n = g.cin * g.h * g.w;
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const f: number[] = [];
    for (let i = 0; i < n; i++) if (rng.uniform() < p) f.push(i);
    out.push(f);
  }
  return out;
}

/** The dense reference: a[c,oy,ox](t) = Σ W[c][ci][d][ky][kx]·s[ci, oy·s+ky, ox·s+kx](t − d), sweeping everything. */
function bruteForce(g: Geometry, W: ArrayLike<number>, spikes: number[][], t: number): Float64Array {
  const [cout, oh, ow] = outShape(g);
  const on = (ci: number, y: number, x: number, tt: number) => tt >= 0 && spikes[tt]!.includes((ci * g.h + y) * g.w + x);
  const a = new Float64Array(cout * oh * ow);
  for (let c = 0; c < cout; c++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let sum = 0;
        for (let ci = 0; ci < g.cin; ci++)
          for (let d = 0; d < g.delays; d++)
            for (let ky = 0; ky < g.k; ky++)
              for (let kx = 0; kx < g.k; kx++) {
                if (on(ci, oy * g.stride + ky, ox * g.stride + kx, t - d)) sum += W[(((c * g.cin + ci) * g.delays + d) * g.k + ky) * g.k + kx]!;
              }
        a[(c * oh + oy) * ow + ox] = sum;
      }
  return a;
}

const GEOMETRIES: [string, Geometry][] = [
  ['stride 1', { cin: 2, h: 7, w: 9, cout: 3, k: 3, stride: 1, delays: 4 }],
  ['stride 2, even kernel', { cin: 2, h: 8, w: 9, cout: 2, k: 2, stride: 2, delays: 3 }],
  ['stride 3, kernel 1', { cin: 1, h: 7, w: 7, cout: 2, k: 1, stride: 3, delays: 5 }],
];

for (const [label, g] of GEOMETRIES) {
  test(`conv delivery equals a brute-force dense convolution on random input (${label})`, () => {
    const net = buildNetwork(convSpec(g, { min: -1, max: 1 }));
    const conv = net.projection('conv') as ConvProjectionRuntime;
    const W = conv.kernel.weight;
    assert.equal(W.length, g.cout * g.cin * g.delays * g.k * g.k);
    assert.ok(W.every((x) => x >= -1 && x <= 1) && new Set(W).size === W.length, 'weights drawn in [-1, 1]');
    const [cout, oh, ow] = outShape(g);
    assert.equal(conv.synapseCount, cout * oh * ow * g.cin * g.delays * g.k * g.k);
    const out = net.population('out') as LogisticPopulationRuntime;
    const spikes = frames(g, 80, 0.12, 11);
    let worst = 0;
    let nonzero = 0;
    for (let t = 0; t < spikes.length; t++) {
      net.step({ spikes: { in: spikes[t]! } });
      const ref = bruteForce(g, W, spikes, t);
      for (let o = 0; o < ref.length; o++) {
        worst = Math.max(worst, Math.abs(out.input[o]! - ref[o]!));
        if (ref[o] !== 0) nonzero++;
      }
    }
    assert.ok(worst < 1e-12, `max |event-driven − dense| = ${worst}`);
    assert.ok(nonzero > 100, `the comparison saw real input (${nonzero} non-zero sums)`);
  });
}

test('conv delivery is bit-identical to the equivalent sparse projection, and arrivals visit exactly the non-zero terms', () => {
  const g: Geometry = { cin: 2, h: 6, w: 8, cout: 2, k: 3, stride: 1, delays: 4 };
  const [cout, oh, ow] = outShape(g);
  const rng = new Rng(5);
  const W = Array.from({ length: cout * g.cin * g.delays * g.k * g.k }, () => rng.uniform() * 2 - 1);
  // The same connectivity listed synapse by synapse.
  const pre: number[] = [];
  const post: number[] = [];
  const weight: number[] = [];
  const delay: number[] = [];
  for (let c = 0; c < cout; c++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ci = 0; ci < g.cin; ci++)
          for (let d = 0; d < g.delays; d++)
            for (let ky = 0; ky < g.k; ky++)
              for (let kx = 0; kx < g.k; kx++) {
                pre.push((ci * g.h + oy + ky) * g.w + ox + kx);
                post.push((c * oh + oy) * ow + ox);
                weight.push(W[(((c * g.cin + ci) * g.delays + d) * g.k + ky) * g.k + kx]!);
                delay.push(d);
              }
  const convNet = buildNetwork(convSpec(g, W));
  const base = convSpec(g, W);
  const listNet = buildNetwork({ ...base, projections: [{ name: 'list', kind: 'sparse', from: 'in', to: 'out', pre, post, weight, delay_steps: delay }] });
  assert.equal(convNet.synapseCount, listNet.synapseCount);
  const conv = convNet.projection('conv') as ConvProjectionRuntime;
  const a = convNet.population('out').input;
  const b = listNet.population('out').input;
  const spikes = frames(g, 60, 0.15, 9);
  let visits = 0;
  let expected = 0;
  for (let t = 0; t < spikes.length; t++) {
    convNet.step({ spikes: { in: spikes[t]! } });
    listNet.step({ spikes: { in: spikes[t]! } });
    assert.deepEqual(Array.from(a), Array.from(b), `step ${t}`);
    // Every visited (w, o) pair is a real term, and there are exactly as many as the list delivers.
    forEachConvArrival(conv.kernel, convNet.population('in').history, t, (w, o) => {
      visits++;
      assert.ok(w >= 0 && w < W.length && o >= 0 && o < a.length);
    });
    for (let d = 0; d < g.delays; d++) if (t - d >= 0) for (const i of spikes[t - d]!) for (let s = 0; s < pre.length; s++) if (pre[s] === i && delay[s] === d) expected++;
  }
  assert.equal(visits, expected);
  assert.ok(visits > 1000);
  assert.equal(convWeightIndex(conv.kernel, 1, 1, 3, 2, 2), W.length - 1);
});

test('logistic units: p(t) = σ(a(t − 1) + b), spikes where p > threshold, accumulator cleared each step', () => {
  const g: Geometry = { cin: 1, h: 5, w: 5, cout: 2, k: 3, stride: 1, delays: 2 };
  const net = buildNetwork(convSpec(g, { min: -2, max: 3 }, -0.5));
  const out = net.population('out') as LogisticPopulationRuntime;
  assert.ok(out.p.every((p) => p === sigmoid(-0.5)));
  const spikes = frames(g, 40, 0.3, 2);
  let prev = new Float64Array(out.size);
  let spiking = 0;
  for (let t = 0; t < spikes.length; t++) {
    net.step({ spikes: { in: spikes[t]! } });
    for (let j = 0; j < out.size; j++) assert.equal(out.p[j], sigmoid(prev[j]! - 0.5));
    const expected = [...out.p.keys()].filter((j) => out.p[j]! > 0.6);
    assert.deepEqual(Array.from(net.spikes('out')), expected);
    spiking += expected.length;
    prev = out.input.slice();
    // predict() is what the next threshold will compute.
    assert.deepEqual(Array.from(out.predict()), Array.from(prev, (x) => sigmoid(x - 0.5)));
  }
  assert.ok(spiking > 10 && spiking < 40 * out.size - 10, `some but not all units spiked (${spiking})`);
  // With no input at all, the accumulator is zero after a step and p falls back to σ(b).
  net.step();
  net.step();
  net.step();
  assert.ok(out.input.every((x) => x === 0));
  assert.ok(out.p.every((p) => p === sigmoid(-0.5)));
});
