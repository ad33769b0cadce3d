// The readout's conv gradient restricted to the output positions that carry an error (rows): the
// same sums as over every arrival, but fewer entries listed, which is what makes the SGD readout
// skip most of the conv scatter (plasticity/readout.ts errorRows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { INPUT, KERNEL, motionDirectionNetwork } from '../../src/tasks/motion-direction.js';
import { convGradient, type ConvProjectionRuntime } from '../../src/snn/projections/conv.js';
import { errorRows } from '../../src/snn/plasticity/readout.js';
import { Rng } from '../../src/emulator/rng.js';

test('conv gradient over the error rows only: identical sums, a strict subset of entries listed', () => {
  const net = buildNetwork(motionDirectionNetwork({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2 }), { backend: cpuBackend });
  net.setLearning(false);
  const input = net.population(INPUT);
  const r = new Rng(7, 1);
  for (let t = 0; t < 12; t++) {
    const spikes: number[] = [];
    for (let i = 0; i < input.size; i++) if (r.uniform() < 0.05) spikes.push(i);
    net.step({ spikes: { [INPUT]: spikes } });
  }
  const g = (net.projection(KERNEL) as ConvProjectionRuntime).kernel;
  const P = g.oh * g.ow;
  // Errors at a fifth of the positions, all classes there (as labelled positions have), zero elsewhere.
  const e = new Float64Array(g.cout * P);
  for (let q = 0; q < P; q++) if (r.uniform() < 0.2) for (let c = 0; c < g.cout; c++) e[c * P + q] = r.uniform() - 0.5;
  const rows = new Uint8Array(P);
  errorRows(e, g.cout, rows);
  assert.ok(rows.some((v) => v) && rows.some((v) => !v), 'some positions flagged, some not');
  const run = (withRows: boolean) => {
    const grad = new Float64Array(g.weight.length);
    const touched = new Int32Array(g.weight.length);
    const seen = new Uint8Array(g.weight.length);
    const nt = convGradient(g, input.history, net.t - 1, e, undefined, grad, touched, seen, withRows ? rows : undefined);
    return { grad, listed: new Set(touched.subarray(0, nt)) };
  };
  const all = run(false);
  const some = run(true);
  assert.deepEqual(Array.from(some.grad), Array.from(all.grad), 'the gradient sums are the same');
  for (const w of some.listed) assert.ok(all.listed.has(w), `entry ${w} listed only with rows`);
  assert.ok(some.listed.size < all.listed.size, `${some.listed.size} listed with rows, ${all.listed.size} without`);
  for (const w of all.listed) if (!some.listed.has(w)) assert.equal(all.grad[w], 0, `entry ${w} left out but its gradient is ${all.grad[w]}`);
});
