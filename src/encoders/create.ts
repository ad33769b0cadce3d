/** An encoder from a plain, JSON-able spec (what a serial source or a pipeline file names). */
import { DeltaEncoder, type DeltaEncoderOptions } from './delta.js';
import { LatencyEncoder, type LatencyEncoderOptions } from './latency.js';
import { RateEncoder, type RateEncoderOptions } from './rate.js';
import type { AnalogEncoder } from './types.js';

export type EncoderSpec = ({ readonly kind: 'delta' } & DeltaEncoderOptions) | ({ readonly kind: 'rate' } & RateEncoderOptions) | ({ readonly kind: 'latency' } & LatencyEncoderOptions);

export function createEncoder(spec: EncoderSpec): AnalogEncoder {
  switch (spec.kind) {
    case 'delta':
      return new DeltaEncoder(spec);
    case 'rate':
      return new RateEncoder(spec);
    case 'latency':
      return new LatencyEncoder(spec);
    default:
      throw new RangeError(`unknown encoder kind '${String((spec as { kind: unknown }).kind)}' (delta, rate, latency)`);
  }
}
