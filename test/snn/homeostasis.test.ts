import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { StateArena } from '../../src/snn/arena.js';
import { SpikeHistory } from '../../src/snn/spike-history.js';
import { RateEstimator } from '../../src/snn/homeostasis/rate-estimator.js';
import type { HomeostasisRuntime } from '../../src/snn/homeostasis/controllers.js';
import type { LifPopulationRuntime } from '../../src/snn/neurons/populations.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import type { Timescale } from '../../src/snn/spec.js';
import { Rng } from '../../src/emulator/rng.js';

const N_IN = 200;
const N = 50;
const TARGET = 10;
const BASE_HZ = 20;
const STEP_HZ = 5 * BASE_HZ;

/** ms, s, minute and hour timescales together; the slow ones weakly. */
function timescales(gain: number): Timescale[] {
  return [
    { tau_ms: 50, gain },
    { tau_ms: 1000, gain },
    { tau_ms: 60_000, gain: gain / 10 },
    { tau_ms: 3_600_000, gain: gain / 50 },
  ];
}

function makeNet(controller: 'threshold' | 'scaling', enabled: boolean, ts: Timescale[]): Network {
  return buildNetwork({
    version: 1,
    dt_ms: 1,
    seed: 3,
    populations: [
      { name: 'in', model: 'input', size: N_IN },
      { name: 'exc', model: 'lif', size: N, decay: Math.exp(-1 / 20), v_th: 1, v_reset: 0, v_init: 0, reset: 'value', refractory_steps: 2 },
    ],
    projections: [{ name: 'ff', from: 'in', to: 'exc', kind: 'random', p: 0.2, weight: { min: 0.02, max: 0.08 }, delay_steps: { min: 0, max: 3 } }],
    plasticity: [],
    homeostasis: [{ controller, population: 'exc', target_hz: TARGET, enabled, timescales: ts }],
  });
}

/** Runs `steps` 1 ms steps of Poisson input at `hz` per input neuron; returns the population rate in Hz. */
function drive(net: Network, rng: Rng, steps: number, hz: number): number {
  const p = hz / 1000;
  let n = 0;
  const sp: number[] = [];
  for (let s = 0; s < steps; s++) {
    sp.length = 0;
    for (let i = 0; i < N_IN; i++) if (rng.uniform() < p) sp.push(i);
    net.step({ spikes: { in: sp } });
    n += net.spikes('exc').length;
  }
  return n / N / (steps / 1000);
}

/** Base rate for 2 s, then the input steps up 5×: rate just after the step and over the last 1.5 s of 6 s. */
function stepUp(net: Network): { before: number; after: number; settled: number } {
  const rng = new Rng(9);
  drive(net, rng, 1000, BASE_HZ);
  const before = drive(net, rng, 1000, BASE_HZ);
  const after = drive(net, rng, 500, STEP_HZ);
  drive(net, rng, 4000, STEP_HZ);
  const settled = drive(net, rng, 1500, STEP_HZ);
  return { before, after, settled };
}

const lif = (net: Network) => net.population('exc') as LifPopulationRuntime;
const controller = (net: Network) => net.controllers[0] as HomeostasisRuntime;

