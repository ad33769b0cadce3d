// The logistic threshold reuses σ(a + b) from the prediction made after the previous step only where
// a and b are exactly what that prediction saw: the probabilities and spikes must equal those of a
// network that never predicted, whatever changed in between (a bias edited by hand, a restore).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { encodeCheckpoint, restoreCheckpoint } from '../../src/snn/checkpoint.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import { Rng } from '../../src/emulator/rng.js';

const spec = {
  dt_ms: 1,
  seed: 4,
  populations: [
    { name: 'in', model: 'input', size: 40 },
    { name: 'out', model: 'logistic', size: 30, threshold: 0.5, bias_init: -0.2 },
  ],
  projections: [{ name: 'p', kind: 'random', from: 'in', to: 'out', p: 0.4, weight: { min: -0.3, max: 0.5 }, delay_steps: { min: 0, max: 3 } }],
  plasticity: [{ rule: 'readout', projection: 'p', enabled: true, signal: 'label', optimizer: 'sgd', learning_rate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }],
  homeostasis: [],
};

test('threshold after a prediction: the same probabilities as without, through hand edits and a restore', () => {
  const plain = buildNetwork(spec, { backend: cpuBackend });
  const memo = buildNetwork(spec, { backend: cpuBackend });
  const outOf = (n: typeof plain) => n.population('out') as LogisticPopulationRuntime;
  const r = new Rng(8, 1);
  let saved: Uint8Array | undefined;
  let reused = 0;
  for (let t = 0; t < 200; t++) {
    const spikes = Array.from({ length: 40 }, (_, i) => i).filter(() => r.uniform() < 0.2);
    const signals: Record<string, number> = t % 4 === 3 ? {} : { label: Math.floor(r.uniform() * 30) };
    const step = { spikes: { in: spikes }, signals };
    plain.step(step);
    memo.step(step);
    assert.deepEqual(Array.from(outOf(memo).p), Array.from(outOf(plain).p), `p differs at step ${t}`);
    assert.deepEqual(Array.from(memo.spikes('out')), Array.from(plain.spikes('out')), `spikes differ at step ${t}`);
    const predicted = outOf(memo).predict();
    // What the next threshold will compute, when nothing changes: the memo is what it reuses.
    if (t % 10 !== 9) reused++;
    else {
      // Edit a bias and an accumulator by hand in both: those units must be computed again.
      for (const n of [plain, memo]) {
        outOf(n).state.bias[3] = outOf(n).state.bias[3]! + 0.25;
        outOf(n).state.a[7] = outOf(n).state.a[7]! - 0.5;
      }
    }
    assert.equal(predicted.length, 30);
    if (t === 100) saved = encodeCheckpoint(plain);
    if (t === 150) {
      // Restore both to step 101 right after a prediction: the memo belongs to the abandoned run.
      restoreCheckpoint(plain, saved!);
      restoreCheckpoint(memo, saved!);
    }
  }
  assert.ok(reused > 100);
});
