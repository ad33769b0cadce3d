/**
 * SerialDecoder: bytes from a serial line, in any chunking, → EventPacket batches, for one of the
 * framings:
 *  - { kind: 'aer', layout }: raw binary AER words (resync needs a `sync` field in the layout);
 *  - { kind: 'cobs' | 'slip', crc?, payload }: delimited frames carrying a spikeflow wire Envelope
 *    (`payload: 'wire'`, the default: events and spikes become events; other messages go to `onWire`)
 *    or whole AER words (`payload: <layout or preset>`);
 *  - { kind: 'text', columns? }: event lines `t,address[,p]` / `t,x,y,p`;
 *  - { kind: 'analog', encoder }: sample lines `t,v0,v1,…` turned into spikes by an analog encoder.
 * One `push` returns what its bytes completed as (usually) one packet, so a source emits one batch
 * per read. Bad frames never stop decoding: they are counted by reason in `stats.badFrames` and
 * returned as DecodeErrors naming the absolute byte offset of the frame.
 * Pure: no I/O; adapters/serial-source.ts feeds it.
 */

import { PacketBuilder } from '../../events/builder.js';
import { UNKNOWN_GEOMETRY, type EventPacket, type Geometry } from '../../events/packet.js';
import type { PacketPool } from '../../events/pool.js';
import { decodeWire } from '../../wire/protobuf-codec.js';
import type { WireMessage } from '../../wire/messages.js';
import { DecodeError } from '../types.js';
import type { AerLayout, AerPreset } from './aer-layout.js';
import { AerWordDecoder } from './aer-words.js';
import { AnalogLineParser, type AnalogLineOptions } from './analog-lines.js';
import type { CrcKind, Endian } from './crc.js';
import { Deframer, type FrameKind } from './deframer.js';
import { LineSplitter } from './lines.js';
import { TextEventParser, type TextEventOptions } from './text-events.js';
import { noBadFrames, type BadFrameCounts, type BadFrameReason } from './types.js';