test('rate estimator: r ← r·α + s·(1 − α)/dt on every timescale; converges to the firing rate', () => {
  const arena = new StateArena();
  const h = new SpikeHistory(arena, 'p', 2, 1);
  const taus = [20, 200, 60_000, 3_600_000];
  const est = new RateEstimator(arena, 'p.est', 2, taus, 1);
  // Neuron 0 fires every 10 steps (100 Hz), neuron 1 every 4 (250 Hz).
  const T = 4000;
  for (let t = 0; t < T; t++) {
    const at = h.begin(t);
    let n = 0;
    if (t % 10 === 0) h.lists[at + n++] = 0;
    if (t % 4 === 0) h.lists[at + n++] = 1;
    h.setCount(t, n);
    const prev = [0, 1, 2, 3].map((k) => est.rate(k, 1));
    est.update(h, t);
    if (t < 8) {
      for (let k = 0; k < 4; k++) {
        const a = Math.exp(-1 / taus[k]!);
        assert.equal(est.rate(k, 1), prev[k]! * a + (t % 4 === 0 ? (1 - a) / 0.001 : 0), `exact update, step ${t}, timescale ${k}`);
      }
    }
  }
  // Fast timescales: within the ripple of a periodic train (read just after a period boundary's decay).
  for (const [j, hz] of [[0, 100], [1, 250]] as const) {
    assert.ok(Math.abs(est.rate(1, j) - hz) / hz < 0.05, `τ=200 ms estimate of neuron ${j}: ${est.rate(1, j)} vs ${hz}`);
    assert.ok(Math.abs(est.rate(0, j) - hz) / hz < 0.3, `τ=20 ms estimate of neuron ${j}: ${est.rate(0, j)} vs ${hz}`);
    // Slow ones have filled 1 − e^(−T/τ) of the way from 0.
    for (const k of [2, 3]) {
      const expect = hz * (1 - Math.exp(-T / taus[k]!));
      assert.ok(Math.abs(est.rate(k, j) - expect) / expect < 0.02, `τ=${taus[k]} ms estimate of neuron ${j}: ${est.rate(k, j)} vs ${expect}`);
    }
    assert.ok(est.rate(2, j) > est.rate(3, j) * 10, 'minute estimate moves faster than hour estimate');
  }
});

test('threshold controller: after a 5× input step-up the rate returns to the target; thresholds rise', () => {
  const net = makeNet('threshold', true, timescales(0.05));
  const r = stepUp(net);
  console.log(`threshold controller: target ${TARGET} Hz, before ${r.before.toFixed(1)} Hz, just after 5× step ${r.after.toFixed(1)} Hz, settled ${r.settled.toFixed(1)} Hz`);
  assert.ok(r.before > TARGET / 2 && r.before < TARGET * 2, `at base input the rate is near the target: ${r.before}`);
  assert.ok(r.after > 3 * TARGET, `the step-up raises the rate at first: ${r.after}`);
  assert.ok(Math.abs(r.settled - TARGET) < 0.4 * TARGET, `rate back near target: ${r.settled}`);
  const offsets = lif(net).state.offset;
  const mean = offsets.reduce((a, b) => a + b, 0) / N;
  assert.ok(mean > 1, `thresholds rose to absorb the extra drive: mean offset ${mean}`);
  // The fast estimate follows the rate; the hour estimate has barely left the target it starts at.
  const est = controller(net).estimator;
  assert.ok(Math.abs(est.mean(0) - r.settled) < 0.5 * TARGET, `fast estimate ${est.mean(0)} tracks the rate`);
  assert.ok(est.mean(3) > TARGET && est.mean(3) < TARGET * 1.1, `hour estimate ${est.mean(3)} barely moved`);
  assert.ok(est.mean(2) > est.mean(3), 'minute estimate moved more than hour estimate');
});

test('threshold controller: offset step = Σ gain·(r − target)·dt over all timescales, exactly', () => {
  const ts = timescales(0.05);
  const net = makeNet('threshold', true, ts);
  const rng = new Rng(1);
  drive(net, rng, 300, STEP_HZ);
  const before = lif(net).state.offset.slice();
  drive(net, rng, 1, STEP_HZ);
  const est = controller(net).estimator;
  for (let j = 0; j < N; j++) {
    let u = 0;
    for (let k = 0; k < ts.length; k++) u += ts[k]!.gain * (est.rate(k, j) - TARGET);
    assert.equal(lif(net).state.offset[j], before[j]! + u * 0.001, `neuron ${j}`);
  }
});

