/**
 * The supervised online readout (time-invariant logistic regression on delayed arrivals):
 * it learns to tell apart two spike patterns that differ only in their timing (every input neuron
 * spikes once in both), with Adam and with SGD; magnitude pruning keeps exactly `keep` weights
 * and the task still works; on a conv projection it learns motion direction through the delay taps
 * of the kernel (which one delay tap cannot do); learning off leaves every weight, bias and moment
 * untouched, and switching it on and off while running takes effect at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { Rng } from '../../src/emulator/rng.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import type { ReadoutRuntime } from '../../src/snn/plasticity/readout.js';
import type { ConvProjectionRuntime } from '../../src/snn/projections/conv.js';

// ------------------------------------------------------------ timing task on a sparse projection

const N = 12; // input neurons
const D = 8; // delay taps 0 … 7 per (input, output) pair
const GAP = D; // silent steps between episodes, so no spike of one episode reaches the next decision

/** Offsets of the two classes: a random order, and the same order reversed in time. */
function classOffsets(seed: number): [number[], number[]] {
  const rng = new Rng(seed);
  const a = Array.from({ length: N }, () => Math.floor(rng.uniform() * (D - 1)));
  return [a, a.map((o) => D - 2 - o)];
}

/** One noisy episode: per step, the spiking neurons (35 % jittered by ±1 step, 15 % dropped, 3 stray spikes). */
function episode(offsets: number[], rng: Rng): number[][] {
  const steps: number[][] = Array.from({ length: D }, () => []);
  for (let i = 0; i < N; i++) {
    if (rng.uniform() < 0.15) continue;
    let o = offsets[i]!;
    if (rng.uniform() < 0.35) o += rng.uniform() < 0.5 ? -1 : 1;
    o = Math.min(Math.max(o, 0), D - 1);
    steps[o]!.push(i);
  }
  for (let k = 0; k < 3; k++) steps[Math.floor(rng.uniform() * D)]!.push(Math.floor(rng.uniform() * N));
  return steps;
}

function timingNet(rule: Record<string, unknown>, seed = 1) {
  const rng = new Rng(seed, 7);
  const pre: number[] = [];
  const post: number[] = [];
  const weight: number[] = [];
  const delay: number[] = [];
  for (let i = 0; i < N; i++)
    for (let d = 0; d < D; d++)
      for (let j = 0; j < 2; j++) {
        pre.push(i);
        post.push(j);
        weight.push((rng.uniform() - 0.5) * 0.02);
        delay.push(d);
      }
  return buildNetwork({
    dt_ms: 1,
    seed,
    populations: [
      { name: 'in', model: 'input', size: N },
      { name: 'out', model: 'logistic', size: 2, threshold: 0.5 },
    ],
    projections: [{ name: 'ro', kind: 'sparse', from: 'in', to: 'out', pre, post, weight, delay_steps: delay }],
    plasticity: [{ rule: 'readout', projection: 'ro', signal: 'label', ...rule }],
  });
}

interface Score {
  accuracy: number;
  loss: number;
  /** Fraction of episodes where exactly the correct unit spiked at the decision step. */
  spikeAccuracy: number;
}

/**
 * Runs `episodes` episodes; the label is given at the last pattern step (whose arrivals span the
 * whole pattern through delays 0 … D − 1) when `train`. The decision is read one step later, from the
 * probabilities and spikes of the logistic units' threshold.
 */
function run(net: Network, offsets: [number[], number[]], episodes: number, rng: Rng, train: boolean): Score {
  const out = net.population('out') as LogisticPopulationRuntime;
  let correct = 0;
  let spikeCorrect = 0;
  let loss = 0;
  for (let e = 0; e < episodes; e++) {
    const label = rng.uniform() < 0.5 ? 0 : 1;
    const steps = episode(offsets[label]!, rng);
    for (let k = 0; k < D; k++) net.step({ spikes: { in: steps[k]! }, ...(train && k === D - 1 ? { signals: { label } } : {}) });
    net.step();
    const p = out.p;
    if ((p[label]! > p[1 - label]!)) correct++;
    const fired = Array.from(net.spikes('out'));
    if (fired.length === 1 && fired[0] === label) spikeCorrect++;
    loss += -Math.log(Math.max(p[label]!, 1e-12)) - Math.log(Math.max(1 - p[1 - label]!, 1e-12));
    for (let k = 1; k < GAP; k++) net.step();
  }
  return { accuracy: correct / episodes, loss: loss / episodes, spikeAccuracy: spikeCorrect / episodes };
}

