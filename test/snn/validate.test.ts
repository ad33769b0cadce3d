/** Invalid specs and exchange files are rejected with a SpecError naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSpec } from '../../src/snn/validate.js';
import { SpecError } from '../../src/snn/spec-error.js';
import { jobFrom, specFromExchange } from '../../src/snn/exchange.js';
import { exchangeCase } from './exchange-nets.js';

const base = () => ({
  dt_ms: 1,
  populations: [
    { name: 'in', model: 'input', size: 4 },
    { name: 'out', model: 'lif', size: 2, tau_ms: 20, v_th: 1 },
  ],
  projections: [{ name: 'p', kind: 'sparse', from: 'in', to: 'out', pre: [0, 1], post: [0, 1], weight: [0.5, 0.5], delay_steps: [0, 3] }],
});

function rejects(mutate: (s: any) => void, field: string, message: RegExp): void {
  const s = base();
  mutate(s);
  assert.throws(
    () => validateSpec(s),
    (e: unknown) => {
      assert.ok(e instanceof SpecError, `expected a SpecError, got ${String(e)}`);
      assert.equal(e.field, field);
      assert.match(e.message, message);
      return true;
    },
  );
}

test('a valid spec normalises: tau_ms becomes the per-step factor, defaults filled', () => {
  const s = validateSpec(base());
  const out = s.populations[1]!;
  assert.equal(out.model, 'lif');
  if (out.model !== 'lif') return;
  assert.equal(out.decay, Math.exp(-1 / 20));
  assert.equal(out.v_reset, 0);
  assert.equal(out.reset, 'value');
  assert.equal(out.refractory_steps, 0);
  assert.deepEqual(s.plasticity, []);
  // Normal form is itself valid and unchanged by a second pass.
  assert.deepEqual(validateSpec(s), s);
});

test('unknown neuron model', () => rejects((s) => (s.populations[1].model = 'izhikevich'), 'populations[1].model', /one of 'input', 'lif', 'alif', 'logistic'.*'izhikevich'/));
test('negative delay', () => rejects((s) => (s.projections[0].delay_steps[1] = -2), 'projections[0].delay_steps[1]', /non-negative integer, got -2/));
test('fractional delay', () => rejects((s) => (s.projections[0].delay_steps[0] = 1.5), 'projections[0].delay_steps[0]', /non-negative integer/));
test('size mismatch between synapse lists', () => rejects((s) => s.projections[0].weight.push(0.1), 'projections[0].weight', /must have 2 entries, got 3/));
test('postsynaptic index out of range', () => rejects((s) => (s.projections[0].post[1] = 2), 'projections[0].post[1]', /index 2 out of range \(population has 2\)/));
test('NaN parameter', () => rejects((s) => (s.populations[1].v_th = NaN), 'populations[1].v_th', /finite number, got NaN/));
test('decay factor outside [0, 1]', () => rejects((s) => { delete s.populations[1].tau_ms; s.populations[1].decay = 1.2; }, 'populations[1].decay', /decay factor in \[0, 1\]/));
test('both decay and tau_ms', () => rejects((s) => (s.populations[1].decay = 0.9), 'populations[1].decay', /either decay or tau_ms/));
test('a typo is an unknown field, not a silent default', () => rejects((s) => (s.populations[1].v_treshold = 2), 'populations[1].v_treshold', /unknown field/));
test('projection into an input population', () => rejects((s) => (s.projections[0].to = 'in'), 'projections[0].to', /is an input/));
test('projection from a missing population', () => rejects((s) => (s.projections[0].from = 'retina'), 'projections[0].from', /no population named 'retina'/));
test('duplicate names', () => rejects((s) => s.populations.push({ name: 'out', model: 'input', size: 1 }), 'populations[2].name', /duplicate/));
test('shape and size disagree', () => rejects((s) => (s.populations[0].shape = [2, 3]), 'populations[0].size', /shape \[2, 3\] holds 6/));
test('adaptation on plain LIF', () => rejects((s) => (s.populations[1].adaptation = { tau_ms: 50, plus: 0.1 }), 'populations[1].adaptation', /only model 'alif'/));
test('alif without adaptation', () => rejects((s) => (s.populations[1].model = 'alif'), 'populations[1].adaptation', /must be an object/));
test('rule on a missing projection', () => rejects((s) => (s.plasticity = [{ rule: 'stdp', projection: 'q' }]), 'plasticity[0].projection', /no projection named 'q'/));
test('STDP with w_max below w_min', () =>
  rejects((s) => (s.plasticity = [{ rule: 'stdp', projection: 'p', tau_pre_ms: 20, tau_post_ms: 20, a_pre: 0.01, a_post: -0.01, w_min: 1, w_max: 0 }]), 'plasticity[0].w_max', /must be >= w_min/));
test('readout on a LIF population', () => rejects((s) => (s.plasticity = [{ rule: 'readout', projection: 'p', signal: 'label', learning_rate: 0.1 }]), 'plasticity[0].projection', /trains logistic units/));
test('conv needs shaped populations', () =>
  rejects((s) => s.projections.push({ name: 'c', kind: 'conv', from: 'in', to: 'out', kernel_size: 1, delays: 2, weight: 0.1 }), 'projections[1].from', /needs shape \[channels, height, width\]/));
test('conv output shape must match the convolution', () =>
  rejects(
    (s) => {
      s.populations.push({ name: 'plane', model: 'input', shape: [2, 8, 8] }, { name: 'dir', model: 'lif', shape: [4, 8, 8], tau_ms: 10, v_th: 1 });
      s.projections.push({ name: 'c', kind: 'conv', from: 'plane', to: 'dir', kernel_size: 3, delays: 5, weight: { min: 0, max: 0.1 } });
    },
    'projections[1].to',
    /has shape \[4, 8, 8\] but the convolution gives \[4, 6, 6\]/,
  ));
test('homeostasis on an input population', () => rejects((s) => (s.homeostasis = [{ controller: 'threshold', population: 'in', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.1 }] }]), 'homeostasis[0].population', /needs a lif, alif or logistic population; 'in' is 'input'/));
test('unsupported spec version', () => rejects((s) => (s.version = 2), 'version', /unsupported spec version 2/));

test('exchange format: errors name the exchange file fields', () => {
  const c = exchangeCase('x', { seed: 1, stdp: true, adaptation: true });
  const net = structuredClone(c.net) as any;
  net.synapses.delay_steps[5] = -1;
  assert.throws(() => specFromExchange(net), (e: any) => e instanceof SpecError && e.field === 'synapses.delay_steps[5]');
  const net2 = structuredClone(c.net) as any;
  net2.neurons.threshold_adaptation.decay = 'fast';
  assert.throws(() => specFromExchange(net2), (e: any) => e instanceof SpecError && e.field === 'neurons.threshold_adaptation.decay');
  const net3 = structuredClone(c.net) as any;
  net3.synapses.stdp.w_max = -1;
  assert.throws(() => specFromExchange(net3), (e: any) => e instanceof SpecError && e.field === 'synapses.stdp.w_max');
  const net4 = structuredClone(c.net) as any;
  net4.synapses.post[0] = 99;
  assert.throws(() => specFromExchange(net4), (e: any) => e instanceof SpecError && e.field === 'synapses.post[0]' && /out of range/.test(e.message));
});

test('exchange format: bad spikes name the entry', () => {
  const c = exchangeCase('x', { seed: 1 });
  assert.throws(() => jobFrom(c.net, { spikes: [[0, 1], [3, 60]] }), (e: any) => e instanceof SpecError && e.field === 'spikes[1][1]' && /out of range/.test(e.message));
  assert.throws(() => jobFrom(c.net, { spikes: [[600, 1]] }), (e: any) => e instanceof SpecError && e.field === 'spikes[0][0]' && /not below steps/.test(e.message));
  assert.throws(() => jobFrom(c.net, { spikes: [[1]] }), (e: any) => e instanceof SpecError && e.field === 'spikes[0]');
});
