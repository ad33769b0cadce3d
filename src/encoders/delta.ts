/**
 * Send-on-delta (threshold-crossing) encoder, as in the up/down spike trains of event-based audio and
 * biosignal front ends.
 *
 * Each channel c keeps a reference level r_c, set to the first sample. For a sample v at time t:
 *   while v − r_c ≥ θ_c:  r_c ← r_c + θ_c, emit an UP spike
 *   while r_c − v ≥ θ_c:  r_c ← r_c − θ_c, emit a DOWN spike
 * so |v − r_c| < θ_c afterwards and the spike count tracks the signal to within one step θ_c.
 * Spike times: with `interpolate` (default) the time the linearly interpolated signal crosses the new
 * level, t_k = t₀ + (r_k − v₀)/(v − v₀)·(t − t₀) between the previous sample (t₀, v₀) and this one;
 * otherwise the sample time t.
 * Output: `output: 'polarity'` (default) → x = c, p = 1 for UP and 0 for DOWN (like DVS ON/OFF);
 * `'channels'` → x = 2c for UP and 2c + 1 for DOWN, p = 1 (separate up/down address lines).
 * At most `maxSpikesPerSample` spikes per channel and sample (default 1000): a larger jump is capped
 * and the reference jumps with it, so a glitch cannot flood the stream.
 */

import { SpikeQueue } from './spike-queue.js';
import { checkChannels, checkSample, perChannel, type AnalogEncoder, type PerChannel, type SpikeOut } from './types.js';

export interface DeltaEncoderOptions {
  readonly channels: number;
  readonly threshold: PerChannel;
  readonly output?: 'polarity' | 'channels';
  readonly interpolate?: boolean;
  readonly maxSpikesPerSample?: number;
}

/** When the line from (t0, v0) to (t, v) crosses `level`, clamped to [t0, t] against rounding. */
function crossing(t0: number, t: number, v0: number, v: number, level: number): number {
  return Math.min(t, Math.max(t0, t0 + ((level - v0) / (v - v0)) * (t - t0)));
}

export class DeltaEncoder implements AnalogEncoder {
  readonly kind = 'delta';
  readonly channels: number;
  readonly outputs: number;
  private readonly theta: Float64Array;
  private readonly ref: Float64Array;
  private readonly last: Float64Array;
  private lastT = -Infinity;
  private started = false;
  private readonly queue = new SpikeQueue();
  private readonly split: boolean;
  private readonly interpolate: boolean;
  private readonly cap: number;

  constructor(o: DeltaEncoderOptions) {
    checkChannels('DeltaEncoder', o.channels);
    this.channels = o.channels;
    this.theta = perChannel('DeltaEncoder threshold', o.threshold, o.channels, (v) => v > 0 && Number.isFinite(v), 'a finite number > 0');
    this.split = (o.output ?? 'polarity') === 'channels';
    this.outputs = this.split ? 2 * o.channels : o.channels;
    this.interpolate = o.interpolate ?? true;
    this.cap = o.maxSpikesPerSample ?? 1000;
    this.ref = new Float64Array(o.channels);
    this.last = new Float64Array(o.channels);
  }

  encode(tUs: number, values: ArrayLike<number>, out: SpikeOut): number {
    checkSample('DeltaEncoder', this.channels, this.lastT, tUs, values);
    const t0 = this.lastT;
    this.lastT = tUs;
    if (!this.started) {
      this.started = true;
      for (let c = 0; c < this.channels; c++) this.ref[c] = this.last[c] = values[c]!;
      return 0;
    }
    for (let c = 0; c < this.channels; c++) {
      const v = values[c]!;
      const v0 = this.last[c]!;
      this.last[c] = v;
      if (!Number.isFinite(v)) continue; // a missing reading: no spikes, the reference stays
      if (!Number.isFinite(this.ref[c]!)) {
        this.ref[c] = v; // first finite reading of this channel
        continue;
      }
      const th = this.theta[c]!;
      let r = this.ref[c]!;
      let k = 0;
      const lerp = this.interpolate && v !== v0 && Number.isFinite(v0);
      while (v - r >= th && k < this.cap) {
        r += th;
        k++;
        this.queue.add(lerp ? crossing(t0, tUs, v0, v, r) : tUs, this.split ? 2 * c : c, 1);
      }
      while (r - v >= th && k < this.cap) {
        r -= th;
        k++;
        this.queue.add(lerp ? crossing(t0, tUs, v0, v, r) : tUs, this.split ? 2 * c + 1 : c, this.split ? 1 : 0);
      }
      this.ref[c] = k === this.cap ? v : r;
    }
    return this.queue.drain(out);
  }

  flush(): number {
    return 0;
  }

  reset(): void {
    this.started = false;
    this.lastT = -Infinity;
    this.queue.clear();
  }
}