for (const [name, rule] of [
  ['Adam', { optimizer: 'adam', learning_rate: 0.05 }],
  ['SGD', { optimizer: 'sgd', learning_rate: 0.5 }],
] as const) {
  test(`readout (${name}) learns two patterns that differ only in spike timing to > 90 %, loss falls`, () => {
    const offsets = classOffsets(4);
    const net = timingNet(rule);
    const test = (seed: number) => {
      net.setLearning(false);
      const s = run(net, offsets, 200, new Rng(seed), false);
      net.setLearning(true);
      return s;
    };
    const before = test(100);
    const trainRng = new Rng(200);
    const early = run(net, offsets, 50, trainRng, true);
    run(net, offsets, 250, trainRng, true);
    const late = run(net, offsets, 50, trainRng, true);
    const after = test(101);
    assert.ok(before.loss > 1.3, `untrained loss ${before.loss} ≈ 2·ln 2 (p ≈ ½ for both units)`);
    assert.ok(after.accuracy > 0.9, `trained accuracy ${after.accuracy}`);
    assert.ok(after.spikeAccuracy > 0.9, `exactly the right unit spikes in ${after.spikeAccuracy}`);
    assert.ok(after.loss < 0.4 * before.loss, `held-out loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}`);
    assert.ok(late.loss < 0.5 * early.loss, `training loss ${early.loss.toFixed(3)} → ${late.loss.toFixed(3)}`);
    const ro = net.rules[0] as ReadoutRuntime;
    if (name === 'Adam') assert.equal(ro.steps[0], 350, 'one Adam step per labelled step');
    else assert.equal(ro.steps[0], 0);
    console.log(`# ${name}: accuracy ${before.accuracy} → ${after.accuracy} (spike decisions ${after.spikeAccuracy}), loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}`);
  });
}

test('magnitude pruning leaves exactly `keep` non-zero weights, pruned ones stay zero, and the task still works', () => {
  const keep = 16; // of 192
  const offsets = classOffsets(4);
  const net = timingNet({ optimizer: 'adam', learning_rate: 0.05, prune: { keep, every_steps: 160 } });
  const ro = net.rules[0] as ReadoutRuntime;
  const table = net.projection('ro').table!;
  const rng = new Rng(300);
  run(net, offsets, 150, rng, true); // 2400 steps: pruned 15 times
  const nonzero = () => table.weight.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0);
  assert.equal(nonzero(), keep);
  assert.equal(ro.mask.reduce((n, m) => n + m, 0), 192 - keep);
  const pruned = [...ro.mask.keys()].filter((s) => ro.mask[s] === 1);
  // Keep training between prunes (10 steps short of the next): masked weights never move.
  run(net, offsets, 9, rng, true);
  assert.ok(pruned.every((s) => table.weight[s] === 0));
  assert.ok(nonzero() <= keep);
  net.setLearning(false);
  const score = run(net, offsets, 200, new Rng(301), false);
  assert.ok(score.accuracy > 0.85, `accuracy with ${keep}/192 weights: ${score.accuracy}`);
  // The kept weights are the large ones: every kept |w| ≥ the magnitude the prune removed (0 now), and non-trivial.
  const kept = [...table.weight].filter((w) => w !== 0).map(Math.abs);
  assert.ok(Math.min(...kept) > 0.01, `smallest kept |w| ${Math.min(...kept)}`);
  console.log(`# pruned to ${keep}/192 weights: accuracy ${score.accuracy}`);
});

test('learning off leaves weights, biases and optimizer state unchanged; setLearning switches it while running', () => {
  const offsets = classOffsets(4);
  const net = timingNet({ optimizer: 'adam', learning_rate: 0.05, enabled: false });
  const ro = net.rules[0] as ReadoutRuntime;
  const table = net.projection('ro').table!;
  const out = net.population('out') as LogisticPopulationRuntime;
  const snapshot = () => ({
    w: Array.from(table.weight),
    b: Array.from(out.state.bias),
    m: Array.from(net.arena.get('ro.readout.m')),
    v: Array.from(net.arena.get('ro.readout.v')),
    k: ro.steps[0],
  });
  const rng = new Rng(400);
  const s0 = snapshot();
  run(net, offsets, 40, rng, true); // labels given, but learning off
  assert.deepEqual(snapshot(), s0);
  net.setLearning(true, 'ro');
  run(net, offsets, 40, rng, true);
  const s1 = snapshot();
  assert.notDeepEqual(s1.w, s0.w);
  assert.notDeepEqual(s1.b, s0.b);
  assert.equal(s1.k, 40);
  net.setLearning(false);
  run(net, offsets, 40, rng, true);
  assert.deepEqual(snapshot(), s1);
  // Steps without the signal never update, even with learning on.
  net.setLearning(true);
  run(net, offsets, 20, rng, false);
  assert.deepEqual(snapshot(), s1);
  // A bad label is an error, not a silent no-op.
  assert.throws(() => net.step({ signals: { label: 2 } }), /class index 2 out of range/);
  assert.throws(() => net.step({ signals: { label: [1, 0, 0] } }), /3 targets for 2 output units/);
});

