/**
 * Analog → spike encoders: sampled sensor values (one vector of `channels` values per sample time)
 * become address-events. Every encoder is pure and deterministic (the rate encoder given its seed),
 * writes its spikes through `out.push(x, 0, tUs, p)` — a PacketBuilder fits — in non-decreasing time
 * order across calls, and keeps per-channel state between samples. Sample times must not decrease.
 */

export interface SpikeOut {
  push(x: number, y: number, t: number, p: number): void;
}

export interface AnalogEncoder {
  readonly kind: 'delta' | 'rate' | 'latency';
  readonly channels: number;
  /** Number of output addresses (x ranges over 0 … outputs − 1). */
  readonly outputs: number;
  /** One sample at tUs; returns the number of spikes written. */
  encode(tUs: number, values: ArrayLike<number>, out: SpikeOut): number;
  /** Spikes still held for later times (latency encoder); written now. */
  flush(out: SpikeOut): number;
  /** Forget all state, as if no sample had been seen. */
  reset(): void;
}

/** A per-channel parameter: one number for all channels, or one per channel. */
export type PerChannel = number | readonly number[];

export function perChannel(name: string, v: PerChannel, channels: number, check: (x: number) => boolean, want: string): Float64Array {
  const out = new Float64Array(channels);
  if (typeof v === 'number') out.fill(v);
  else {
    if (v.length !== channels) throw new RangeError(`${name}: ${v.length} values for ${channels} channels`);
    out.set(v);
  }
  for (let c = 0; c < channels; c++) if (!check(out[c]!)) throw new RangeError(`${name} must be ${want}, got ${out[c]} (channel ${c})`);
  return out;
}

export function checkChannels(name: string, channels: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > 32768) throw new RangeError(`${name}: channels must be an integer in 1..32768, got ${channels}`);
}

export function checkSample(name: string, channels: number, lastT: number, tUs: number, values: ArrayLike<number>): void {
  if (values.length !== channels) throw new RangeError(`${name}: ${values.length} values for ${channels} channels`);
  if (!Number.isFinite(tUs)) throw new RangeError(`${name}: sample time ${tUs} is not finite`);
  if (tUs < lastT) throw new RangeError(`${name}: sample time ${tUs} µs is before the previous sample (${lastT} µs)`);
}
