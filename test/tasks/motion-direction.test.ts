/**
 * Motion direction (Grimaldi & Perrinet 2023) at test scale: 4 directions at one speed on a 32×32
 * emulated DVS, a 7×7 × 8-delay kernel trained online on seeded texture segments, scored on
 * held-out seeds (new texture, new pixel mismatch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyMotionParameters, createMotionModel, gradualKeep, motionClasses, motionDirectionNetwork, motionDirectionPreset, motionEmulatorConfig, nonZeroWeights, pruneMotionGradually, pruneMotionKernel, runMotion, snapshotMotion, trainMotion } from '../../src/tasks/motion-direction.js';
import { networkPreset } from '../../src/runtime/registry.js';
import '../../src/tasks/motion-direction-preset.js';
import { validateSpec } from '../../src/snn/validate.js';
import { createEmulator } from '../../src/emulator/index.js';

const SMALL = { directions: 4, speeds: [200], delays: 8 } as const;

test('class mapping: (direction, speed) ↔ index round trip, in the emulator’s order', () => {
  const cls = motionClasses(12, [100, 200, 400]);
  assert.equal(cls.count, 36);
  for (const c of cls.list) {
    assert.equal(cls.indexOf(c.direction_deg, c.speed_px_s), c.index);
    assert.equal(cls.of(c.index), c);
  }
  assert.equal(cls.indexOf(360 + 30, 200), cls.indexOf(30, 200), 'directions wrap modulo 360°');
  assert.equal(cls.indexOf(-30, 100), cls.indexOf(330, 100));
  assert.equal(new Set(cls.names).size, 36);
  assert.throws(() => cls.indexOf(15, 100), /not on the 12-direction grid/);
  assert.throws(() => cls.indexOf(30, 150), /speed 150/);
  assert.throws(() => cls.of(36), /out of range/);
  // The emulator's own class_index agrees with the mapping on every segment.
  const emu = createEmulator(motionEmulatorConfig({ size: 16, stepUs: 2000, segmentSteps: 12 }, 5, 36));
  let seen = 0;
  for (let s = emu.step(); s; s = emu.step()) {
    if (!s.startsSegment) continue;
    assert.equal(cls.indexOf(s.label.direction_deg, s.label.speed_px_s), s.label.class_index);
    seen++;
  }
  assert.equal(seen, 36);
});

test('the spec validates: input [2, H, W] → conv (classes × 2 × D × K × K) → logistic [classes, OH, OW]', () => {
  const spec = validateSpec(motionDirectionNetwork({ size: 32, kernelSize: 7, stride: 2, delays: 10, prune: { keep: 100, every_steps: 50 } }));
  assert.deepEqual(spec.populations[0]!.shape, [2, 32, 32]);
  assert.deepEqual(spec.populations[1]!.shape, [36, 13, 13]);
  const m = createMotionModel({ size: 32, kernelSize: 7, stride: 2, delays: 10 });
  assert.equal(m.kernel.length, 36 * 2 * 10 * 7 * 7);
});

test('learns 4 directions far above chance on held-out seeds; learning off changes nothing; pruning keeps `keep` weights', () => {
  const m = createMotionModel(SMALL);
  trainMotion(m, { seeds: [101, 102, 103], rounds: 6 });
  const restore = snapshotMotion(m);
  const w = m.kernel.slice();
  const b = m.output.state.bias.slice();
  const ev = runMotion(m, { seeds: [901, 902], rounds: 3, learn: false, segmentSteps: 40 });
  console.log(`# 4 directions: held-out accuracy ${ev.accuracy} over ${ev.segments.length} segments (chance 0.25)`);
  assert.ok(ev.accuracy >= 0.75, `held-out accuracy ${ev.accuracy}`);
  assert.deepEqual(m.kernel, w, 'no weight changes with learning off');
  assert.deepEqual(m.output.state.bias, b, 'no bias changes with learning off');
  pruneMotionKernel(m, 50);
  assert.equal(nonZeroWeights(m), 50);
  restore();
  pruneMotionKernel(m, 50, true);
  assert.equal(nonZeroWeights(m), 48, '⌊50 / 4⌋ per class');
  const block = m.kernel.length / 4;
  for (let c = 0; c < 4; c++) assert.equal(m.kernel.subarray(c * block, (c + 1) * block).filter((v) => v !== 0).length, 12);
  restore();
  assert.deepEqual(m.kernel, w);
});

test("the 'motion-direction' pipeline preset builds the same spec as the builder and refuses bad params", () => {
  const pr = networkPreset('motion-direction');
  assert.ok(pr, 'registered on import of src/tasks/motion-direction-preset.ts');
  const params = { size: 24, directions: 8, speeds: [150], kernelSize: 5, delays: 6, optimizer: 'adam', prune: { keep: 40, every_steps: 100 } };
  assert.deepEqual(pr.build(params), motionDirectionNetwork(params as Parameters<typeof motionDirectionNetwork>[0]));
  validateSpec(pr.build({}));
  assert.throws(() => motionDirectionPreset({ sise: 32 }), /sise: unknown parameter/);
  assert.throws(() => motionDirectionPreset({ delays: 2.5 }), /delays: must be a positive integer/);
  assert.throws(() => motionDirectionPreset({ speeds: [] }), /speeds: must be a non-empty array/);
  assert.throws(() => motionDirectionPreset({ optimizer: 'rmsprop' }), /optimizer: must be 'sgd' or 'adam'/);
});

test('gradual pruning: the cubic schedule runs from all to keep; the kept weights are per class, masked, and stay so', () => {
  assert.equal(gradualKeep(1000, 100, 0, 10), 1000);
  assert.equal(gradualKeep(1000, 100, 10, 10), 100);
  assert.equal(gradualKeep(1000, 100, 20, 10), 100);
  for (let k = 1; k <= 10; k++) assert.ok(gradualKeep(1000, 100, k, 10) <= gradualKeep(1000, 100, k - 1, 10));
  assert.equal(gradualKeep(1000, 100, 5, 10), Math.round(100 + 900 / 8));

  const m = createMotionModel(SMALL);
  trainMotion(m, { seeds: [101], rounds: 4 });
  const other = createMotionModel(SMALL);
  copyMotionParameters(m, other);
  assert.deepEqual(other.kernel, m.kernel);
  let calls = 0;
  const runs = pruneMotionGradually(m, { keep: 200, seeds: [301, 302], rounds: 2, onSeed: () => calls++ });
  assert.equal(runs.length, 2);
  assert.equal(calls, 2);
  assert.equal(nonZeroWeights(m), 200, '50 per class');
  const block = m.kernel.length / 4;
  for (let c = 0; c < 4; c++) assert.equal(m.kernel.subarray(c * block, (c + 1) * block).filter((v) => v !== 0).length, 50);
  let masked = 0;
  for (let i = 0; i < m.kernel.length; i++) if (m.readout.mask[i]) { masked++; assert.equal(m.kernel[i], 0); }
  assert.equal(masked, m.kernel.length - 200);
  const ev = runMotion(m, { seeds: [901], rounds: 2, learn: false, segmentSteps: 40 });
  console.log(`# 4 directions, 200 of ${m.kernel.length} weights after gradual pruning: held-out accuracy ${ev.accuracy} (one-shot pruning to 200: 0.25)`);
  assert.ok(ev.accuracy >= 0.5, `held-out accuracy ${ev.accuracy} after gradual pruning`);
  // Further learning leaves the pruned entries at zero.
  runMotion(m, { seeds: [303], rounds: 1, learn: true });
  assert.equal(nonZeroWeights(m), 200);
});
