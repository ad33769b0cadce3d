/**
 * Homeostasis and the supervised readout on the WebGPU backend against the CPU reference, on the
 * software Vulkan adapter (see webgpu.test.ts). Each case runs in its own child process
 * (test/snn/webgpu/learning-cases.ts) and stays under ~600 dispatches.
 *
 * Tolerances: GPU state is f32, the CPU's f64. Spikes must be identical on these cases; rate
 * estimates, threshold offsets and scaled weights agree to f32 rounding (relative ~1e-6). The
 * logistic input is summed in the same 2^−16 fixed point as the LIF input, so a readout's
 * activations differ from the CPU's by up to (arrivals)·2^−17 and its trained weights by ~1e-5.
 * Pruning ranks |w| in f32: weights closer than f32 rounding could rank differently (none do here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpuChild } from '../helpers/lavapipe.js';

function learningCase(name: string): any {
  const out = gpuChild('learning-cases.ts', [name]);
  assert.match(out.adapter, /llvmpipe|lavapipe/);
  return out;
}

/** Same spikes at every step of every instance. */
function sameSpikes(r: any): void {
  assert.ok(r.cpuSpikes >= 100, `only ${r.cpuSpikes} spikes: too quiet to compare`);
  assert.equal(r.firstDiff, '');
  assert.equal(r.identicalSteps, r.comparedSteps);
}

test('webgpu homeostasis, threshold controller on two timescales, 2 instances: same spikes, offsets and rate estimates within f32 rounding, rate pulled toward target', () => {
  const r = learningCase('homeo-threshold');
  sameSpikes(r);
  assert.ok(r.maxOffset > 1, `offsets barely moved (${r.maxOffset})`);
  assert.ok(r.maxOffsetDiff < 1e-5 * r.maxOffset, `offsets differ by ${r.maxOffsetDiff}`);
  assert.ok(r.maxRateDiff < 1e-3, `rate estimates differ by ${r.maxRateDiff} Hz`);
  // Driven at ~60 Hz against a 20 Hz target: the controller brings it to within a few Hz.
  assert.ok(r.rateFirst.gpu > 50 && Math.abs(r.rateLast.gpu - 20) < 5, `rate ${r.rateFirst.gpu} → ${r.rateLast.gpu} Hz`);
});

test('webgpu homeostasis, synaptic scaling switched off between chunks: same spikes, weights within 1e-6, rate pulled toward target', () => {
  const r = learningCase('homeo-scaling');
  sameSpikes(r);
  assert.equal(r.weightsChangedOnCpu, 800, 'scaling moved every weight of both instances');
  assert.equal(r.movedAfterHomeoOff, 0);
  // Equal weights at the end mean the GPU stopped scaling when switched off too.
  assert.ok(r.maxWeightDiff < 1e-6, `weights differ by ${r.maxWeightDiff}`);
  assert.ok(r.maxRateDiff < 1e-3, `rate estimates differ by ${r.maxRateDiff} Hz`);
  assert.ok(Math.abs(r.rateLast.gpu - 20) < Math.abs(r.rateFirst.gpu - 20) / 3, `rate ${r.rateFirst.gpu} → ${r.rateLast.gpu} Hz`);
});

test('webgpu readout (Adam, delay 0, unlabelled NaN targets, learning switched off between chunks): learns the separable toy task as the CPU does', () => {
  const r = learningCase('readout-adam');
  sameSpikes(r);
  assert.equal(r.weightsChangedOnCpu, 80);
  assert.ok(r.maxWeightDiff < 2e-5, `weights differ by ${r.maxWeightDiff}`);
  assert.ok(r.maxBiasDiff < 2e-5, `biases differ by ${r.maxBiasDiff}`);
  assert.ok(r.accuracy.gpu >= 0.95 && r.accuracy.gpu > r.accuracyFirst.gpu + 0.15, `accuracy ${r.accuracyFirst.gpu} → ${r.accuracy.gpu}`);
  assert.equal(r.accuracy.gpu, r.accuracy.cpu);
  assert.match(r.badLabel, /^step 80, instance 0: readout 'ro': class index 7 out of range \[0, 2\) \(t 80 → 80\)$/);
});

test('webgpu readout (SGD, delays 0–2: the gradient goes to the synapses that delivered): same spikes and weights as the CPU, task learnt', () => {
  const r = learningCase('readout-sgd');
  sameSpikes(r);
  assert.equal(r.weightsChangedOnCpu, 80);
  assert.ok(r.maxWeightDiff < 2e-5, `weights differ by ${r.maxWeightDiff}`);
  assert.ok(r.maxBiasDiff < 2e-5, `biases differ by ${r.maxBiasDiff}`);
  assert.ok(r.accuracy.gpu >= 0.85, `accuracy ${r.accuracy.gpu}`);
  assert.equal(r.accuracy.gpu, r.accuracy.cpu);
});

test('webgpu readout with magnitude pruning (keep 16 of 40 every 20 steps): the GPU prunes the same synapses as the CPU and still learns', () => {
  const r = learningCase('readout-prune');
  sameSpikes(r);
  assert.deepEqual(r.zeroWeights, { cpu: 48, gpu: 48, differ: 0 }, '24 of 40 pruned in each of 2 instances, the same ones');
  assert.ok(r.maxWeightDiff < 2e-5, `weights differ by ${r.maxWeightDiff}`);
  assert.ok(r.accuracy.gpu >= 0.85 && r.accuracy.gpu > r.accuracyFirst.gpu, `accuracy ${r.accuracyFirst.gpu} → ${r.accuracy.gpu}`);
  assert.equal(r.accuracy.gpu, r.accuracy.cpu);
});
