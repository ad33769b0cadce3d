/** Seeded random networks in the simulator exchange format, for comparisons with Brian2. */
import { Rng } from '../../src/emulator/rng.js';

export interface ExchangeCase {
  readonly name: string;
  readonly net: Record<string, unknown>;
  readonly spikes: { spikes: [number, number][] };
}

export interface CaseOptions {
  readonly seed: number;
  readonly dtMs?: number;
  readonly steps?: number;
  readonly inputs?: number;
  readonly neurons?: number;
  readonly synapses?: number;
  readonly maxDelayMs?: number;
  readonly inputHz?: number;
  readonly stdp?: boolean;
  readonly adaptation?: boolean;
  /** Fraction of inhibitory (negative) weights. */
  readonly inhibitory?: number;
  readonly vReset?: number;
}

export function exchangeCase(name: string, o: CaseOptions): ExchangeCase {
  const rng = new Rng(o.seed, 7);
  const dt = o.dtMs ?? 1;
  const steps = o.steps ?? 600;
  const inputs = o.inputs ?? 60;
  const count = o.neurons ?? 15;
  const nSyn = o.synapses ?? 450;
  const maxDelay = Math.round((o.maxDelayMs ?? 15) / dt);
  const pre: number[] = [];
  const post: number[] = [];
  const weight: number[] = [];
  const delay: number[] = [];
  for (let s = 0; s < nSyn; s++) {
    pre.push(rng.int(inputs));
    post.push(rng.int(count));
    const w = 0.05 + rng.uniform() * 0.35;
    weight.push(rng.uniform() < (o.inhibitory ?? 0) ? -w : w);
    delay.push(rng.int(maxDelay + 1));
  }
  const tauSteps = 20 / dt;
  const net: Record<string, unknown> = {
    dt_ms: dt,
    steps,
    inputs,
    neurons: {
      count,
      decay: Math.exp(-1 / tauSteps),
      v_th: 1,
      v_reset: o.vReset ?? 0,
      ...(o.adaptation ? { threshold_adaptation: { decay: Math.exp(-dt / 80), plus: 0.15 } } : {}),
    },
    synapses: {
      pre,
      post,
      weight,
      delay_steps: delay,
      ...(o.stdp ? { stdp: { decay_pre: Math.exp(-dt / 20), decay_post: Math.exp(-dt / 20), a_pre: 0.01, a_post: -0.0105, w_min: -0.4, w_max: 0.45 } } : {}),
    },
  };
  // Poisson input: each input spikes in a step with probability rate·dt.
  const p = ((o.inputHz ?? 25) * dt) / 1000;
  const spikes: [number, number][] = [];
  for (let t = 0; t < steps; t++) for (let i = 0; i < inputs; i++) if (rng.uniform() < p) spikes.push([t, i]);
  return { name, net, spikes: { spikes } };
}
