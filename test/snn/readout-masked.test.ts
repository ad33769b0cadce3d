/**
 * Readout rule: a NaN target leaves that unit unlabelled for the step (no gradient to its weights
 * or bias), so a task can label only some units — e.g. only the conv positions where a trigger
 * event arrived (src/tasks/motion-direction.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import type { ConvProjectionRuntime } from '../../src/snn/projections/conv.js';

test('readout: NaN targets mask units (dense: only the labelled unit learns; conv: all-NaN changes nothing)', () => {
  for (const optimizer of ['sgd', 'adam'] as const) {
    const net = buildNetwork({
      dt_ms: 1,
      seed: 1,
      populations: [
        { name: 'in', model: 'input', size: 3 },
        { name: 'out', model: 'logistic', size: 2, bias_init: 0.2 },
      ],
      projections: [{ name: 'd', kind: 'dense', from: 'in', to: 'out', weight: 0.1 }],
      plasticity: [{ rule: 'readout', projection: 'd', signal: 'y', optimizer, learning_rate: 0.1 }],
    });
    const w = net.projection('d').table!.weight;
    const post = net.projection('d').table!.post;
    const bias = (net.population('out') as LogisticPopulationRuntime).state.bias;
    const w0 = w.slice();
    for (let t = 0; t < 5; t++) net.step({ spikes: { in: [0, 1, 2] }, signals: { y: [1, NaN] } });
    assert.equal(bias[1], 0.2, `${optimizer}: masked unit's bias`);
    assert.ok(bias[0]! > 0.2, `${optimizer}: labelled unit's bias rises toward its target`);
    for (let s = 0; s < w.length; s++) {
      if (post[s] === 1) assert.equal(w[s], w0[s], `${optimizer}: synapse ${s} onto the masked unit`);
      else assert.ok(w[s]! > w0[s]!, `${optimizer}: synapse ${s} onto the labelled unit learns`);
    }
    assert.ok([...w, ...bias].every(Number.isFinite));
  }
  const conv = buildNetwork({
    dt_ms: 1,
    seed: 1,
    populations: [
      { name: 'in', model: 'input', shape: [1, 3, 3] },
      { name: 'out', model: 'logistic', shape: [2, 2, 2] },
    ],
    projections: [{ name: 'k', kind: 'conv', from: 'in', to: 'out', kernel_size: 2, delays: 2, weight: { min: -1, max: 1 } }],
    plasticity: [{ rule: 'readout', projection: 'k', signal: 'y', optimizer: 'sgd', learning_rate: 0.5 }],
  });
  const W = (conv.projection('k') as ConvProjectionRuntime).kernel.weight;
  const W0 = W.slice();
  for (let t = 0; t < 4; t++) conv.step({ spikes: { in: [0, 4, 8] }, signals: { y: new Array(8).fill(NaN) } });
  assert.deepEqual(W, W0);
  // Labelling one position of channel 0 moves only channel 0's kernel half.
  conv.step({ spikes: { in: [0, 4, 8] }, signals: { y: [1, NaN, NaN, NaN, NaN, NaN, NaN, NaN] } });
  const half = W.length / 2;
  assert.ok(W.slice(0, half).some((v, i) => v !== W0[i]));
  assert.deepEqual(W.slice(half), W0.slice(half));
});
