/**
 * Leaky integrate-and-fire neurons (with optional threshold adaptation), as three pure steps over
 * flat arrays, one per slot of Brian2's schedule:
 *
 *   integrate (groups):   v ← v·decay   unless refractory (t < refractoryUntil)
 *                         θ ← θ·θ_decay
 *   threshold:            spike ⇔ not refractory ∧ v > v_th + θ + offset     (strict, as Brian2)
 *   (synapses: v += w for every arrival, delivered by the projections)
 *   reset:                v ← v_reset            ('value')   or   v ← v − (v_th + θ + offset) ('subtract')
 *                         θ ← θ + θ_plus;   refractoryUntil ← t + refractory_steps
 *
 * `offset` is the per-neuron threshold shift that intrinsic-plasticity homeostasis moves (0 unless a
 * controller runs). The exact exponential decay uses the factor from the spec as given.
 */
import type { LifPopulationSpec } from '../spec.js';

export interface LifState {
  readonly v: Float64Array;
  /** Adaptation θ (all zero for plain LIF). */
  readonly theta: Float64Array;
  /** Homeostatic threshold offset. */
  readonly offset: Float64Array;
  /** First step at which each neuron may integrate and spike again. */
  readonly refractoryUntil: Int32Array;
}

export function lifIntegrate(s: LifState, p: LifPopulationSpec, t: number): void {
  const { v, theta, refractoryUntil } = s;
  const decay = p.decay;
  const n = v.length;
  if (p.refractory_steps > 0) {
    for (let j = 0; j < n; j++) if (t >= refractoryUntil[j]!) v[j] = v[j]! * decay;
  } else {
    for (let j = 0; j < n; j++) v[j] = v[j]! * decay;
  }
  if (p.adaptation) {
    const ad = p.adaptation.decay;
    for (let j = 0; j < n; j++) theta[j] = theta[j]! * ad;
  }
}

/** Writes the indices of spiking neurons, ascending, into out[at…]; returns how many. */
export function lifThreshold(s: LifState, p: LifPopulationSpec, t: number, out: Int32Array, at: number): number {
  const { v, theta, offset, refractoryUntil } = s;
  const vth = p.v_th;
  const n = v.length;
  let k = 0;
  for (let j = 0; j < n; j++) {
    if (v[j]! > vth + theta[j]! + offset[j]! && t >= refractoryUntil[j]!) out[at + k++] = j;
  }
  return k;
}

export function lifReset(s: LifState, p: LifPopulationSpec, t: number, spikes: Int32Array, at: number, count: number): void {
  const { v, theta, offset, refractoryUntil } = s;
  const plus = p.adaptation?.plus ?? 0;
  const until = t + p.refractory_steps;
  for (let k = 0; k < count; k++) {
    const j = spikes[at + k]!;
    v[j] = p.reset === 'value' ? p.v_reset : v[j]! - (p.v_th + theta[j]! + offset[j]!);
    if (plus !== 0) theta[j] = theta[j]! + plus;
    refractoryUntil[j] = until;
  }
}
