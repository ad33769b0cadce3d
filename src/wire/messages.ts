/** The wire messages as plain TypeScript records (see proto/spikeflow.proto for field meanings). */
import type { EventPacket } from '../events/packet.js';

export const WIRE_VERSION = 1;

export interface WireEvents {
  readonly kind: 'events';
  readonly sequence: number;
  readonly packet: EventPacket;
}

export interface SpikeBatch {
  readonly sequence: number;
  readonly source: string;
  readonly layer: string;
  readonly stepStart: number;
  readonly timeStartUs: number;
  readonly dtUs: number;
  /** Neuron index of each spike. */
  readonly neuron: Uint32Array;
  /** Step of each spike, relative to stepStart. */
  readonly stepOffset: Uint32Array;
}

export interface Decision {
  readonly sequence: number;
  readonly pipeline: string;
  readonly region: string;
  readonly label: string;
  readonly classIndex: number;
  readonly confidence: number;
  readonly timeUs: number;
  readonly latencySteps: number;
  readonly latencyUs: number;
  readonly emittedUnixMs: number;
}

export interface MetricsMessage {
  readonly sequence: number;
  readonly pipeline: string;
  readonly timeUnixMs: number;
  readonly values: Readonly<Record<string, number>>;
}

export type WireMessage =
  | WireEvents
  | ({ readonly kind: 'spikes' } & SpikeBatch)
  | ({ readonly kind: 'decision' } & Decision)
  | ({ readonly kind: 'metrics' } & MetricsMessage);

export type WireKind = WireMessage['kind'];
export const WIRE_KINDS: readonly WireKind[] = ['events', 'spikes', 'decision', 'metrics'];
