/**
 * Conv delivery and the arrival iterator with kernels wider than the stride and planes the stride
 * does not tile (leftover rows/columns): the event-driven paths, which step the kernel taps by the
 * stride from the first tap that reaches an output, visit exactly the (entry, output) pairs of a
 * brute-force sweep, and deliver the same sums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork } from '../../src/snn/network.js';
import { Rng } from '../../src/emulator/rng.js';
import { forEachConvArrival, type ConvProjectionRuntime } from '../../src/snn/projections/conv.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';

const cases: [number, number, number, number, number][] = [
  // h, w, k, stride, delays
  [12, 13, 5, 2, 3],
  [11, 10, 7, 2, 2],
  [13, 11, 4, 3, 2],
  [9, 9, 3, 4, 2],
];

test('strided conv: arrivals and delivered sums equal a brute-force sweep (k > stride, untiled edges)', () => {
  for (const [h, w, k, stride, D] of cases) {
    const [cin, cout] = [2, 2];
    const oh = Math.floor((h - k) / stride) + 1;
    const ow = Math.floor((w - k) / stride) + 1;
    const net = buildNetwork({
      dt_ms: 1,
      seed: 5,
      populations: [
        { name: 'in', model: 'input', shape: [cin, h, w] },
        { name: 'out', model: 'logistic', shape: [cout, oh, ow] },
      ],
      projections: [{ name: 'c', kind: 'conv', from: 'in', to: 'out', kernel_size: k, delays: D, stride, weight: { min: -1, max: 1 } }],
    });
    const proj = net.projection('c') as ConvProjectionRuntime;
    const W = proj.kernel.weight;
    const a = (net.population('out') as LogisticPopulationRuntime).state.a;
    const rng = new Rng(h * 31 + k);
    const frames: number[][] = [];
    for (let t = 0; t < 8; t++) {
      frames.push([...Array(cin * h * w).keys()].filter(() => rng.uniform() < 0.15));
      net.step({ spikes: { in: frames[t]! } });
      const want: string[] = [];
      const sum = new Float64Array(cout * oh * ow);
      for (let c = 0; c < cout; c++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++)
            for (let ci = 0; ci < cin; ci++)
              for (let d = 0; d < D; d++)
                for (let ky = 0; ky < k; ky++)
                  for (let kx = 0; kx < k; kx++) {
                    if (t - d < 0 || !frames[t - d]!.includes((ci * h + oy * stride + ky) * w + ox * stride + kx)) continue;
                    const wi = (((c * cin + ci) * D + d) * k + ky) * k + kx;
                    const o = (c * oh + oy) * ow + ox;
                    want.push(`${wi}:${o}`);
                    sum[o] = sum[o]! + W[wi]!;
                  }
      const got: string[] = [];
      forEachConvArrival(proj.kernel, proj.from.history, t, (wi, o) => got.push(`${wi}:${o}`));
      assert.deepEqual(got.sort(), want.sort(), `h ${h} w ${w} k ${k} stride ${stride}, step ${t}`);
      for (let o = 0; o < sum.length; o++) assert.ok(Math.abs(a[o]! - sum[o]!) < 1e-12, `sum at ${o}`);
    }
  }
});
