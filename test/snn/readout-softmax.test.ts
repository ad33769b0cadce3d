// The readout's softmax loss: classes on the target's first axis compete at each position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { softmaxErrors, classAtEveryPosition } from '../../src/snn/plasticity/readout.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import { Rng } from '../../src/emulator/rng.js';

/** Multinomial cross-entropy summed over the labelled positions. */
function loss(z: Float64Array, y: Float64Array, C: number): number {
  const P = z.length / C;
  let L = 0;
  for (let q = 0; q < P; q++) {
    if (Number.isNaN(y[q]!)) continue;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, z[c * P + q]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[c * P + q]! - m);
    for (let c = 0; c < C; c++) L -= y[c * P + q]! * (z[c * P + q]! - m - Math.log(s));
  }
  return L;
}

test('softmaxErrors is the gradient of the multinomial cross-entropy (finite differences); unlabelled positions give 0', () => {
  const r = new Rng(3, 1);
  const C = 5;
  const P = 7;
  const a = Float64Array.from({ length: C * P }, () => 4 * r.uniform() - 2);
  const b = Float64Array.from({ length: C * P }, () => r.uniform() - 0.5);
  const y = new Float64Array(C * P).fill(Number.NaN);
  for (let q = 0; q < P; q++) {
    if (q % 3 === 2) continue; // unlabelled
    const truth = Math.floor(r.uniform() * C);
    for (let c = 0; c < C; c++) y[c * P + q] = c === truth ? 1 : 0;
  }
  const e = new Float64Array(C * P);
  softmaxErrors(a, b, y, e, C);
  const z = a.map((v, j) => v + b[j]!);
  const h = 1e-6;
  for (let j = 0; j < C * P; j++) {
    const up = z.slice();
    const down = z.slice();
    up[j] = up[j]! + h;
    down[j] = down[j]! - h;
    const g = (loss(up, y, C) - loss(down, y, C)) / (2 * h);
    assert.ok(Math.abs(g - e[j]!) < 1e-6, `unit ${j}: e ${e[j]} vs numeric ${g}`);
    if (Number.isNaN(y[j % P]!)) assert.equal(e[j], 0);
  }
  // Each labelled position's errors sum to zero over the classes (probabilities sum to 1).
  for (let q = 0; q < P; q++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += e[c * P + q]!;
    assert.ok(Math.abs(s) < 1e-12);
  }
});

test('a class index under a softmax readout labels that class at every position', () => {
  const y = new Float64Array(12);
  classAtEveryPosition(2, y, 3, 'test');
  assert.deepEqual(Array.from(y), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.throws(() => classAtEveryPosition(3, y, 3, "readout 'p'"), /readout 'p': class index 3 out of range \[0, 3\)/);
});

function toyNet(loss: 'logistic' | 'softmax') {
  // Input neuron c (of C) spikes ⇒ class c, at each of P positions (a dense projection: every input to every unit).
  return buildNetwork({
    dt_ms: 1,
    seed: 5,
    populations: [
      { name: 'in', model: 'input', size: 4 },
      { name: 'out', model: 'logistic', size: 4 * 3, shape: [4, 1, 3], bias_init: 0 },
    ],
    projections: [{ name: 'p', kind: 'dense', from: 'in', to: 'out', weight: { min: -0.1, max: 0.1 }, delay_steps: 0 }],
    plasticity: [{ rule: 'readout', projection: 'p', signal: 'label', optimizer: 'sgd', learning_rate: 0.5, loss }],
  });
}

test('a softmax readout learns: after training, the true class has the largest activation at every position', () => {
  const net = toyNet('softmax');
  const out = net.population('out') as LogisticPopulationRuntime;
  const r = new Rng(9, 2);
  for (let k = 0; k < 300; k++) {
    const c = Math.floor(r.uniform() * 4);
    net.step({ spikes: { in: [c] }, signals: { label: c } });
  }
  net.setLearning(false);
  for (let c = 0; c < 4; c++) {
    net.step({ spikes: { in: [c] } });
    const p = out.predict();
    for (let q = 0; q < 3; q++) {
      let best = 0;
      for (let k = 1; k < 4; k++) if (p[k * 3 + q]! > p[best * 3 + q]!) best = k;
      assert.equal(best, c, `position ${q}, class ${c}: ${Array.from(p)}`);
    }
  }
});

test('the softmax loss needs the classes on a first shape axis', () => {
  const spec = {
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 4 },
      { name: 'out', model: 'logistic', size: 6 },
    ],
    projections: [{ name: 'p', kind: 'dense', from: 'in', to: 'out', weight: { min: 0, max: 1 }, delay_steps: 0 }],
    plasticity: [{ rule: 'readout', projection: 'p', signal: 'label', learning_rate: 0.1, loss: 'softmax' }],
  };
  assert.throws(() => buildNetwork(spec), /plasticity\[0\]\.loss: a softmax readout needs a target with a shape whose first axis \(the classes\) is at least 2; 'out' has no shape/);
  assert.throws(() => buildNetwork({ ...spec, plasticity: [{ ...spec.plasticity[0], loss: 'hinge' }] }), /plasticity\[0\]\.loss/);
});
