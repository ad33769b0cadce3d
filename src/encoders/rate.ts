/**
 * Rate encoder: each value sets a firing rate, λ_c = maxRateHz · clamp((v − min_c)/(max_c − min_c), 0, 1).
 * The rate of a sample holds over the interval since the previous sample, (t₀, t], so a sample's spikes
 * are written when it arrives (no look-ahead, no added latency); the first sample only starts the clock.
 *  - 'poisson' (default): a Poisson process of rate λ_c — inter-spike intervals Exp(λ_c), drawn from a
 *    seeded xoshiro128** stream (`seed`, default 1), so a run is reproducible. Since the process is
 *    memoryless, restarting the draw at each sample boundary is exact for piecewise-constant λ.
 *  - 'regular': a phase accumulator φ_c ← φ_c + λ_c·Δt; a spike whenever φ_c crosses an integer m, at
 *    t₀ + (m − φ_c(t₀))/λ_c. Deterministic, and the phase carries across samples (no rate jitter).
 * Output: x = c, p = 1. `maxSpikesPerSample` (default 10,000 per channel) bounds the work of one long gap.
 */

import { Rng } from '../emulator/rng.js';
import { SpikeQueue } from './spike-queue.js';
import { checkChannels, checkSample, perChannel, type AnalogEncoder, type PerChannel, type SpikeOut } from './types.js';

export interface RateEncoderOptions {
  readonly channels: number;
  readonly maxRateHz: number;
  /** Value giving rate 0 (default 0). */
  readonly min?: PerChannel;
  /** Value giving maxRateHz (default 1). */
  readonly max?: PerChannel;
  readonly mode?: 'poisson' | 'regular';
  readonly seed?: number;
  readonly maxSpikesPerSample?: number;
}

export class RateEncoder implements AnalogEncoder {
  readonly kind = 'rate';
  readonly channels: number;
  readonly outputs: number;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly phase: Float64Array;
  private lastT = -Infinity;
  private rng: Rng;
  private readonly queue = new SpikeQueue();
  private readonly poisson: boolean;
  private readonly cap: number;

  constructor(private readonly o: RateEncoderOptions) {
    checkChannels('RateEncoder', o.channels);
    if (!(o.maxRateHz > 0 && Number.isFinite(o.maxRateHz))) throw new RangeError(`RateEncoder: maxRateHz must be a finite number > 0, got ${o.maxRateHz}`);
    this.channels = this.outputs = o.channels;
    const finite = (v: number) => Number.isFinite(v);
    this.min = perChannel('RateEncoder min', o.min ?? 0, o.channels, finite, 'finite');
    this.max = perChannel('RateEncoder max', o.max ?? 1, o.channels, finite, 'finite');
    for (let c = 0; c < o.channels; c++) if (!(this.max[c]! > this.min[c]!)) throw new RangeError(`RateEncoder: max must exceed min (channel ${c})`);
    this.poisson = (o.mode ?? 'poisson') === 'poisson';
    this.cap = o.maxSpikesPerSample ?? 10000;
    this.phase = new Float64Array(o.channels);
    this.rng = new Rng(o.seed ?? 1);
  }

  /** λ_c in spikes per µs for value v. */
  private ratePerUs(c: number, v: number): number {
    if (!Number.isFinite(v)) return 0;
    const s = Math.min(1, Math.max(0, (v - this.min[c]!) / (this.max[c]! - this.min[c]!)));
    return (s * this.o.maxRateHz) / 1e6;
  }

  encode(tUs: number, values: ArrayLike<number>, out: SpikeOut): number {
    checkSample('RateEncoder', this.channels, this.lastT, tUs, values);
    const t0 = this.lastT;
    this.lastT = tUs;
    if (t0 === -Infinity) return 0;
    const dt = tUs - t0;
    for (let c = 0; c < this.channels; c++) {
      const lam = this.ratePerUs(c, values[c]!);
      if (lam <= 0 || dt <= 0) continue;
      let k = 0;
      if (this.poisson) {
        let s = t0 + this.rng.exponential(lam);
        while (s <= tUs && k < this.cap) {
          this.queue.add(s, c, 1);
          k++;
          s += this.rng.exponential(lam);
        }
      } else {
        const phi0 = this.phase[c]!;
        const phi1 = phi0 + lam * dt;
        for (let m = Math.floor(phi0) + 1; m <= phi1 && k < this.cap; m++, k++) this.queue.add(Math.min(tUs, t0 + (m - phi0) / lam), c, 1);
        this.phase[c] = phi1 - Math.floor(phi1);
      }
    }
    return this.queue.drain(out);
  }

  flush(): number {
    return 0;
  }

  reset(): void {
    this.lastT = -Infinity;
    this.phase.fill(0);
    this.rng = new Rng(this.o.seed ?? 1);
    this.queue.clear();
  }
}
