// A conv projection with per_channel weights (one weight per output channel for all its taps) is
// the same as a full conv whose kernel holds that weight at every tap; its readout gradient is the
// full kernel's gradient summed per channel. And centreMotionKernel moves each class kernel's mean
// into such a count term without changing what the network computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { wasmBackend } from '../../src/snn/backends/wasm.js';
import { validateSpec } from '../../src/snn/validate.js';
import type { NetworkSpec } from '../../src/snn/spec.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import { convGradient, type ConvProjectionRuntime } from '../../src/snn/projections/conv.js';
import { centreMotionKernel, createMotionModel, nonZeroWeights, runMotion, INPUT, OUTPUT, COUNT_TERM, KERNEL } from '../../src/tasks/motion-direction.js';
import { Rng } from '../../src/emulator/rng.js';

const C = 3;
const spec = (perChannel: boolean): NetworkSpec =>
  validateSpec({
    version: 1,
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 2 * 12 * 12, shape: [2, 12, 12] },
      { name: 'out', model: 'logistic', size: C * 4 * 4, shape: [C, 4, 4], threshold: 0.5, bias_init: 0 },
    ],
    projections: [
      perChannel
        ? { name: 'k', kind: 'conv', from: 'in', to: 'out', kernel_size: 6, delays: 4, stride: 2, weight: [0.5, -0.25, 0.125], per_channel: true }
        : { name: 'k', kind: 'conv', from: 'in', to: 'out', kernel_size: 6, delays: 4, stride: 2, weight: Array.from({ length: C * 2 * 4 * 36 }, (_, i) => [0.5, -0.25, 0.125][Math.floor(i / (2 * 4 * 36))]!) },
    ],
  });

test('per_channel conv: C weights, the same activations (up to rounding) and spikes as a full kernel holding them, and the gradient summed per channel', () => {
  for (const backend of [cpuBackend, wasmBackend()]) {
    const tied = buildNetwork(spec(true), { backend });
    const full = buildNetwork(spec(false), { backend });
    assert.equal((tied.projection('k') as ConvProjectionRuntime).kernel.weight.length, C);
    const r = new Rng(4, 4);
    const input = tied.population('in');
    for (let t = 0; t < 30; t++) {
      const spikes: number[] = [];
      for (let i = 0; i < input.size; i++) if (r.uniform() < 0.08) spikes.push(i);
      tied.step({ spikes: { in: spikes } });
      full.step({ spikes: { in: spikes } });
      const a = (tied.population('out') as LogisticPopulationRuntime).predict();
      const b = (full.population('out') as LogisticPopulationRuntime).predict();
      // W[c] × count against the count's taps added one by one: equal up to rounding.
      for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j]! - b[j]!) < 1e-12, `probability ${j} at step ${t}: ${a[j]} vs ${b[j]}`);
      assert.deepEqual(Array.from(tied.spikes('out')), Array.from(full.spikes('out')), `spikes at step ${t}`);
      assert.ok(a.some((p) => p !== 0.5), 'input arrived');
    }
    // The readout gradient: the full kernel's per-entry sums, added up per channel.
    const gt = (tied.projection('k') as ConvProjectionRuntime).kernel;
    const gf = (full.projection('k') as ConvProjectionRuntime).kernel;
    const e = Float64Array.from({ length: C * 16 }, () => r.uniform() - 0.5);
    const run = (g: typeof gt) => {
      const grad = new Float64Array(g.weight.length);
      const nt = convGradient(g, tied.population('in').history, tied.t - 1, e, undefined, grad, new Int32Array(g.weight.length), new Uint8Array(g.weight.length));
      return { grad, nt };
    };
    const t1 = run(gt);
    const f1 = run(gf);
    assert.equal(t1.nt, C);
    const block = gf.weight.length / C;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = 0; i < block; i++) sum += f1.grad[c * block + i]!;
      assert.ok(Math.abs(t1.grad[c]! - sum) < 1e-9 * Math.max(1, Math.abs(sum)), `channel ${c}: ${t1.grad[c]} vs ${sum}`);
    }
  }
});

test('per_channel: the spec takes C weights and refuses a kernel-sized list or a non-boolean', () => {
  const s = spec(true) as unknown as { projections: Record<string, unknown>[] };
  assert.throws(() => validateSpec({ ...s, projections: [{ ...s.projections[0], weight: new Array(C * 2 * 4 * 36).fill(0) }] }), /weight/);
  assert.throws(() => validateSpec({ ...s, projections: [{ ...s.projections[0], per_channel: 'yes' }] }), /per_channel: must be true or false/);
});

test('centreMotionKernel: the count term takes each class mean, the scores stay, pruning then keeps deviations', () => {
  const model = createMotionModel({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2, countTerm: true }, wasmBackend());
  assert.equal(model.count.length, 8);
  assert.equal(model.net.projection(COUNT_TERM).spec.kind, 'conv');
  runMotion(model, { seeds: [1000], rounds: 1, learn: true });
  const before = runMotion(model, { seeds: [9000], rounds: 1, learn: false });
  const w = model.kernel.slice();
  centreMotionKernel(model);
  const block = model.kernel.length / 8;
  for (let c = 0; c < 8; c++) {
    let sum = 0;
    for (let i = 0; i < block; i++) sum += model.kernel[c * block + i]!;
    assert.ok(Math.abs(sum) < 1e-9, `class ${c} kernel sums to ${sum} after centring`);
    assert.ok(Math.abs(model.count[c]! + model.kernel[c * block]! - w[c * block]!) < 1e-12, 'mean + deviation = the weight');
  }
  const after = runMotion(model, { seeds: [9000], rounds: 1, learn: false });
  assert.deepEqual(after.segments.map((s) => s.predicted), before.segments.map((s) => s.predicted), 'the same decisions');
  assert.equal(nonZeroWeights(model), model.kernel.length + 8);
  assert.throws(() => centreMotionKernel(createMotionModel({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5 })), /no count term/);
  assert.ok(model.net.projection(KERNEL) && model.net.population(INPUT) && model.net.population(OUTPUT));
});
