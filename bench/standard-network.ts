/**
 * The engine benches' standard network (issue 3): 10,000 Poisson inputs at 10 Hz → 1,000 LIF
 * neurons, 10 % random connectivity (≈1 M synapses), delays uniform 0–15 ms, dt 1 ms; sizes
 * overridable for quick runs. Input spikes come from a seeded pool of pre-drawn steps, so drawing
 * random numbers is not part of what a bench times.
 */
import { Rng } from '../src/emulator/rng.js';

export interface StandardSizes {
  readonly inputs: number;
  readonly neurons: number;
  readonly p: number;
  readonly maxDelay: number;
  readonly rateHz: number;
}

export const STANDARD: StandardSizes = { inputs: 10_000, neurons: 1_000, p: 0.1, maxDelay: 15, rateHz: 10 };

export function standardSpec(s: StandardSizes, stdp: boolean): Record<string, unknown> {
  const wMax = 0.0125;
  return {
    dt_ms: 1,
    seed: 1,
    populations: [
      { name: 'in', model: 'input', size: s.inputs },
      stdp
        ? { name: 'out', model: 'alif', size: s.neurons, tau_ms: 20, v_th: 1, adaptation: { tau_ms: 100, plus: 0.05 } }
        : { name: 'out', model: 'lif', size: s.neurons, tau_ms: 20, v_th: 1 },
    ],
    projections: [{ name: 'in->out', kind: 'random', from: 'in', to: 'out', p: s.p, weight: { min: 0, max: wMax }, delay_steps: { min: 0, max: s.maxDelay } }],
    plasticity: stdp ? [{ rule: 'stdp', projection: 'in->out', tau_pre_ms: 20, tau_post_ms: 20, a_pre: 0.01 * wMax, a_post: -0.0105 * wMax, w_min: 0, w_max: wMax }] : [],
  };
}

/** `count` steps of Poisson input (each input spikes with probability rate·dt), as sorted index lists. */
export function poissonPool(s: StandardSizes, count: number, seed: number): Int32Array[] {
  const rng = new Rng(seed, 3);
  const p = s.rateHz / 1000;
  const pool: Int32Array[] = [];
  const scratch: number[] = [];
  for (let k = 0; k < count; k++) {
    scratch.length = 0;
    // Geometric gaps between spiking inputs: one random number per spike, not per input.
    for (let i = Math.floor(Math.log(rng.uniformPositive()) / Math.log1p(-p)); i < s.inputs; i += 1 + Math.floor(Math.log(rng.uniformPositive()) / Math.log1p(-p))) scratch.push(i);
    pool.push(Int32Array.from(scratch));
  }
  return pool;
}