test('scaling controller: after a 5× input step-up the rate returns to the target; incoming weights shrink', () => {
  const net = makeNet('scaling', true, timescales(0.05));
  const w0 = net.projection('ff').table!.weightsInUserOrder();
  const r = stepUp(net);
  console.log(`scaling controller: target ${TARGET} Hz, before ${r.before.toFixed(1)} Hz, just after 5× step ${r.after.toFixed(1)} Hz, settled ${r.settled.toFixed(1)} Hz`);
  assert.ok(r.after > 3 * TARGET, `the step-up raises the rate at first: ${r.after}`);
  assert.ok(Math.abs(r.settled - TARGET) < 0.4 * TARGET, `rate back near target: ${r.settled}`);
  const w = net.projection('ff').table!.weightsInUserOrder();
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  assert.ok(sum(w) < 0.5 * sum(w0), `total weight shrank: ${sum(w0)} → ${sum(w)}`);
  for (let s = 0; s < w.length; s++) assert.ok(w[s]! > 0, `weight ${s} stays positive`);
  // Multiplicative: the weights of one neuron keep their ratios.
  const table = net.projection('ff').table!;
  const j = 7;
  const syn = Array.from(table.postSyn.subarray(table.postStart[j]!, table.postStart[j + 1]!));
  const ratios = syn.map((s) => w[table.id[s]!]! / w0[table.id[s]!]!);
  for (const q of ratios) assert.ok(Math.abs(q / ratios[0]! - 1) < 1e-9, `neuron ${j}: one common factor (${ratios[0]} vs ${q})`);
  assert.equal(lif(net).state.offset.every((o) => o === 0), true, 'scaling leaves thresholds alone');
});

test('disabled controllers: estimates run, no control applied; the rate stays high', () => {
  for (const kind of ['threshold', 'scaling'] as const) {
    const net = makeNet(kind, false, timescales(0.05));
    const w0 = net.projection('ff').table!.weightsInUserOrder();
    const r = stepUp(net);
    console.log(`disabled ${kind} controller: before ${r.before.toFixed(1)} Hz, after ${r.after.toFixed(1)} Hz, end ${r.settled.toFixed(1)} Hz`);
    assert.ok(r.settled > 5 * TARGET, `${kind}: without control the rate stays high: ${r.settled}`);
    assert.ok(lif(net).state.offset.every((o) => o === 0), `${kind}: offsets untouched`);
    assert.deepEqual(net.projection('ff').table!.weightsInUserOrder(), w0, `${kind}: weights untouched`);
    const est = controller(net).estimator;
    assert.ok(Math.abs(est.mean(1) - r.settled) < 0.1 * r.settled, `${kind}: the 1 s estimate ${est.mean(1)} follows the rate ${r.settled}`);
  }
});

test('switching homeostasis off mid-run freezes thresholds; on again resumes', () => {
  const net = makeNet('threshold', true, timescales(0.05));
  const rng = new Rng(4);
  drive(net, rng, 500, STEP_HZ);
  net.setHomeostasis(false);
  const frozen = lif(net).state.offset.slice();
  const est0 = controller(net).estimator.r.slice();
  drive(net, rng, 500, STEP_HZ);
  assert.deepEqual(lif(net).state.offset, frozen);
  assert.notDeepEqual(controller(net).estimator.r, est0, 'estimates kept running');
  net.setHomeostasis(true, 'exc');
  drive(net, rng, 100, STEP_HZ);
  assert.notDeepEqual(lif(net).state.offset, frozen);
});

test('threshold controller on logistic units: after a 5× input step-up their spike rate returns to the target', () => {
  // With a controller, logistic units spike when a + b > logit(0.5) + offset; it moves the offset.
  const net = buildNetwork({
    version: 1,
    dt_ms: 1,
    seed: 3,
    populations: [
      { name: 'in', model: 'input', size: N_IN },
      { name: 'exc', model: 'logistic', size: N, threshold: 0.5, bias_init: -3 },
    ],
    projections: [{ name: 'ff', from: 'in', to: 'exc', kind: 'random', p: 0.2, weight: { min: 0.5, max: 1.5 }, delay_steps: { min: 0, max: 3 } }],
    plasticity: [],
    homeostasis: [{ controller: 'threshold', population: 'exc', target_hz: TARGET, enabled: true, timescales: timescales(0.05) }],
  });
  const r = stepUp(net);
  console.log(`logistic threshold controller: target ${TARGET} Hz, before ${r.before.toFixed(1)} Hz, just after 5× step ${r.after.toFixed(1)} Hz, settled ${r.settled.toFixed(1)} Hz`);
  assert.ok(r.before > TARGET / 2 && r.before < TARGET * 2, `at base input the rate is near the target: ${r.before}`);
  assert.ok(r.after > 3 * TARGET, `the step-up raises the rate at first: ${r.after}`);
  assert.ok(Math.abs(r.settled - TARGET) < 0.4 * TARGET, `rate back near target: ${r.settled}`);
  const offset = (net.population('exc') as LogisticPopulationRuntime).state.offset!;
  const mean = offset.reduce((a, b) => a + b, 0) / N;
  assert.ok(mean > 1, `thresholds rose to absorb the extra drive: mean offset ${mean}`);
});