// ------------------------------------------------------------ motion direction through a conv kernel

/*
 * A bar sweeps in 3 steps across one of two receptive fields (columns 0-2 or 3-5 of a 3×6 plane;
 * kernel 3, stride 3, so the two output positions share one kernel), left or right. The label is
 * given at the middle step, when every delay-0 view is the same centre column whatever the
 * direction: only the delay taps can tell the directions apart.
 *
 * (A linear readout cannot be trained with one label on every output position at every step of a
 * sweep: summed over positions, a shared linear kernel responds the same to a pattern and to its
 * time reversal, so the labels there contradict each other. Hence one supervised view per sweep.)
 */
const WIDTH = 6;

function sweep(dir: number, field: number, rng: Rng): number[][] {
  return [0, 1, 2].map((k) => {
    const x = 3 * field + (dir > 0 ? k : 2 - k);
    const f = [0, 1, 2].filter(() => rng.uniform() > 0.15).map((y) => y * WIDTH + x);
    if (rng.uniform() < 0.2) f.push(Math.floor(rng.uniform() * 3 * WIDTH));
    return [...new Set(f)];
  });
}

function motionNet(delays: number) {
  return buildNetwork({
    dt_ms: 1,
    seed: 2,
    populations: [
      { name: 'dvs', model: 'input', shape: [1, 3, WIDTH] },
      { name: 'dir', model: 'logistic', shape: [2, 1, 2] },
    ],
    projections: [{ name: 'k', kind: 'conv', from: 'dvs', to: 'dir', kernel_size: 3, stride: 3, delays, weight: { min: -0.01, max: 0.01 } }],
    plasticity: [{ rule: 'readout', projection: 'k', signal: 'label', optimizer: 'adam', learning_rate: 0.05 }],
  });
}

/** Trains on 300 sweeps, then scores 300: decision = the channel with the larger max p over positions. */
function motionScore(delays: number): number {
  const net = motionNet(delays);
  const rng = new Rng(9);
  // Channel 0 = rightward on both positions, channel 1 = leftward.
  const target = (dir: number) => (dir > 0 ? [1, 1, 0, 0] : [0, 0, 1, 1]);
  const episode = (learn: boolean): boolean => {
    const dir = rng.uniform() < 0.5 ? 1 : -1;
    const frames = sweep(dir, rng.uniform() < 0.5 ? 0 : 1, rng);
    let right = false;
    for (let k = 0; k < 3; k++) {
      net.step({ spikes: { dvs: frames[k]! }, ...(learn && k === 1 ? { signals: { label: target(dir) } } : {}) });
      if (k === 1) {
        const p = (net.population('dir') as LogisticPopulationRuntime).predict();
        right = Math.max(p[0]!, p[1]!) > Math.max(p[2]!, p[3]!);
      }
    }
    for (let k = 0; k < delays; k++) net.step();
    return right === dir > 0;
  };
  for (let e = 0; e < 300; e++) episode(true);
  net.setLearning(false);
  let correct = 0;
  for (let e = 0; e < 300; e++) if (episode(false)) correct++;
  return correct / 300;
}

test('readout on a conv projection learns motion direction over the kernel’s delay taps (one tap cannot)', () => {
  const withDelays = motionScore(3);
  const withoutDelays = motionScore(1);
  assert.ok(withDelays > 0.9, `direction accuracy with 3 delay taps: ${withDelays}`);
  assert.ok(withoutDelays < 0.65, `direction accuracy with 1 delay tap: ${withoutDelays}`);
  console.log(`# motion direction: ${withDelays} with 3 delay taps, ${withoutDelays} with 1`);
});

