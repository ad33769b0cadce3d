// The WASM logistic kernels (threshold and prediction, with σ through the module's port of fdlibm's
// exp) against the TypeScript reference: e^x equal to Math.exp bit for bit, and on the motion
// network with homeostasis every step's probabilities, spikes and predictions identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { wasmBackend, wasmExp, wasmKernelCalls } from '../../src/snn/backends/wasm.js';
import { INPUT, OUTPUT, motionDirectionNetwork } from '../../src/tasks/motion-direction.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import { Rng } from '../../src/emulator/rng.js';

test('the module’s e^x equals Math.exp bit for bit (every range fdlibm reduces differently, and the specials)', () => {
  const exp = wasmExp();
  const r = new Rng(11, 1);
  let checked = 0;
  // 2^−30 (the 1 + x branch), |x| < ln2/2 (k = 0), < 1.5 ln2 (k = ±1), the general reduction,
  // and past the overflow and underflow thresholds and the subnormal results below −708.
  for (const scale of [1e-9, 0.3, 1, 5, 40, 300, 709, 746, 760]) {
    for (let i = 0; i < 200_000; i++) {
      const x = (2 * r.uniform() - 1) * scale;
      const want = Math.exp(x);
      const got = exp(x);
      if (!Object.is(got, want)) assert.fail(`e^${x}: module ${got}, Math.exp ${want}`);
      checked++;
    }
  }
  // Every multiple of 1/64 in [−20, 20] (σ's working range, where round arguments are common).
  for (let i = -1280; i <= 1280; i++) assert.ok(Object.is(exp(i / 64), Math.exp(i / 64)), `e^${i / 64}`);
  for (const x of [0, -0, 1, -1, Infinity, -Infinity, Number.NaN, 709.782712893384, 709.79, -745.1332191019411, -745.14, -708.5, -1021 * Math.LN2, 0.5 * Math.LN2, 1.5 * Math.LN2, 2 ** -28, -(2 ** -28), Number.MIN_VALUE]) {
    assert.ok(Object.is(exp(x), Math.exp(x)), `e^${x}: module ${exp(x)}, Math.exp ${Math.exp(x)}`);
  }
  assert.equal(checked, 1_800_000);
});

test('wasm σ (pairs in SIMD, the rest scalar) = the reference sigmoid bit for bit over [−40, 40], memo or not', () => {
  const spec = motionDirectionNetwork({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2 });
  const ref = buildNetwork(spec, { backend: cpuBackend }).population(OUTPUT) as LogisticPopulationRuntime;
  const fast = buildNetwork(spec, { backend: wasmBackend() }).population(OUTPUT) as LogisticPopulationRuntime;
  const r = new Rng(3, 4);
  const before = wasmKernelCalls.reference;
  for (let round = 0; round < 40; round++) {
    // Mixed pairs: both lanes in the SIMD range, one or neither (|x| < 1.04 or ≥ 700, NaN, ±∞).
    for (let j = 0; j < ref.size; j++) {
      const u = r.uniform();
      const v = u < 0.01 ? [Number.NaN, Infinity, -Infinity, 800, -800, 1, -1, 0][j % 8]! : (2 * r.uniform() - 1) * (u < 0.3 ? 1.2 : 40);
      ref.state.a[j] = fast.state.a[j] = v;
    }
    assert.deepEqual(Array.from(fast.predict()), Array.from(ref.predict()), `predictions differ in round ${round}`);
    // Change some biases: the threshold takes the rest from the memo and computes these again.
    for (let j = round % 7; j < ref.size; j += 7) ref.state.bias[j] = fast.state.bias[j] = ref.state.bias[j]! + 0.25;
    const count = fast.threshold(round);
    assert.equal(ref.threshold(round), count);
    assert.deepEqual(Array.from(fast.p), Array.from(ref.p), `probabilities differ in round ${round}`);
  }
  assert.equal(wasmKernelCalls.reference, before, 'no call fell back to the reference');
});

