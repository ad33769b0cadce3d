/**
 * Per-neuron firing-rate estimates on several timescales at once (for Multi-Scale Temporal
 * Homeostasis): for each timescale k with α_k = e^(−dt/τ_k),
 *
 *   r_k ← r_k·α_k + spikes·(1 − α_k)/dt          (Hz; dt in seconds)
 *
 * an exponential moving average of the spike train, so a neuron firing steadily at ρ Hz settles
 * at r_k = ρ within a few τ_k. Estimates start at `initialHz` and live in the arena (K × N,
 * timescale-major).
 */
import type { StateArena } from '../arena.js';
import type { SpikeHistory } from '../spike-history.js';

export class RateEstimator {
  /** K × N: r[k·N + j] is neuron j's estimate on timescale k. */
  readonly r: Float64Array;
  /** α_k = e^(−dt/τ_k). */
  readonly alpha: Float64Array;
  /** (1 − α_k)/dt: what one spike adds, in Hz. */
  readonly kick: Float64Array;

  constructor(
    arena: StateArena,
    name: string,
    readonly size: number,
    tausMs: readonly number[],
    dtMs: number,
    initialHz = 0,
  ) {
    const K = tausMs.length;
    this.r = arena.f64(`${name}.rate`, K * size);
    this.r.fill(initialHz);
    this.alpha = new Float64Array(K);
    this.kick = new Float64Array(K);
    const dtS = dtMs / 1000;
    for (let k = 0; k < K; k++) {
      this.alpha[k] = Math.exp(-dtMs / tausMs[k]!);
      this.kick[k] = (1 - this.alpha[k]!) / dtS;
    }
  }

  get timescales(): number {
    return this.alpha.length;
  }

  /** Advances every estimate by step t's spikes. O(K·N). */
  update(history: SpikeHistory, t: number): void {
    const { r, size } = this;
    const lists = history.lists;
    const at = history.offset(t);
    const n = history.count(t);
    for (let k = 0; k < this.alpha.length; k++) {
      const a = this.alpha[k]!;
      const kick = this.kick[k]!;
      const o = k * size;
      for (let j = 0; j < size; j++) r[o + j] = r[o + j]! * a;
      for (let q = 0; q < n; q++) {
        const j = o + lists[at + q]!;
        r[j] = r[j]! + kick;
      }
    }
  }

  /** Neuron j's estimate on timescale k, in Hz. */
  rate(k: number, j: number): number {
    return this.r[k * this.size + j]!;
  }

  /** The population mean on timescale k, in Hz. */
  mean(k: number): number {
    let s = 0;
    const o = k * this.size;
    for (let j = 0; j < this.size; j++) s += this.r[o + j]!;
    return s / this.size;
  }
}
