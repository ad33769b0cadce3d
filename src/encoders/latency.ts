/**
 * Latency (time-to-first-spike) encoder: strong inputs spike early, weak ones late or not at all,
 * at most one spike per channel per window.
 *
 * A window opens at the first sample t_on at or after the previous window's end and lasts `windowUs`.
 * The window's opening sample sets, per channel, s_c = clamp((v − min_c)/(max_c − min_c), 0, 1) and
 *  - 'linear' (default):  L_c = τ·(1 − s_c)                      for s_c > θ
 *  - 'log':               L_c = τ·ln(s_c / (s_c − θ))            for s_c > θ  (the time a LIF neuron
 *                          with membrane constant τ and input s_c takes to reach threshold θ)
 * and channels with s_c ≤ θ stay silent. τ = `tauUs`, θ = `threshold` (default 0 for linear, required
 * in (0, 1) for log). The spike is at t_on + L_c; log latencies of a window or more are dropped.
 * Spikes lie in the future of the sample that causes them, so they are held and written, in time order,
 * once a later sample shows the stream has reached their time — or by `flush()` at the end.
 * Output: x = c, p = 1.
 */

import { SpikeQueue } from './spike-queue.js';
import { checkChannels, checkSample, perChannel, type AnalogEncoder, type PerChannel, type SpikeOut } from './types.js';

export interface LatencyEncoderOptions {
  readonly channels: number;
  readonly windowUs: number;
  /** Longest latency (linear) or the time constant (log); default windowUs. Must be ≤ windowUs for linear. */
  readonly tauUs?: number;
  readonly code?: 'linear' | 'log';
  readonly threshold?: number;
  readonly min?: PerChannel;
  readonly max?: PerChannel;
}

export class LatencyEncoder implements AnalogEncoder {
  readonly kind = 'latency';
  readonly channels: number;
  readonly outputs: number;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly window: number;
  private readonly tau: number;
  private readonly log: boolean;
  private readonly theta: number;
  private windowEnd = -Infinity;
  private lastT = -Infinity;
  private readonly queue = new SpikeQueue();

  constructor(o: LatencyEncoderOptions) {
    checkChannels('LatencyEncoder', o.channels);
    this.channels = this.outputs = o.channels;
    if (!(o.windowUs > 0 && Number.isFinite(o.windowUs))) throw new RangeError(`LatencyEncoder: windowUs must be a finite number > 0, got ${o.windowUs}`);
    this.window = o.windowUs;
    this.tau = o.tauUs ?? o.windowUs;
    this.log = (o.code ?? 'linear') === 'log';
    this.theta = o.threshold ?? 0;
    if (!(this.tau > 0) || (!this.log && this.tau > this.window)) throw new RangeError(`LatencyEncoder: tauUs must be in (0, windowUs] for the linear code, got ${this.tau}`);
    if (this.log ? !(this.theta > 0 && this.theta < 1) : !(this.theta >= 0 && this.theta < 1)) throw new RangeError(`LatencyEncoder: threshold must be in ${this.log ? '(0, 1)' : '[0, 1)'}, got ${this.theta}`);
    const finite = (v: number) => Number.isFinite(v);
    this.min = perChannel('LatencyEncoder min', o.min ?? 0, o.channels, finite, 'finite');
    this.max = perChannel('LatencyEncoder max', o.max ?? 1, o.channels, finite, 'finite');
    for (let c = 0; c < o.channels; c++) if (!(this.max[c]! > this.min[c]!)) throw new RangeError(`LatencyEncoder: max must exceed min (channel ${c})`);
  }

  /** L_c in µs for value v, or undefined when the channel stays silent. */
  latency(c: number, v: number): number | undefined {
    if (!Number.isFinite(v)) return undefined;
    const s = Math.min(1, Math.max(0, (v - this.min[c]!) / (this.max[c]! - this.min[c]!)));
    if (s <= this.theta) return undefined;
    const l = this.log ? this.tau * Math.log(s / (s - this.theta)) : this.tau * (1 - s);
    return l < this.window ? l : undefined;
  }

  encode(tUs: number, values: ArrayLike<number>, out: SpikeOut): number {
    checkSample('LatencyEncoder', this.channels, this.lastT, tUs, values);
    this.lastT = tUs;
    let n = this.queue.drain(out, tUs);
    if (tUs >= this.windowEnd) {
      this.windowEnd = tUs + this.window;
      for (let c = 0; c < this.channels; c++) {
        const l = this.latency(c, values[c]!);
        if (l !== undefined) this.queue.add(tUs + l, c, 1);
      }
      n += this.queue.drain(out, tUs);
    }
    return n;
  }

  flush(out: SpikeOut): number {
    return this.queue.drain(out);
  }

  reset(): void {
    this.windowEnd = this.lastT = -Infinity;
    this.queue.clear();
  }
}
