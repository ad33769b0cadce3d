/**
 * SerialFrameEncoder: wire messages (decisions, event packets, spike batches) → bytes for a
 * microcontroller on a serial line, in the framings SerialDecoder reads:
 *  - { kind: 'cobs' | 'slip', payload: 'wire' }: one protobuf Envelope per frame (default);
 *  - { kind: 'cobs' | 'slip', payload: 'compact' }: decisions as the 16-byte record of
 *    compact-decision.ts, events and spikes as AER words of `layout` (default 'xytp64');
 *  - { kind: 'text' }: lines — events `t,x,y,p`, spikes `t,neuron`, decisions `D,…`;
 *  - { kind: 'aer', layout }: raw AER words (events and spikes only).
 * Event packets and spike batches are split into frames of at most `maxEventsPerFrame` (default 128),
 * so frames stay small enough for an MCU's receive buffer and the reader's maxFrameBytes.
 * Messages a framing cannot carry (metrics; decisions on raw AER) are counted in `stats.dropped`.
 * Spikes become events x = neuron, y = 0, t = timeStartUs + stepOffset·dtUs, p = 1.
 */

import { packetOf, slicePacket, UNKNOWN_GEOMETRY, type EventPacket } from '../../events/packet.js';
import { encodeWire } from '../../wire/protobuf-codec.js';
import type { SpikeBatch, WireMessage } from '../../wire/messages.js';
import type { AerLayout, AerPreset } from './aer-layout.js';
import { AerWordEncoder } from './aer-words.js';
import { decisionLine, encodeCompactDecision } from './compact-decision.js';
import type { CrcKind, Endian } from './crc.js';
import { encodeFrame, type FrameKind } from './deframer.js';
import { concatBytes } from '../bytes.js';

export type SerialSinkFraming =
  | {
      readonly kind: FrameKind;
      readonly payload?: 'wire' | 'compact';
      readonly crc?: CrcKind;
      readonly crcEndian?: Endian;
      readonly layout?: AerPreset | AerLayout;
      readonly maxEventsPerFrame?: number;
      /** Put a delimiter before each frame too (default true), so line noise before it cannot corrupt it. */
      readonly leadingDelimiter?: boolean;
    }
  | { readonly kind: 'text'; readonly maxEventsPerFrame?: number }
  | { readonly kind: 'aer'; readonly layout: AerPreset | AerLayout; readonly maxEventsPerFrame?: number };

export interface SerialFrameEncoderStats {
  /** Frames (COBS/SLIP), lines (text) or word blocks (raw AER) produced. */
  frames: number;
  events: number;
  decisions: number;
  /** Messages the framing cannot carry, and events whose address did not fit the AER layout. */
  dropped: number;
}

const textEncoder = new TextEncoder();

function spikesAsEvents(s: SpikeBatch): EventPacket {
  const n = s.neuron.length;
  const x = new Uint16Array(n);
  const t = new Float64Array(n);
  const p = new Uint8Array(n).fill(1);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (s.neuron[i]! > 0xffff) continue;
    x[k] = s.neuron[i]!;
    t[k++] = s.timeStartUs + s.stepOffset[i]! * s.dtUs;
  }
  return packetOf(x.subarray(0, k), new Uint16Array(k), t.subarray(0, k), p.subarray(0, k), UNKNOWN_GEOMETRY, { format: 'spikes', uri: `${s.source}/${s.layer}` });
}


export class SerialFrameEncoder {
  readonly stats: SerialFrameEncoderStats = { frames: 0, events: 0, decisions: 0, dropped: 0 };
  private readonly words?: AerWordEncoder;
  private readonly perFrame: number;

  constructor(readonly framing: SerialSinkFraming) {
    const f = framing;
    if (f.kind === 'aer') this.words = new AerWordEncoder(f.layout);
    else if ((f.kind === 'cobs' || f.kind === 'slip') && f.payload === 'compact') this.words = new AerWordEncoder(f.layout ?? 'xytp64');
    else if (f.kind !== 'cobs' && f.kind !== 'slip' && f.kind !== 'text') throw new RangeError(`unknown serial sink framing '${String((f as { kind: unknown }).kind)}' (cobs, slip, text, aer)`);
    this.perFrame = f.maxEventsPerFrame ?? 128;
    if (!(Number.isInteger(this.perFrame) && this.perFrame > 0)) throw new RangeError(`maxEventsPerFrame must be a positive integer, got ${this.perFrame}`);
  }

  /** Bytes to write for `m` (empty when nothing can be sent). */
  encode(m: WireMessage): Uint8Array {
    const f = this.framing;
    if (m.kind === 'metrics' || (m.kind === 'decision' && f.kind === 'aer')) {
      this.stats.dropped++;
      return new Uint8Array(0);
    }
    if (m.kind === 'decision') {
      this.stats.decisions++;
      this.stats.frames++;
      if (f.kind === 'text') return textEncoder.encode(decisionLine(m));
      return this.frame(f.kind === 'aer' ? new Uint8Array(0) : f.payload === 'compact' ? encodeCompactDecision(m) : encodeWire(m));
    }
    const packet = m.kind === 'events' ? m.packet : spikesAsEvents(m);
    if (m.kind === 'spikes') this.stats.dropped += m.neuron.length - packet.length;
    const parts: Uint8Array[] = [];
    for (let s = 0; s < packet.length; s += this.perFrame) {
      const part = slicePacket(packet, s, s + this.perFrame);
      if (f.kind === 'text') {
        let text = '';
        for (let i = 0; i < part.length; i++) text += m.kind === 'events' ? `${part.t[i]},${part.x[i]},${part.y[i]},${part.p[i]}\n` : `${part.t[i]},${part.x[i]}\n`;
        parts.push(textEncoder.encode(text));
        this.stats.frames += part.length;
        this.stats.events += part.length;
        continue;
      }
      if (this.words) {
        const before = this.words.stats.outOfRange;
        const bytes = this.words.encode(part);
        this.stats.dropped += this.words.stats.outOfRange - before;
        this.stats.events += bytes.length / this.words.layout.wordBytes;
        if (bytes.length === 0) continue;
        this.stats.frames++;
        parts.push(f.kind === 'aer' ? bytes : this.frame(bytes));
        continue;
      }
      this.stats.events += part.length;
      this.stats.frames++;
      const wire: WireMessage = m.kind === 'events' ? { kind: 'events', sequence: m.sequence, packet: part } : { ...m, neuron: m.neuron.subarray(s, s + this.perFrame), stepOffset: m.stepOffset.subarray(s, s + this.perFrame) };
      parts.push(this.frame(encodeWire(wire)));
    }
    return parts.length === 0 ? new Uint8Array(0) : concatBytes(parts);
  }

  private frame(payload: Uint8Array): Uint8Array {
    const f = this.framing;
    if (f.kind !== 'cobs' && f.kind !== 'slip') return payload;
    return encodeFrame(f.kind, payload, f.crc ?? 'none', f.crcEndian ?? 'little', f.leadingDelimiter ?? true);
  }
}
