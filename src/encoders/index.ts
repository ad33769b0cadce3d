/** Analog → spike encoders (send-on-delta, rate, latency) and the factory the serial analog framing uses. */
export type { AnalogEncoder, SpikeOut, PerChannel } from './types.js';
export { DeltaEncoder, type DeltaEncoderOptions } from './delta.js';
export { RateEncoder, type RateEncoderOptions } from './rate.js';
export { LatencyEncoder, type LatencyEncoderOptions } from './latency.js';
export { createEncoder, type EncoderSpec } from './create.js';