test('conv readout gradient: SGD steps each shared kernel entry by −lr·Σ e over its arrivals (brute-force check)', () => {
  const [cin, h, w, cout, k, D] = [2, 5, 6, 2, 3, 3];
  const [oh, ow] = [h - k + 1, w - k + 1];
  const lr = 0.5;
  const net = buildNetwork({
    dt_ms: 1,
    seed: 2,
    populations: [
      { name: 'in', model: 'input', shape: [cin, h, w] },
      { name: 'out', model: 'logistic', shape: [cout, oh, ow], bias_init: 0.3 },
    ],
    projections: [{ name: 'k', kind: 'conv', from: 'in', to: 'out', kernel_size: k, delays: D, weight: { min: -1, max: 1 } }],
    plasticity: [{ rule: 'readout', projection: 'k', signal: 'label', optimizer: 'sgd', learning_rate: lr }],
  });
  const W = (net.projection('k') as ConvProjectionRuntime).kernel.weight;
  const bias = (net.population('out') as LogisticPopulationRuntime).state.bias;
  const rng = new Rng(1);
  const frames: number[][] = [];
  const on = (ci: number, y: number, x: number, t: number) => t >= 0 && frames[t]!.includes((ci * h + y) * w + x);
  const idx = (c: number, ci: number, d: number, ky: number, kx: number) => (((c * cin + ci) * D + d) * k + ky) * k + kx;
  let worst = 0;
  for (let t = 0; t < 12; t++) {
    frames.push([...Array(cin * h * w).keys()].filter(() => rng.uniform() < 0.2));
    const y = Array.from({ length: cout * oh * ow }, () => (rng.uniform() < 0.5 ? 1 : 0));
    const W0 = W.slice();
    const b0 = bias.slice();
    const e: number[] = [];
    const grad = new Float64Array(W.length);
    for (let c = 0; c < cout; c++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const terms: number[] = [];
          for (let ci = 0; ci < cin; ci++) for (let d = 0; d < D; d++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) if (on(ci, oy + ky, ox + kx, t - d)) terms.push(idx(c, ci, d, ky, kx));
          const o = (c * oh + oy) * ow + ox;
          e[o] = 1 / (1 + Math.exp(-(terms.reduce((s, i) => s + W0[i]!, 0) + b0[o]!))) - y[o]!;
          for (const i of terms) grad[i] = grad[i]! + e[o]!;
        }
    net.step({ spikes: { in: frames[t]! }, signals: { label: y } });
    for (let i = 0; i < W.length; i++) worst = Math.max(worst, Math.abs(W[i]! - (W0[i]! - lr * grad[i]!)));
    for (let o = 0; o < e.length; o++) worst = Math.max(worst, Math.abs(bias[o]! - (b0[o]! - lr * e[o]!)));
  }
  assert.ok(worst < 1e-12, `max deviation from the brute-force SGD step: ${worst}`);
});

test('pruning a conv kernel keeps exactly `keep` shared entries; two readouts onto one layer step its biases once', () => {
  const build = (second: boolean) =>
    buildNetwork({
      dt_ms: 1,
      seed: 4,
      populations: [
        { name: 'in', model: 'input', shape: [1, 4, 4] },
        { name: 'in2', model: 'input', size: 3 },
        { name: 'out', model: 'logistic', shape: [2, 2, 2] },
      ],
      projections: [
        { name: 'k', kind: 'conv', from: 'in', to: 'out', kernel_size: 3, delays: 2, weight: { min: -1, max: 1 } },
        { name: 'd', kind: 'dense', from: 'in2', to: 'out', weight: 0.1 },
      ],
      plasticity: [
        { rule: 'readout', projection: 'k', signal: 'y', optimizer: 'adam', learning_rate: 0.01, prune: { keep: 7, every_steps: 5 } },
        ...(second ? [{ rule: 'readout', projection: 'd', signal: 'y', optimizer: 'sgd', learning_rate: 0.1 }] : []),
      ],
    });
  const one = build(false);
  const two = build(true);
  const W = (two.projection('k') as ConvProjectionRuntime).kernel.weight;
  const rng = new Rng(8);
  const step = (input: { spikes?: Record<string, number[]>; signals?: Record<string, number> }) => {
    one.step(input);
    two.step(input);
  };
  for (let t = 0; t < 4; t++) step({ spikes: { in: [...Array(16).keys()].filter(() => rng.uniform() < 0.3) }, signals: { y: 1 } });
  assert.equal(W.filter((w) => w !== 0).length, 36, 'no pruning before step 5');
  step({ signals: { y: 1 } });
  assert.equal(W.filter((w) => w !== 0).length, 7);
  for (let t = 0; t < 20; t++) step({ spikes: { in: [...Array(16).keys()].filter(() => rng.uniform() < 0.3) }, signals: { y: t % 8 } });
  assert.equal(W.filter((w) => w !== 0).length, 7);
  // 'd' never delivers (in2 is silent), so its readout has no weight to train; had it also stepped the
  // biases, they would differ from the network without it.
  const b1 = (one.population('out') as LogisticPopulationRuntime).state.bias;
  const b2 = (two.population('out') as LogisticPopulationRuntime).state.bias;
  assert.ok(b2.some((b) => b !== 0));
  assert.deepEqual(Array.from(b2), Array.from(b1));
});
