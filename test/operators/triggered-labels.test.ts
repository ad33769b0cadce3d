/** Spike-triggered labels for a conv readout, the label timeline, and decide's aligned windows over probabilities. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from 'rxjs';
import { triggeredLabels } from '../../operators/triggered-labels.js';
import { decide } from '../../operators/decide.js';
import { snn, type SnnStep } from '../../operators/snn.js';
import type { StepBatch } from '../../operators/bin-steps.js';
import { convCentres } from '../../src/snn/projections/conv-centres.js';
import { LabelTimeline, type TruthLabel } from '../../src/runtime/label-timeline.js';
import { buildNetwork } from '../../src/snn/network.js';
import type { Decision } from '../../src/wire/messages.js';

test('convCentres: each output position owns its stride × stride central pixels, and no pixel belongs to two', () => {
  const { positionOf, outWidth, outHeight } = convCentres(11, 9, 3, 2);
  assert.deepEqual([outWidth, outHeight], [5, 4]);
  const owned = new Map<number, number[]>();
  positionOf.forEach((q, px) => q >= 0 && owned.set(q, [...(owned.get(q) ?? []), px]));
  assert.equal(owned.size, 20);
  // Position (oy 1, ox 2): receptive field rows 2..4, cols 4..6; centre block rows 3..4, cols 5..6.
  assert.deepEqual(owned.get(1 * 5 + 2), [3 * 11 + 5, 3 * 11 + 6, 4 * 11 + 5, 4 * 11 + 6]);
  assert.equal(positionOf[0], -1, 'a corner pixel is no centre');
  assert.throws(() => convCentres(4, 4, 5, 1), /kernel 5 exceeds the 4×4 input/);
});

test('LabelTimeline: the label in force at a time, not the latest one', () => {
  const t = new LabelTimeline(2);
  assert.equal(t.at(0), undefined);
  t.push({ classIndex: 3, tStartUs: 0 });
  t.push({ classIndex: 7, tStartUs: 48_000 });
  assert.equal(t.at(47_999)!.classIndex, 3);
  assert.equal(t.at(48_000)!.classIndex, 7);
  t.push({ classIndex: 1, tStartUs: 96_000 });
  assert.equal(t.at(10), undefined, 'bounded: the oldest label is forgotten');
  assert.deepEqual(t.at(100_000), { classIndex: 1, tStartUs: 96_000 });
});

// A 6×6 sensor, 2 polarity planes, kernel 2 stride 2 → 3×3 positions; pixel (x, y) is index y·6 + x
// (+36 for ON). Positions' centre blocks are the 2×2 blocks themselves (half = 1, so shifted by 1).
const W = 6;
const step = (k: number, pixels: [number, number, number][]): StepBatch => {
  const active = Uint32Array.from(pixels.map(([x, y, p]) => p * W * W + y * W + x).sort((a, b) => a - b));
  return { step: k, tStartUs: k * 2000, dtUs: 2000, size: 2 * W * W, shape: [2, W, W], active, counts: active.map(() => 1), events: active.length, late: 0 };
};

test('triggeredLabels: targets at the triggered positions only (1 on the true class map), unlabelled during warm-up, class by the step’s own time', () => {
  const labels = new Subject<TruthLabel>();
  const steps = new Subject<StepBatch>();
  const got: StepBatch[] = [];
  const seen: (number[] | undefined)[] = [];
  steps.pipe(triggeredLabels({ labels, classes: 2, kernelSize: 2, stride: 2, warmupSteps: 1 })).subscribe((b) => {
    got.push(b);
    // The target is reused from step to step: read it now.
    seen.push(b.signals ? [...(b.signals.label as Float64Array)] : undefined);
  });
  labels.next({ classIndex: 1, tStartUs: 0 });
  steps.next(step(0, [[1, 1, 0]])); // warm-up step of the label: no target
  steps.next(step(1, [[1, 1, 1], [2, 1, 0], [3, 3, 0]])); // (1,1) and (2,1) → position 0, (3,3) → position 4
  // The next label arrives before the last step of this segment is closed, as in a live stream.
  labels.next({ classIndex: 0, tStartUs: 6000 });
  steps.next(step(2, [[5, 5, 0]])); // (5,5) → position 8, still class 1 (t = 4000)
  steps.next(step(3, [[1, 1, 0]])); // warm-up of class 0
  steps.next(step(4, [[0, 0, 0]])); // (0,0) is no centre pixel: nothing triggered, nothing labelled
  assert.deepEqual(got.map((b) => [...(b.triggered ?? [])]), [[0], [0, 4], [8], [0], []]);
  const nan = Number.NaN;
  const expect = (cls: number, positions: number[]) => [0, 1].flatMap((c) => Array.from({ length: 9 }, (_, q) => (positions.includes(q) ? (c === cls ? 1 : 0) : nan)));
  assert.deepEqual(seen, [undefined, expect(1, [0, 4]), expect(1, [8]), undefined, undefined]);
});

test('triggeredLabels: refuses steps that are not two polarity planes, naming the shape', () => {
  const errors: string[] = [];
  const steps = new Subject<StepBatch>();
  steps.pipe(triggeredLabels({ labels: new Subject(), classes: 2, kernelSize: 2, stride: 2 })).subscribe({ error: (e) => errors.push(e.message) });
  steps.next({ ...step(0, []), shape: [1, W, W], size: W * W });
  assert.match(errors[0]!, /needs 'p-y-x' steps of 2 polarity planes, got shape \[1, 6, 6\]/);
});

test('snn + decide: batch signals reach their step only; logistic snapshots are this step’s σ(a + b); aligned windows sum probabilities at triggered positions after settling', () => {
  // 2 inputs → 2 class maps of 1 position each (logistic), input i drives class i.
  const net = buildNetwork({
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 2 },
      { name: 'out', model: 'logistic', size: 2, threshold: 0.99, bias_init: 0 },
    ],
    projections: [{ name: 'w', kind: 'sparse', from: 'in', to: 'out', pre: [0, 1], post: [0, 1], weight: [2, 2], delay_steps: [0, 0] }],
  });
  const batches = new Subject<StepBatch>();
  const steps: SnnStep[] = [];
  const decisions: Decision[] = [];
  const out = batches.pipe(snn({ network: net, input: 'in', snapshot: ['out'] }));
  out.subscribe((s) => steps.push(s));
  out.pipe(decide({ population: 'out', classes: 2, mode: 'window', windowSteps: 4, aligned: true, settleSteps: 1, evidence: 'state' })).subscribe((d) => decisions.push(d));
  const b = (k: number, active: number[], triggered: number[]): StepBatch => ({
    step: k, tStartUs: k * 1000, dtUs: 1000, size: 2, shape: [1, 1, 2], active: Uint32Array.from(active), counts: Uint32Array.from(active.map(() => 1)), events: active.length, late: 0, triggered: Int32Array.from(triggered),
  });
  // Steps 2..3 open the window [0, 4) (the first active step is 2); step 2 is the settle step.
  batches.next(b(2, [1], [0])); // settling: not counted
  batches.next(b(3, [0, 1], [0])); // only position 0 counts: class 0 gets σ(2), class 1 gets σ(2) — at position 0 of each map
  const sig2 = 1 / (1 + Math.exp(-2));
  assert.deepEqual([...steps[1]!.state!.out!], [sig2, sig2], 'snapshot = σ(a + b) of this step’s arrivals');
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0]!.latencySteps, 4, 'the window is the clock period [0, 4), not [2, 6)');
  assert.equal(decisions[0]!.timeUs, 4000);
  // Next window [4, 8): class 1 only.
  for (const k of [4, 5, 6, 7]) batches.next(b(k, [1], [0]));
  assert.equal(decisions.length, 2);
  assert.equal(decisions[1]!.classIndex, 1);
});

test('snn: signals carried by a batch are given to that step only, over the held streams', () => {
  const real = buildNetwork({ dt_ms: 1, populations: [{ name: 'in', model: 'input', size: 2 }, { name: 'out', model: 'lif', size: 1, decay: 0.5, v_th: 1 }], projections: [] });
  const given: unknown[] = [];
  const net = Object.create(real) as typeof real;
  net.step = (input) => {
    given.push(input?.signals?.label);
    real.step(input);
  };
  const held = new Subject<number>();
  const batches = new Subject<StepBatch>();
  batches.pipe(snn({ network: net, input: 'in', signals: { label: held } })).subscribe();
  const b = (k: number, signals?: Record<string, number[]>): StepBatch => ({ step: k, tStartUs: k, dtUs: 1, size: 2, shape: [1, 1, 2], active: new Uint32Array(0), counts: new Uint32Array(0), events: 0, late: 0, ...(signals ? { signals } : {}) });
  held.next(5);
  batches.next(b(0));
  batches.next(b(1, { label: [1, 0] }));
  batches.next(b(2));
  assert.deepEqual(given, [5, [1, 0], 5]);
});
