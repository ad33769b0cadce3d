/**
 * encode: analog value samples → spike packets, through one of the analog encoders of
 * src/encoders (delta / threshold-crossing, seeded rate, latency), so sampled sensors (microphone
 * bands, IMU axes, serial ADC lines) feed the same operators and SNN inputs as event cameras.
 *
 * Each input sample { tUs, values } gives one output packet (possibly empty) whose events have
 * x = output address of the encoder (channel, or 2·channel + polarity where the encoder splits
 * ON/OFF), y = 0, geometry outputs × 1. Spikes an encoder holds for later (latency code) come out
 * with a later sample's packet, and the rest in a last packet when the source completes.
 *
 * @example
 *   import { map, range } from 'rxjs';
 *   import { encode, binSteps } from 'spikeflow/operators';
 *   range(0, 1000).pipe(
 *     map((k) => ({ tUs: k * 1000, values: [Math.sin(k / 50), Math.cos(k / 50)] })),
 *     encode({ kind: 'delta', channels: 2, threshold: 0.05 }),
 *     binSteps({ dtUs: 1000, layout: 'y-x' }),
 *   ).subscribe((s) => console.log(s.step, s.active));
 */

import { Observable, type OperatorFunction } from 'rxjs';
import { concatPackets, allocatePacket, type EventPacket, type Geometry, type SourceInfo } from '../src/events/packet.js';
import { PacketBuilder } from '../src/events/builder.js';
import { createEncoder, type EncoderSpec } from '../src/encoders/create.js';

/** One sample of every channel at one time. */
export interface ValueSample {
  readonly tUs: number;
  readonly values: ArrayLike<number>;
}

export function encode(spec: EncoderSpec, options: { readonly source?: SourceInfo } = {}): OperatorFunction<ValueSample, EventPacket> {
  // Built once here so a bad spec throws when the pipeline is assembled, not on first data.
  const probe = createEncoder(spec);
  const geometry: Geometry = Object.freeze({ width: probe.outputs, height: 1 });
  const source: SourceInfo = options.source ?? { format: `encode-${spec.kind}` };
  return (input) =>
    new Observable<EventPacket>((subscriber) => {
      const encoder = createEncoder(spec);
      const builder = new PacketBuilder(geometry, source);
      const packetOfTaken = (): EventPacket => {
        const taken = builder.take();
        return taken.length === 0 ? allocatePacket(0, geometry, source) : concatPackets(taken);
      };
      const subscription = input.subscribe({
        next(sample) {
          try {
            encoder.encode(sample.tUs, sample.values, builder);
          } catch (error) {
            return subscriber.error(error);
          }
          subscriber.next(packetOfTaken());
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          if (encoder.flush(builder) > 0) subscriber.next(packetOfTaken());
          builder.finish();
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