/** Not empty, not only a '#' comment. */
const CONTENT = /^\s*[^\s#]/;

export type FramePayload = 'wire' | AerPreset | AerLayout;

export type SerialFraming =
  | { readonly kind: 'aer'; readonly layout: AerPreset | AerLayout; readonly confirmWords?: number }
  | {
      readonly kind: FrameKind;
      readonly payload?: FramePayload;
      readonly crc?: CrcKind;
      readonly crcEndian?: Endian;
      readonly maxFrameBytes?: number;
      readonly recoverScan?: number;
    }
  | ({ readonly kind: 'text'; readonly maxLineBytes?: number } & TextEventOptions)
  | ({ readonly kind: 'analog'; readonly maxLineBytes?: number } & AnalogLineOptions);

export interface SerialDecoderOptions {
  readonly uri?: string;
  readonly geometry?: Geometry;
  readonly pool?: PacketPool;
  /** µs added to times decoded from AER words. */
  readonly timeBase?: number;
  /** Wire messages other than events and spikes (e.g. decisions sent back by the device). */
  readonly onWire?: (m: WireMessage) => void;
}

export interface SerialDecoderStats {
  bytes: number;
  /** Good frames: COBS/SLIP frames, text lines with content, or raw AER words. */
  frames: number;
  events: number;
  badFrames: BadFrameCounts;
  /** Wire messages that carried no events (decisions, metrics). */
  otherMessages: number;
}

export interface SerialDecodeResult {
  readonly packets: EventPacket[];
  readonly errors: DecodeError[];
}

export class SerialDecoder {
  readonly stats: SerialDecoderStats = { bytes: 0, frames: 0, events: 0, badFrames: noBadFrames(), otherMessages: 0 };
  readonly format: string;
  private readonly builder: PacketBuilder;
  private errors: DecodeError[] = [];
  private arrival = 0;
  private readonly deframer?: Deframer;
  private readonly words?: AerWordDecoder;
  private readonly lines?: LineSplitter;
  private readonly text?: TextEventParser;
  private readonly analog?: AnalogLineParser;
  private readonly bad = (reason: BadFrameReason, offset: number, detail: string) => {
    this.stats.badFrames[reason]++;
    this.errors.push(new DecodeError(this.format, offset, `${reason}: ${detail}`));
  };
  private readonly onLine = (line: string, offset: number) => {
    const before = this.errors.length;
    if (this.text) this.text.line(line, offset, this.arrival, this.builder, this.bad);
    else this.analog!.line(line, offset, this.arrival, this.builder, this.bad);
    // A good frame is a line with content that raised no error (an analog sample may give no spike).
    if (this.errors.length === before && CONTENT.test(line)) this.stats.frames++;
  };
  private readonly sink = {
    frame: (payload: Uint8Array, offset: number) => this.frame(payload, offset),
    bad: this.bad,
  };

  constructor(
    readonly framing: SerialFraming,
    private readonly o: SerialDecoderOptions = {},
  ) {
    this.format = `serial-${framing.kind}`;
    this.builder = new PacketBuilder(o.geometry ?? UNKNOWN_GEOMETRY, { format: this.format, uri: o.uri }, o.pool);
    const f = framing;
    if (f.kind === 'aer') this.words = new AerWordDecoder(f.layout, { timeBase: o.timeBase, confirmWords: f.confirmWords });
    else if (f.kind === 'cobs' || f.kind === 'slip') {
      this.deframer = new Deframer(f.kind, f);
      const payload = f.payload ?? 'wire';
      if (payload !== 'wire') this.words = new AerWordDecoder(payload, { timeBase: o.timeBase });
    } else if (f.kind === 'text') {
      this.lines = new LineSplitter(f.maxLineBytes);
      this.text = new TextEventParser(f);
    } else if (f.kind === 'analog') {
      this.lines = new LineSplitter(f.maxLineBytes);
      this.analog = new AnalogLineParser(f);
    } else throw new RangeError(`unknown serial framing '${String((f as { kind: unknown }).kind)}' (aer, cobs, slip, text, analog)`);
  }

  /** Decode one read's bytes; `arrivalUs` stamps events whose framing carries no time. */
  push(chunk: Uint8Array, arrivalUs = 0): SerialDecodeResult {
    this.arrival = arrivalUs;
    const offset = this.stats.bytes;
    this.stats.bytes += chunk.length;
    if (this.deframer) this.deframer.push(chunk, this.sink);
    else if (this.lines) this.lines.push(chunk, this.onLine, this.bad);
    else {
      const n = this.words!.pushStream(chunk, offset, arrivalUs, this.builder, this.bad);
      this.stats.frames += n;
    }
    return this.result();
  }

  /** End of stream: partial frames are reported, held spikes (latency encoder) written. */
  end(arrivalUs = this.arrival): SerialDecodeResult {
    this.arrival = arrivalUs;
    if (this.deframer) this.deframer.end(this.sink);
    else if (this.lines) {
      this.lines.end(this.onLine);
      this.analog?.flush(this.builder);
    } else this.words!.endStream(this.bad);
    return this.result();
  }

  /** Done with this decoder: its packet buffer goes back to the pool once the packets handed out are released. */
  close(): void {
    this.builder.finish();
  }

  /** Drop a partial frame, line or word (the connection was lost mid-frame); counters and time state stay. */
  reset(): void {
    this.deframer?.reset();
    this.lines?.reset();
    if (!this.deframer) this.words?.resetStream();
  }

  private frame(payload: Uint8Array, offset: number): void {
    if (this.words) {
      const before = this.stats.badFrames.parse;
      this.words.decodeFrame(payload, offset, this.arrival, this.builder, this.bad);
      if (this.stats.badFrames.parse === before) this.stats.frames++;
      return;
    }
    let m: WireMessage;
    try {
      m = decodeWire(payload);
    } catch (e) {
      this.bad('parse', offset, `not a wire Envelope (${e instanceof Error ? e.message : String(e)})`);
      return;
    }
    this.stats.frames++;
    if (m.kind === 'events') {
      const p = m.packet;
      const b = this.builder;
      for (let i = 0; i < p.length; i++) b.push(p.x[i]!, p.y[i]!, p.t[i]!, p.p[i]!);
    } else if (m.kind === 'spikes') {
      for (let i = 0; i < m.neuron.length; i++) {
        const n = m.neuron[i]!;
        if (n > 0xffff) {
          this.bad('parse', offset, `spike neuron ${n} beyond 65535`);
          continue;
        }
        this.builder.push(n, 0, m.timeStartUs + m.stepOffset[i]! * m.dtUs, 1);
      }
    } else {
      this.stats.otherMessages++;
      this.o.onWire?.(m);
    }
  }

  private result(): SerialDecodeResult {
    const packets = this.builder.take();
    for (const p of packets) this.stats.events += p.length;
    const errors = this.errors;
    if (errors.length > 0) this.errors = [];
    return { packets, errors };
  }
}
