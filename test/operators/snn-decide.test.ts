/** The snn and decide operators: timing (virtual time), signals, learning switches, decisions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { map, of, Subject } from 'rxjs';
import { snn, type SnnStep } from '../../operators/snn.js';
import { decide, ConfidenceCalibrator, maxSoftmax } from '../../operators/decide.js';
import type { StepBatch } from '../../operators/bin-steps.js';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { Rng } from '../../src/emulator/rng.js';

const batch = (step: number, active: number[], size = 4): StepBatch => ({
  step,
  tStartUs: step * 1000,
  dtUs: 1000,
  size,
  shape: [1, 1, size],
  active: Uint32Array.from(active),
  counts: Uint32Array.from(active.map(() => 1)),
  events: active.length,
  late: 0,
});

const tiny = () =>
  buildNetwork({
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 4 },
      { name: 'out', model: 'lif', size: 2, decay: 0.5, v_th: 1 },
    ],
    projections: [{ name: 'p', kind: 'sparse', from: 'in', to: 'out', pre: [0, 1, 2, 3], post: [0, 0, 1, 1], weight: [2.5, 0.6, 2.5, 0.6], delay_steps: [0, 0, 1, 1] }],
    plasticity: [{ rule: 'stdp', projection: 'p', decay_pre: 0.5, decay_post: 0.5, a_pre: 0.1, a_post: -0.1, w_min: 0, w_max: 2 }],
  });

test('snn: one emission per step batch, at the batch\'s time, with the same spikes as stepping the network directly', () => {
  const inputs = [[0], [2], [], [1, 3], [0, 2]];
  const reference = tiny();
  const expected = inputs.map((a) => {
    reference.step({ spikes: { in: a } });
    return [...reference.spikes('out')];
  });
  new TestScheduler((a, b) => assert.deepEqual(a, b)).run(({ cold, expectObservable }) => {
    const src = cold('a-b-c--d-e|', Object.fromEntries('abcde'.split('').map((k, i) => [k, batch(i, inputs[i]!)])));
    const out = src.pipe(snn({ network: tiny(), input: 'in' }));
    expectObservable(out.pipe(map((s) => [...s.spikes.out!]))).toBe('a-b-c--d-e|', Object.fromEntries('abcde'.split('').map((k, i) => [k, expected[i]])));
  });
  assert.deepEqual(expected, [[], [0], [], [1], []], 'the case has output spikes, one from a delayed synapse');
});

/** A stand-in network that records what each step was given. */
function recorder(): { net: Network; given: { signals: Record<string, unknown> }[]; learning: boolean[] } {
  const given: { signals: Record<string, unknown> }[] = [];
  const learning: boolean[] = [];
  const real = tiny();
  const net = Object.create(real) as Network;
  net.step = (input) => {
    given.push({ signals: { ...(input?.signals ?? {}) } });
    real.step(input);
  };
  net.setLearning = (on: boolean) => void learning.push(on);
  return { net, given, learning };
}

test('snn: a held signal keeps its last value, a pulse reaches exactly one step; learning switches by stream', () => {
  const { net, given, learning } = recorder();
  new TestScheduler((a, b) => assert.deepEqual(a, b)).run(({ cold, hot, flush }) => {
    const steps = cold('a-b-c-d-e|', Object.fromEntries('abcde'.split('').map((k, i) => [k, batch(i, [])])));
    // Signals arrive between steps (odd frames), so the order within a frame does not matter.
    const label = hot('-x---y', { x: 3, y: 5 });
    const reward = hot('---r', { r: 1 });
    const learn = hot('------f', { f: false });
    steps.pipe(snn({ network: net, input: 'in', signals: { label, reward }, signalModes: { reward: 'pulse' }, learning: learn })).subscribe();
    flush();
  });
  assert.deepEqual(given.map((g) => g.signals.label), [undefined, 3, 3, 5, 5]);
  assert.deepEqual(given.map((g) => g.signals.reward), [undefined, undefined, 1, undefined, undefined]);
  assert.deepEqual(learning, [false]);
});

test('snn: a batch of the wrong size is an error naming both sizes', () => {
  const errors: Error[] = [];
  of(batch(0, [], 9)).pipe(snn({ network: tiny(), input: 'in' })).subscribe({ error: (e) => errors.push(e) });
  assert.match(errors[0]!.message, /step 0 has 9 inputs but population 'in' has 4/);
});

const step = (k: number, spikes: number[], events = 1): SnnStep => ({ step: k, tStartUs: k * 1000, dtUs: 1000, events, spikes: { r: Int32Array.from(spikes) }, sizes: { r: 6 } });

