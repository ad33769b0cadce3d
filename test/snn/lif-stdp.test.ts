/** LIF dynamics (refractoriness, reset modes) and the STDP variants, on tiny hand-built networks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import type { LifPopulationRuntime } from '../../src/snn/neurons/populations.js';

function oneSynapse(extra: { lif?: object; stdp?: object; weight?: number; delay?: number; inputs?: number } = {}) {
  return buildNetwork({
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: extra.inputs ?? 2 },
      { name: 'out', model: 'lif', size: 1, decay: 0.9, v_th: 1, ...extra.lif },
    ],
    projections: [{ name: 'p', kind: 'sparse', from: 'in', to: 'out', pre: [0, 1], post: [0, 0], weight: [extra.weight ?? 0.5, 2], delay_steps: [extra.delay ?? 0, 0] }],
    plasticity: extra.stdp ? [{ rule: 'stdp', projection: 'p', decay_pre: 0.9, decay_post: 0.9, a_pre: 0.1, a_post: -0.1, w_min: 0, w_max: 1, ...extra.stdp }] : [],
  });
}

const v = (net: ReturnType<typeof buildNetwork>) => (net.population('out') as LifPopulationRuntime).state.v;

test('input arriving at step t is seen by the threshold of t + 1; exact decay', () => {
  const net = oneSynapse({ weight: 0.6 });
  net.step({ spikes: { in: [0] } });
  assert.equal(v(net)[0], 0.6);
  net.step({ spikes: { in: [0] } });
  assert.equal(v(net)[0], 0.6 * 0.9 + 0.6);
  net.step();
  assert.deepEqual([...net.spikes('out')], [0], '1.14·0.9 = 1.026 > 1 spikes');
  assert.equal(v(net)[0], 0);
});

test('input delivered in the step a neuron fires is wiped by its reset', () => {
  const net = oneSynapse({ weight: 0.3 });
  net.step({ spikes: { in: [1] } }); // v = 2
  net.step({ spikes: { in: [0] } }); // decays to 1.8 > 1: spikes, then +0.3 arrives, then reset
  assert.deepEqual([...net.spikes('out')], [0]);
  assert.equal(v(net)[0], 0);
});

test('reset by subtraction keeps the overshoot', () => {
  const net = oneSynapse({ lif: { reset: 'subtract' } });
  net.step({ spikes: { in: [1] } });
  net.step();
  assert.deepEqual([...net.spikes('out')], [0]);
  assert.equal(v(net)[0], 2 * 0.9 - 1);
});

test('refractory period: no spike and no decay for refractory_steps from the spike step, inputs still add', () => {
  const net = oneSynapse({ lif: { refractory_steps: 3 }, weight: 0.25 });
  const spikeSteps: number[] = [];
  const trace: number[] = [];
  for (let t = 0; t < 12; t++) {
    net.step({ spikes: { in: t % 2 === 0 ? [1] : [0] } });
    if (net.spikes('out').length) spikeSteps.push(t);
    trace.push(v(net)[0]!);
  }
  // Drive of 2 every other step would fire every step it is above threshold; refractoriness spaces spikes by >= 3.
  for (let k = 1; k < spikeSteps.length; k++) assert.ok(spikeSteps[k]! - spikeSteps[k - 1]! >= 3, `spikes at ${spikeSteps.join(',')}`);
  const s = spikeSteps[0]!;
  // During the refractory steps after the spike, v only accumulates input (no decay).
  assert.equal(trace[s + 1]!, trace[s]! + (s % 2 === 0 ? 0.25 : 2));
});

test('additive STDP: pre-before-post potentiates, post-before-pre depresses, bounds hold', () => {
  // pre (input 0) at step 0, post forced by input 1 at step 2 → spike at step 3: causal.
  const causal = oneSynapse({ stdp: {}, weight: 0.5 });
  causal.step({ spikes: { in: [0] } });
  causal.step();
  causal.step({ spikes: { in: [1] } });
  causal.step();
  assert.deepEqual([...causal.spikes('out')], [0]);
  const wCausal = causal.projection('p').table!.weightsInUserOrder()[0]!;
  assert.equal(wCausal, 0.5 + 0.1 * 0.9 ** 3);
  // post spike at step 1, pre at step 3: anti-causal.
  const anti = oneSynapse({ stdp: {}, weight: 0.5 });
  anti.step({ spikes: { in: [1] } });
  anti.step();
  assert.deepEqual([...anti.spikes('out')], [0]);
  anti.step();
  anti.step({ spikes: { in: [0] } });
  const wAnti = anti.projection('p').table!.weightsInUserOrder()[0]!;
  assert.equal(wAnti, 0.5 - 0.1 * 0.9 ** 2);
  // Bounds: many causal pairings saturate at w_max.
  const sat = oneSynapse({ stdp: { a_pre: 0.5 }, weight: 0.9 });
  for (let k = 0; k < 20; k++) {
    sat.step({ spikes: { in: [0] } });
    sat.step({ spikes: { in: [1] } });
    sat.step();
    sat.step();
  }
  assert.equal(sat.projection('p').table!.weightsInUserOrder()[0], 1);
});

test('multiplicative STDP: a change scales with the distance to the bound', () => {
  const run = (w0: number) => {
    const net = oneSynapse({ stdp: { mode: 'multiplicative' }, weight: w0 });
    net.step({ spikes: { in: [0] } });
    net.step({ spikes: { in: [1] } });
    net.step();
    return net.projection('p').table!.weightsInUserOrder()[0]! - w0;
  };
  const low = run(0.2);
  const high = run(0.8);
  assert.ok(low > 0 && high > 0);
  assert.ok(Math.abs(low / high - 0.8 / 0.2) < 1e-9, `potentiation ∝ (w_max − w): ${low} vs ${high}`);
});

test('symmetric STDP: anti-causal pairs potentiate too', () => {
  const net = oneSynapse({ stdp: { symmetric: true }, weight: 0.5 });
  net.step({ spikes: { in: [1] } });
  net.step();
  net.step({ spikes: { in: [0] } });
  assert.equal(net.projection('p').table!.weightsInUserOrder()[0], 0.5 + 0.1 * 0.9);
});

test('learning switched off while running: weights frozen, traces keep running; switched on again: learning resumes', () => {
  const net = oneSynapse({ stdp: {}, weight: 0.5 });
  net.setLearning(false);
  net.step({ spikes: { in: [0] } });
  net.step({ spikes: { in: [1] } });
  net.step();
  assert.deepEqual([...net.spikes('out')], [0]);
  assert.equal(net.projection('p').table!.weightsInUserOrder()[0], 0.5);
  net.setLearning(true, 'p');
  // The pre trace from step 0 still exists: a new post spike potentiates by its decayed value.
  net.step({ spikes: { in: [1] } });
  net.step();
  assert.deepEqual([...net.spikes('out')], [0]);
  assert.equal(net.projection('p').table!.weightsInUserOrder()[0], 0.5 + 0.1 * 0.9 ** 4);
  assert.throws(() => net.setLearning(true, 'nope'), /no projection named 'nope'/);
});

test('step rejects spikes for a population that is not an input, and out-of-range indices', () => {
  const net = oneSynapse();
  assert.throws(() => net.step({ spikes: { out: [0] } }), /'out' is not an input population/);
  assert.throws(() => net.step({ spikes: { in: [1, 5] } }), /step 0: input 'in' spike index 5 \(entry 1\) out of range \[0, 2\)/);
  // Nothing was half-done: the next step is still step 0 and behaves as on a fresh network.
  assert.equal(net.t, 0);
  net.step({ spikes: { in: [1] } });
  assert.equal(v(net)[0], 2);
});