test('logistic populations take only the threshold controller', () => {
  const spec = (controller: string) => ({
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 4 },
      { name: 'out', model: 'logistic', size: 3 },
    ],
    projections: [{ name: 'p', kind: 'dense', from: 'in', to: 'out', weight: { min: 0, max: 1 }, delay_steps: 0 }],
    homeostasis: [{ controller, population: 'out', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.01 }] }],
  });
  assert.throws(() => buildNetwork(spec('scaling')), /homeostasis\[0\]\.controller.*logistic population \('out'\) takes only the 'threshold' controller/);
  // Without a controller the population keeps no offset array (older checkpoints keep their layout).
  const plain = buildNetwork({ ...spec('threshold'), homeostasis: [] });
  assert.equal((plain.population('out') as LogisticPopulationRuntime).state.offset, undefined);
  assert.ok((buildNetwork(spec('threshold')).population('out') as LogisticPopulationRuntime).state.offset);
});

test("the threshold controller's one-pass step equals update + control signal + offset, bit for bit", async () => {
  const { controlSignal, thresholdStep } = await import('../../src/snn/homeostasis/controllers.js');
  for (const ts of [timescales(0.5).slice(0, 2), timescales(0.5).slice(0, 3)]) {
    const n = 300;
    const arena = new StateArena();
    const h = new SpikeHistory(arena, 'p', n, 1);
    const spec = { controller: 'threshold' as const, population: 'p', target_hz: 3, timescales: ts, enabled: true };
    const fused = new RateEstimator(arena, 'fused', n, ts.map((s) => s.tau_ms), 1, 3);
    const plain = new RateEstimator(arena, 'plain', n, ts.map((s) => s.tau_ms), 1, 3);
    const gains = Float64Array.from(ts, (s) => s.gain);
    const offFused = new Float64Array(n);
    const offPlain = new Float64Array(n);
    const u = new Float64Array(n);
    const r = new Rng(11, 2);
    for (let t = 0; t < 400; t++) {
      const at = h.begin(t);
      let k = 0;
      for (let j = 0; j < n; j++) if (r.uniform() < 0.05) h.lists[at + k++] = j;
      h.setCount(t, k);
      assert.equal(thresholdStep(fused, h, t, spec.target_hz, gains, 0.001, offFused), true);
      plain.update(h, t);
      controlSignal(plain, spec, 0.001, u);
      for (let j = 0; j < n; j++) offPlain[j] = offPlain[j]! + u[j]!;
    }
    assert.deepEqual(Array.from(fused.r), Array.from(plain.r), `${ts.length} timescales: estimates`);
    assert.deepEqual(Array.from(offFused), Array.from(offPlain), `${ts.length} timescales: offsets`);
    assert.ok(offFused.some((x) => x !== 0));
    // Not ascending: refused, nothing changed (the caller takes the general path).
    const at = h.begin(400);
    h.lists.set([5, 3], at);
    h.setCount(400, 2);
    const before = fused.r.slice();
    assert.equal(thresholdStep(fused, h, 400, spec.target_hz, gains, 0.001, offFused), false);
    assert.deepEqual(Array.from(fused.r), Array.from(before));
  }
});