test('wasm σ over populations of every size mod 4 (groups of four, a pair, a last unit) = reference', () => {
  const before = wasmKernelCalls.reference;
  for (let size = 1; size <= 11; size++) {
    const spec = {
      dt_ms: 1,
      seed: 1,
      populations: [
        { name: 'in', model: 'input', size: 3 },
        { name: 'out', model: 'logistic', size, bias_init: -1 },
      ],
      projections: [{ name: 'd', kind: 'dense', from: 'in', to: 'out', weight: 0.1 }],
    };
    const ref = buildNetwork(spec, { backend: cpuBackend }).population('out') as LogisticPopulationRuntime;
    const fast = buildNetwork(spec, { backend: wasmBackend() }).population('out') as LogisticPopulationRuntime;
    const r = new Rng(size, 5);
    for (let round = 0; round < 20; round++) {
      for (let j = 0; j < size; j++) ref.state.a[j] = fast.state.a[j] = (2 * r.uniform() - 1) * (round % 2 ? 2 : 30);
      assert.deepEqual(Array.from(fast.predict()), Array.from(ref.predict()), `size ${size}, round ${round}`);
    }
  }
  assert.equal(wasmKernelCalls.reference, before, 'no call fell back to the reference');
});

// Homeostasis as the main job runs it: two timescales (the WASM step), with a high target so the
// offsets move both ways and spikes fall in and between SIMD pairs.
for (const homeostasis of [false, true]) {
  test(`motion network${homeostasis ? ' with two-timescale threshold homeostasis' : ''}: wasm logistic threshold, prediction and homeostasis = reference bit for bit`, () => {
    const spec = motionDirectionNetwork({
      size: 16,
      directions: 4,
      speeds: [100, 200],
      delays: 6,
      kernelSize: 5,
      stride: 2,
      optimizer: 'sgd',
      learningRate: 0.05,
      ...(homeostasis ? { homeostasis: { target_hz: 20, timescales: [{ tau_ms: 50, gain: 0.5 }, { tau_ms: 400, gain: 0.05 }] } } : {}),
    });
    const ref = buildNetwork(spec, { backend: cpuBackend });
    const fast = buildNetwork(spec, { backend: wasmBackend() });
    const refOut = ref.population(OUTPUT) as LogisticPopulationRuntime;
    const fastOut = fast.population(OUTPUT) as LogisticPopulationRuntime;
    const classes = (refOut.spec.shape as number[])[0]!;
    const before = { ...wasmKernelCalls };
    const r = new Rng(5, 2);
    let spikes = 0;
    for (let t = 0; t < 150; t++) {
      const input: number[] = [];
      for (let i = 0; i < ref.population(INPUT).size; i++) if (r.uniform() < 0.04) input.push(i);
      const per = refOut.size / classes;
      const truth = Math.floor(r.uniform() * classes);
      const label = Array.from({ length: refOut.size }, (_, o) => (r.uniform() < 0.2 ? (Math.floor(o / per) === truth ? 1 : 0) : Number.NaN));
      const signals: Record<string, number[]> = t % 4 === 3 ? {} : { label };
      const step = { spikes: { [INPUT]: input }, signals };
      ref.step(step);
      fast.step(step);
      assert.deepEqual(Array.from(fastOut.p), Array.from(refOut.p), `probabilities differ at step ${t}`);
      assert.deepEqual(Array.from(fast.spikes(OUTPUT)), Array.from(ref.spikes(OUTPUT)), `spikes differ at step ${t}`);
      spikes += ref.spikes(OUTPUT).length;
      // Predictions on most steps (the next threshold then takes σ from the memo where a and b held).
      if (t % 5 !== 4) assert.deepEqual(Array.from(fastOut.predict()), Array.from(refOut.predict()), `predictions differ at step ${t}`);
    }
    for (const slot of ref.arena.layout) assert.deepEqual(Array.from(fast.arena.get(slot.name)), Array.from(ref.arena.get(slot.name)), `arena array '${slot.name}' differs`);
    assert.equal(wasmKernelCalls.reference, before.reference, 'no call fell back to the reference');
    assert.ok(wasmKernelCalls.wasm - before.wasm >= 150 * 2 + 120, `WASM calls: ${wasmKernelCalls.wasm - before.wasm}`);
    assert.ok(spikes > 0, 'the class maps spiked');
    if (homeostasis) assert.ok((refOut.state.offset ?? new Float64Array()).some((o) => o !== 0), 'the controller moved the offsets');
  });
}
