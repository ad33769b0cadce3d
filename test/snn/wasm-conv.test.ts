// The WASM conv kernels (delivery and the readout's gradient) against the TypeScript reference, on
// the motion-direction network: every step's probabilities and spikes, and at the end every byte of
// the state arena (kernel, biases, Adam moments, pruning mask), must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { wasmBackend, wasmKernelCalls } from '../../src/snn/backends/wasm.js';
import { INPUT, KERNEL, OUTPUT, motionDirectionNetwork } from '../../src/tasks/motion-direction.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import { Rng } from '../../src/emulator/rng.js';
import { pruneWeights, type ReadoutRuntime } from '../../src/snn/plasticity/readout.js';

const wasm = wasmBackend();

function runBoth(spec: unknown, steps: number, seed: number): { ref: Network; fast: Network } {
  const ref = buildNetwork(spec, { backend: cpuBackend });
  const fast = buildNetwork(spec, { backend: wasm });
  const input = ref.population(INPUT);
  const out = ref.population(OUTPUT) as LogisticPopulationRuntime;
  const classes = (out.spec.shape as number[])[0]!;
  const r = new Rng(seed, 3);
  for (let t = 0; t < steps; t++) {
    const spikes: number[] = [];
    for (let i = 0; i < input.size; i++) if (r.uniform() < 0.03) spikes.push(i);
    // Labels as the pipeline gives them: one target per output unit, NaN (unlabelled) at most positions.
    let label: number[] | undefined;
    if (t % 3 !== 2) {
      const truth = Math.floor(r.uniform() * classes);
      const per = out.size / classes;
      label = Array.from({ length: out.size }, (_, o) => (r.uniform() < 0.2 ? (Math.floor(o / per) === truth ? 1 : 0) : Number.NaN));
    }
    const signals: Record<string, number[]> = label ? { label } : {};
    const step = { spikes: { [INPUT]: spikes }, signals };
    ref.step(step);
    fast.step(step);
    const a = (ref.population(OUTPUT) as LogisticPopulationRuntime).p;
    const b = (fast.population(OUTPUT) as LogisticPopulationRuntime).p;
    assert.deepEqual(Array.from(b), Array.from(a), `probabilities differ at step ${t}`);
    assert.deepEqual(Array.from(fast.spikes(OUTPUT)), Array.from(ref.spikes(OUTPUT)), `spikes differ at step ${t}`);
  }
  for (const slot of ref.arena.layout) assert.deepEqual(Array.from(fast.arena.get(slot.name)), Array.from(ref.arena.get(slot.name)), `arena array '${slot.name}' differs`);
  return { ref, fast };
}

for (const optimizer of ['adam', 'sgd'] as const) {
  test(`motion network (${optimizer}): wasm conv delivery and gradient = reference bit for bit`, () => {
    const before = { ...wasmKernelCalls };
    const spec = motionDirectionNetwork({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2, optimizer, learningRate: 0.05 });
    const { ref } = runBoth(spec, 120, optimizer === 'adam' ? 1 : 2);
    assert.equal(wasmKernelCalls.reference, before.reference, 'no call fell back to the reference');
    // 120 deliveries and ~80 gradients ran in WASM, besides the LIF-free rest.
    assert.ok(wasmKernelCalls.wasm - before.wasm >= 120 + 80, `WASM calls: ${wasmKernelCalls.wasm - before.wasm}`);
    // The kernel learned (so equal kernels are not equal initial draws).
    const w = (ref.projection(KERNEL) as unknown as { kernel: { weight: Float64Array } }).kernel.weight;
    const w0 = (buildNetwork(spec, { backend: cpuBackend }).projection(KERNEL) as unknown as { kernel: { weight: Float64Array } }).kernel.weight;
    let moved = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== w0[i]) moved++;
    assert.ok(moved > w.length / 4, `${moved} of ${w.length} kernel entries moved`);
  });
}

// Other strides and kernel sides: delivery adds each kernel row as one run, two outputs at a time,
// with odd and even run lengths and runs of one.
for (const [kernelSize, stride] of [[4, 1], [5, 3], [3, 2], [7, 4]] as const) {
  test(`conv kernel ${kernelSize}x${kernelSize}, stride ${stride}: wasm delivery and gradient = reference bit for bit`, () => {
    const before = wasmKernelCalls.reference;
    runBoth(motionDirectionNetwork({ size: 15, directions: 4, speeds: [100, 200], delays: 4, kernelSize, stride, optimizer: 'sgd', learningRate: 0.05 }), 60, kernelSize * 10 + stride);
    assert.equal(wasmKernelCalls.reference, before, 'no call fell back to the reference');
  });
}

test('motion network with pruning: masked entries get no gradient in wasm either', () => {
  const spec = motionDirectionNetwork({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2, prune: { keep: 300, every_steps: 40 } });
  const { fast } = runBoth(spec, 130, 3);
  const w = (fast.projection(KERNEL) as unknown as { kernel: { weight: Float64Array } }).kernel.weight;
  const nonZero = w.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);
  assert.ok(nonZero <= 300, `${nonZero} non-zero entries after pruning to 300`);
});

test('motion network pruned from outside (no prune spec): masked entries get no gradient in wasm either', () => {
  const spec = motionDirectionNetwork({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2 });
  const ref = buildNetwork(spec, { backend: cpuBackend });
  const fast = buildNetwork(spec, { backend: wasm });
  for (const n of [ref, fast]) {
    const ro = n.rules[0] as ReadoutRuntime;
    pruneWeights(ro.weight, ro.mask, 200);
  }
  const before = wasmKernelCalls.reference;
  const r = new Rng(4, 3);
  for (let t = 0; t < 100; t++) {
    const spikes = Array.from({ length: 512 }, (_, i) => i).filter(() => r.uniform() < 0.03);
    const step = { spikes: { [INPUT]: spikes }, signals: { label: Math.floor(r.uniform() * 8) } };
    ref.step(step);
    fast.step(step);
  }
  assert.equal(wasmKernelCalls.reference, before, 'the scratch mask is in reach of the kernels');
  const w = (fast.rules[0] as ReadoutRuntime).weight;
  assert.deepEqual(Array.from(w), Array.from((ref.rules[0] as ReadoutRuntime).weight));
  assert.equal(w.filter((x) => x !== 0).length, 200);
});