test('decide (confidence): decides at the first step whose max softmax exceeds the threshold, with latency, then starts again', () => {
  // 3 classes × 2 neurons; class 1 = neurons 2, 3.
  new TestScheduler((a, b) => assert.deepEqual(a, b)).run(({ cold, expectObservable }) => {
    const src = cold('abcdef|', { a: step(0, [2]), b: step(1, [0]), c: step(2, [3, 2]), d: step(3, [5], 0), e: step(4, [4, 5]), f: step(5, [5]) });
    const out = src.pipe(decide({ population: 'r', classes: 3, confidence: 0.8, labels: ['left', 'right', 'up'], region: 'cam0', now: () => 42 }));
    const conf = (counts: number[]) => maxSoftmax(Float64Array.from(counts), 1).confidence;
    expectObservable(out).toBe('--c-e-|', {
      c: { sequence: 0, pipeline: '', region: 'cam0', label: 'right', classIndex: 1, confidence: conf([1, 3, 0]), timeUs: 3000, latencySteps: 3, latencyUs: 3000, emittedUnixMs: 42 },
      // Step d starts the count (it has a spike though no input events); e makes class 2 confident.
      e: { sequence: 1, pipeline: '', region: 'cam0', label: 'up', classIndex: 2, confidence: conf([0, 0, 3]), timeUs: 5000, latencySteps: 2, latencyUs: 2000, emittedUnixMs: 42 },
    });
  });
});

test('decide (window and count modes)', () => {
  const got: [string, number, number][] = [];
  const s = new Subject<SnnStep>();
  s.pipe(decide({ population: 'r', classes: [0, 0, 1, 1, 2, 2], mode: 'window', windowSteps: 2 })).subscribe((d) => got.push(['w', d.classIndex, d.latencySteps]));
  s.pipe(decide({ population: 'r', classes: 3, mode: 'count', minSpikes: 2 })).subscribe((d) => got.push(['c', d.classIndex, d.latencySteps]));
  [step(0, [4]), step(1, [0, 1]), step(2, [5]), step(3, [5])].forEach((x) => s.next(x));
  assert.deepEqual(got, [['w', 0, 2], ['c', 0, 2], ['w', 2, 2], ['c', 2, 2]]);
  assert.throws(() => decide({ population: 'r', classes: 3, mode: 'window' }), /needs windowSteps/);
  const errors: Error[] = [];
  of(step(0, [1])).pipe(decide({ population: 'r', classes: 4 })).subscribe({ error: (e) => errors.push(e) });
  assert.match(errors[0]!.message, /6 neurons, not a multiple of 4 classes/);
});

test('confidence calibration: the threshold is the lowest confidence whose decisions reach the target accuracy', () => {
  const c = new ConfidenceCalibrator(0.9, 100);
  assert.equal(c.threshold(), undefined, 'not before minSamples');
  const rng = new Rng(4);
  for (let k = 0; k < 20000; k++) {
    const conf = rng.uniform();
    // Above 0.7 right 19 times in 20; below, right half the time.
    c.add(conf, rng.uniform() < (conf >= 0.7 ? 0.95 : 0.5));
  }
  const t = c.threshold()!;
  assert.ok(t >= 0.6 && t <= 0.7, `threshold ${t}`);
  const strict = new ConfidenceCalibrator(0.99, 100);
  for (let k = 0; k < 20000; k++) strict.add(rng.uniform(), rng.uniform() < 0.95);
  assert.equal(strict.threshold(), undefined, 'no confidence level reaches 99 %');
});

test('snn reuseState: one snapshot array for every step, holding what a fresh copy would hold during each emission', () => {
  const inputs = [[0], [2], [], [1, 3], [0, 2], [0, 1, 2, 3]];
  const fresh: number[][] = [];
  of(...inputs.map((a, i) => batch(i, a)))
    .pipe(snn({ network: tiny(), input: 'in', snapshot: ['out'] }))
    .subscribe((s) => fresh.push([...s.state!.out!]));
  const seen: number[][] = [];
  const arrays = new Set<Float64Array>();
  of(...inputs.map((a, i) => batch(i, a)))
    .pipe(snn({ network: tiny(), input: 'in', snapshot: ['out'], reuseState: true }))
    .subscribe((s) => {
      arrays.add(s.state!.out!);
      seen.push([...s.state!.out!]);
    });
  assert.deepEqual(seen, fresh);
  assert.equal(arrays.size, 1);
  assert.ok(fresh.some((v) => v.some((x) => x !== 0)), 'the membranes moved');
});
