/**
 * AEDAT 3.1 (cAER / libcaer) decoder: an ASCII header, then a sequence of typed event packets.
 *
 * Header (inivation-docs §AEDAT 3.1): lines `#!AER-DAT3.1\r\n`, `#Format: RAW`, `#Source <id>: <device>`,
 * `#Start-Time: …`, …, terminated by `#!END-HEADER\r\n` (AEDAT 3.0 has no terminator: the header ends at
 * the first line not starting with '#'). Geometry comes from `sizeX`/`sizeY` when the header has them,
 * else from the first `#Source` device name (DVS128, DAVIS240, DAVIS346, DAVIS640, DVXplorer…).
 *
 * Packet (libcaer events/common.h, all little-endian): 28-byte header int16 eventType, int16
 * eventSource, int32 eventSize, int32 eventTSOffset, int32 eventTSOverflow, int32 eventCapacity,
 * int32 eventNumber, int32 eventValid; then eventCapacity × eventSize bytes of events, of which the
 * first eventNumber are used. Bit 0 of every event's first u32 is its valid mark: invalid events are
 * skipped. 64-bit time = eventTSOverflow · 2^31 + the event's int32 timestamp (at eventTSOffset).
 *   0 SPECIAL  (8 B): u32 data (type bits 7..1, data 31..8), int32 ts. External-input types
 *              (2/3/4 input 0 rising/falling/pulse, 6/7/8 input 1, 9/10/11 input 2, 12/13 generator)
 *              → trigger side stream (id 0..3, value 1 rising/pulse, 0 falling); every other special
 *              event (timestamp wrap/reset, frame/exposure markers, …) → monitor side stream with the
 *              special type as subtype.
 *   1 POLARITY (8 B): u32 data: valid bit 0, polarity bit 1 (1 ON), y bits 16..2, x bits 31..17; int32 ts.
 *              (0,0) is upper-left. Events outside a known geometry are reported and skipped.
 *   2 FRAME:   u32 info (channels bits 3..1), int32 ts_startframe, ts_endframe, ts_startexposure,
 *              ts_endexposure, lengthX, lengthY, positionX, positionY, then u16 pixels row by row
 *              (RGB(A) order) → frame side records (16-bit pixels; RGB(A) reordered to BGR(A)).
 *   3 IMU6 (36 B) / 4 IMU9 (48 B): u32 info, int32 ts, float32 accel x/y/z (g), gyro x/y/z (°/s),
 *              temperature (°C)[, compass x/y/z (µT)] → imu side stream.
 * Other packet types are skipped by their declared size, each with a non-fatal DecodeError.
 * A packet header that cannot be right (negative or oversized counts, a size that does not fit the
 * type) is reported, and the decoder searches byte by byte for the next plausible packet header.
 */

import { PacketBuilder } from '../../events/builder.js';
import { UNKNOWN_GEOMETRY, type Geometry, type SourceInfo } from '../../events/packet.js';
import { SideCollector } from '../../events/side.js';
import { ascii } from '../bytes.js';
import { decodeResult } from '../decode-result.js';
import { FaultRuns } from '../fault-runs.js';
import { HeaderLineScanner } from '../text-header.js';
import { DecodeError, NO_RESULT, type DecodeResult, type DecoderOptions, type FormatDescriptor, type StreamDecoder } from '../types.js';

const FORMAT = 'aedat31';
const HASH = 0x23;
const END_HEADER = '#!END-HEADER';
/** Header lines are kept up to this length. */
const MAX_HEADER_LINE_BYTES = 65536;
const PACKET_HEADER_BYTES = 28;
const TS_OVERFLOW_UNIT = 2147483648; // 2^31: timestamps are non-negative int32
/** Far above any cAER packet (even a 640x480 RGBA frame is 2.4 MB): larger means a corrupt header. */
const MAX_PACKET_BYTES = 64 * 1024 * 1024;
/** While resynchronising, candidates with more events than this are not believed. */
const MAX_RESYNC_EVENTS = 1 << 20;
/** libcaer's types are 0..13; anything far beyond is a corrupt header rather than an unknown type. */
const MAX_EVENT_TYPE = 127;

const SPECIAL = 0;
const POLARITY = 1;
const FRAME = 2;
const IMU6 = 3;
const IMU9 = 4;
const TYPE_NAMES = ['SPECIAL', 'POLARITY', 'FRAME', 'IMU6', 'IMU9', 'SAMPLE', 'EAR', 'CONFIG', 'POINT1D', 'POINT2D', 'POINT3D', 'POINT4D', 'SPIKE', 'MATRIX4x4'];
const FIXED_SIZES: Record<number, number> = { [SPECIAL]: 8, [POLARITY]: 8, [IMU6]: 36, [IMU9]: 48 };
const FRAME_HEADER_BYTES = 36;

/** Special event type → [trigger id, value]; types not listed are monitor words. */
const TRIGGER_TYPES: Record<number, readonly [number, number]> = {
  2: [0, 1],
  3: [0, 0],
  4: [0, 1],
  6: [1, 1],
  7: [1, 0],
  8: [1, 1],
  9: [2, 1],
  10: [2, 0],
  11: [2, 1],
  12: [3, 1],
  13: [3, 0],
};

/** Sensor array sizes by cAER device name, longest names first. */
const DEVICE_GEOMETRY: ReadonlyArray<readonly [RegExp, Geometry]> = [
  [/DVXPLORER[\s_-]*LITE/i, { width: 320, height: 240 }],
  [/DVXPLORER/i, { width: 640, height: 480 }],
  [/DVS[\s_-]*128/i, { width: 128, height: 128 }],
  [/DAVIS[\s_-]*240/i, { width: 240, height: 180 }],
  [/DAVIS[\s_-]*346/i, { width: 346, height: 260 }],
  [/DAVIS[\s_-]*640/i, { width: 640, height: 480 }],
  [/DAVIS[\s_-]*208/i, { width: 208, height: 192 }],
  [/DAVIS[\s_-]*128/i, { width: 128, height: 128 }],
];

interface PacketHeader {
  type: number;
  source: number;
  size: number;
  tsOffset: number;
  tsOverflow: number;
  capacity: number;
  number: number;
  valid: number;
}

/** Growable FIFO of bytes; appends copy only the new chunk, consumption just moves a cursor. */
class ByteQueue {
  buf = new Uint8Array(0);
  start = 0;
  end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      // Grow when more than half full, else compact in place: amortised O(1) per byte either way.
      if (need * 2 > this.buf.length) {
        const next = new Uint8Array(Math.max(need * 2, 65536));
        next.set(this.buf.subarray(this.start, this.end), 0);
        this.buf = next;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }
}

function geometryFromHeader(header: Record<string, string>, text: string): Geometry {
  const sx = /sizeX\D{0,40}?(\d+)/.exec(text);
  const sy = /sizeY\D{0,40}?(\d+)/.exec(text);
  if (sx && sy) return { width: Number(sx[1]), height: Number(sy[1]) };
  const sourceKey = Object.keys(header).find((k) => /^Source\s*\d+$/.test(k));
  const device = sourceKey ? header[sourceKey]! : '';
  for (const [re, g] of DEVICE_GEOMETRY) if (re.test(device)) return g;
  return UNKNOWN_GEOMETRY;
}

/**
 * Why `h` cannot be a packet header, or '' when it can. While resynchronising (`strict`) only the
 * supported types with their usual layout and a non-decreasing overflow counter are accepted.
 */
function packetHeaderProblem(h: PacketHeader, strict: boolean, lastOverflow: number): string {
  if (h.type < 0 || h.type > MAX_EVENT_TYPE) return `event type ${h.type}`;
  if (h.source < 0) return `negative event source ${h.source}`;
  if (h.size <= 0) return `event size ${h.size}`;
  const fixed = FIXED_SIZES[h.type];
  if (fixed !== undefined && h.size !== fixed) return `event size ${h.size} for a ${TYPE_NAMES[h.type]} packet (expected ${fixed})`;
  if (h.type === FRAME && h.size < FRAME_HEADER_BYTES) return `event size ${h.size} for a FRAME packet`;
  if (h.tsOffset < 0 || h.tsOffset > h.size - 4) return `timestamp offset ${h.tsOffset} outside a ${h.size}-byte event`;
  if (h.tsOverflow < 0) return `negative timestamp overflow ${h.tsOverflow}`;
  if (h.capacity < 0 || h.number < 0 || h.number > h.capacity) return `event number ${h.number} / capacity ${h.capacity}`;
  if (h.valid < 0 || h.valid > h.number) return `valid count ${h.valid} / event number ${h.number}`;
  if (PACKET_HEADER_BYTES + h.capacity * h.size > MAX_PACKET_BYTES) return `packet of ${h.capacity} x ${h.size} bytes`;
  if (strict) {
    if (fixed === undefined && h.type !== FRAME) return 'unsupported type';
    if (h.capacity === 0 || h.capacity > MAX_RESYNC_EVENTS || h.number !== h.capacity || (h.type !== FRAME && h.tsOffset !== 4)) return 'unusual layout';
    if (h.tsOverflow < lastOverflow) return 'overflow counter going back';
  }
  return '';
}

class Aedat31Decoder implements StreamDecoder {
  readonly format = 'aedat31' as const;
  geometry: Geometry = UNKNOWN_GEOMETRY;
  readonly header: Record<string, string> = {};
  bytesIn = 0;
  readonly failed = false;
  /** Events skipped because their valid mark was clear. */
  invalidEvents = 0;
  /** Packets of unsupported types skipped by their declared size. */
  skippedPackets = 0;

  private phase: 'header' | 'body' | 'done' = 'header';
  private readonly headerScanner = new HeaderLineScanner(HASH, (line) => this.headerLine(line), MAX_HEADER_LINE_BYTES);
  private headerText = '';
  private readonly queue = new ByteQueue();
  /** Absolute stream offset of queue.start. */
  private queueOffset = 0;
  /** True while searching for a plausible packet header after a corrupt one. */
  private resyncing = false;
  private readonly builder: PacketBuilder;
  private readonly sideData = new SideCollector();
  /** Polarity events outside the geometry: one error per run of consecutive ones within a packet. */
  private readonly outside = new FaultRuns(FORMAT, FIXED_SIZES[POLARITY]!, (count, why) => `${count} polarity event(s) ${why} skipped`);
  private lastOverflow = 0;

  constructor(options: DecoderOptions = {}) {
    const source: SourceInfo = { format: FORMAT, uri: options.uri };
    this.builder = new PacketBuilder(UNKNOWN_GEOMETRY, source, options.pool);
  }

  push(chunk: Uint8Array): DecodeResult {
    const start = this.bytesIn;
    this.bytesIn += chunk.length;
    if (this.phase === 'done') return NO_RESULT;
    let k = 0;
    if (this.phase === 'header') {
      k = this.readHeader(chunk, start);
      if (this.phase === 'header') return NO_RESULT;
    }
    this.queue.append(k === 0 ? chunk : chunk.subarray(k));
    const errors: DecodeError[] = [];
    this.decodePackets(errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.phase === 'done') return NO_RESULT;
    const errors: DecodeError[] = [];
    if (this.phase === 'header' && this.bytesIn > 0) {
      errors.push(new DecodeError(FORMAT, this.bytesIn, 'stream ended inside the header (no #!END-HEADER)'));
    } else if (this.queue.length > 0) {
      const what = this.resyncing ? 'bytes without a plausible packet header' : 'truncated packet';
      errors.push(new DecodeError(FORMAT, this.queueOffset, `${what}: ${this.queue.length} byte(s) at end of stream`));
    }
    this.phase = 'done';
    return this.result(errors);
  }

  private result(errors: DecodeError[]): DecodeResult {
    return decodeResult((this.phase === 'done' ? this.builder.finish() : this.builder.take()), this.sideData.take(), errors);
  }

  /** Header lines start with '#'; the header ends after `#!END-HEADER` (3.1) or at the first other line (3.0). */
  private readHeader(chunk: Uint8Array, chunkStart: number): number {
    const body = this.headerScanner.scan(chunk);
    if (body < 0) return chunk.length;
    this.finishHeader(chunkStart + body);
    return body;
  }

  /** Records one header line; true when it ends the header. */
  private headerLine(text: string): boolean {
    if (text.startsWith(END_HEADER)) return true;
    this.headerText += text + '\n';
    const version = /^#!AER-DAT(\d+\.\d+)/.exec(text);
    if (version) {
      this.header['version'] = version[1]!;
      return false;
    }
    const kv = /^#-?\s*([A-Za-z][\w-]*(?: \d+)?)\s*:\s*(.*)$/.exec(text);
    if (kv && this.header[kv[1]!] === undefined) this.header[kv[1]!] = kv[2]!.trim();
    return false;
  }

  private finishHeader(offset: number): void {
    this.phase = 'body';
    this.queueOffset = offset;
    this.geometry = geometryFromHeader(this.header, this.headerText);
    this.builder.geometry = this.geometry;
  }

  private readPacketHeader(view: DataView, at: number): PacketHeader {
    return {
      type: view.getInt16(at, true),
      source: view.getInt16(at + 2, true),
      size: view.getInt32(at + 4, true),
      tsOffset: view.getInt32(at + 8, true),
      tsOverflow: view.getInt32(at + 12, true),
      capacity: view.getInt32(at + 16, true),
      number: view.getInt32(at + 20, true),
      valid: view.getInt32(at + 24, true),
    };
  }

  private decodePackets(errors: DecodeError[]): void {
    const q = this.queue;
    const view = new DataView(q.buf.buffer, q.buf.byteOffset, q.buf.byteLength);
    while (q.length >= PACKET_HEADER_BYTES) {
      const h = this.readPacketHeader(view, q.start);
      const problem = packetHeaderProblem(h, this.resyncing, this.lastOverflow);
      if (problem) {
        if (!this.resyncing) {
          errors.push(new DecodeError(FORMAT, this.queueOffset, `corrupt packet header (${problem}); searching for the next packet`));
          this.resyncing = true;
        }
        q.consume(1);
        this.queueOffset += 1;
        continue;
      }
      const bytes = PACKET_HEADER_BYTES + h.capacity * h.size;
      if (q.length < bytes) return; // wait for the rest of the packet
      this.resyncing = false;
      this.lastOverflow = h.tsOverflow;
      this.decodePacket(h, view, q.start + PACKET_HEADER_BYTES, this.queueOffset, errors);
      q.consume(bytes);
      this.queueOffset += bytes;
    }
  }

  private decodePacket(h: PacketHeader, view: DataView, events: number, offset: number, errors: DecodeError[]): void {
    const timeBase = h.tsOverflow * TS_OVERFLOW_UNIT;
    switch (h.type) {
      case POLARITY:
        this.decodePolarity(h, view, events, offset, timeBase, errors);
        return;
      case SPECIAL:
        this.decodeSpecial(h, view, events, timeBase);
        return;
      case FRAME:
        this.decodeFrames(h, view, events, offset, timeBase, errors);
        return;
      case IMU6:
      case IMU9:
        this.decodeImu(h, view, events, timeBase);
        return;
      default:
        this.skippedPackets++;
        errors.push(new DecodeError(FORMAT, offset, `skipped a packet of unsupported type ${h.type} (${TYPE_NAMES[h.type] ?? 'unknown'}): ${h.number} event(s) of ${h.size} bytes`));
    }
  }

  private decodePolarity(h: PacketHeader, view: DataView, events: number, offset: number, timeBase: number, errors: DecodeError[]): void {
    const b = this.builder;
    const width = this.geometry.width || 0x8000;
    const height = this.geometry.height || 0x8000;
    const size = h.size;
    let outside: number[] | undefined;
    let i = 0;
    while (i < h.number) {
      const blockEnd = Math.min(h.number, i + b.capacity);
      b.reserve(blockEnd - i);
      const X = b.x;
      const Y = b.y;
      const T = b.t;
      const P = b.p;
      let o = b.n;
      for (; i < blockEnd; i++) {
        const e = events + i * size;
        const data = view.getUint32(e, true);
        if ((data & 1) === 0) {
          this.invalidEvents++;
          continue;
        }
        const x = data >>> 17;
        const y = (data >>> 2) & 0x7fff;
        if (x >= width || y >= height) {
          (outside ??= []).push(i);
          continue;
        }
        X[o] = x;
        Y[o] = y;
        P[o] = (data >>> 1) & 1;
        T[o] = timeBase + view.getInt32(e + 4, true);
        o++;
      }
      b.n = o;
    }
    if (outside) {
      const why = `outside the ${this.geometry.width}x${this.geometry.height} geometry`;
      const firstEvent = offset + PACKET_HEADER_BYTES;
      for (const i of outside) this.outside.note(firstEvent + i * size, why, errors);
      this.outside.flush(errors);
    }
  }

  private decodeSpecial(h: PacketHeader, view: DataView, events: number, timeBase: number): void {
    for (let i = 0; i < h.number; i++) {
      const e = events + i * h.size;
      const data = view.getUint32(e, true);
      if ((data & 1) === 0) {
        this.invalidEvents++;
        continue;
      }
      const type = (data >>> 1) & 0x7f;
      const t = timeBase + view.getInt32(e + h.tsOffset, true);
      const trigger = TRIGGER_TYPES[type];
      if (trigger) this.sideData.trigger(t, trigger[0], trigger[1]);
      else this.sideData.monitor(t, type);
    }
  }

  private decodeImu(h: PacketHeader, view: DataView, events: number, timeBase: number): void {
    const f = (at: number) => view.getFloat32(at, true);
    for (let i = 0; i < h.number; i++) {
      const e = events + i * h.size;
      if ((view.getUint32(e, true) & 1) === 0) {
        this.invalidEvents++;
        continue;
      }
      const t = timeBase + view.getInt32(e + h.tsOffset, true);
      const mag = h.type === IMU9 ? [f(e + 36), f(e + 40), f(e + 44)] : undefined;
      this.sideData.imuSample(t, [f(e + 8), f(e + 12), f(e + 16)], [f(e + 20), f(e + 24), f(e + 28)], mag, f(e + 32));
    }
  }

  private decodeFrames(h: PacketHeader, view: DataView, events: number, offset: number, timeBase: number, errors: DecodeError[]): void {
    for (let i = 0; i < h.number; i++) {
      const e = events + i * h.size;
      const info = view.getUint32(e, true);
      if ((info & 1) === 0) {
        this.invalidEvents++;
        continue;
      }
      const channels = (info >>> 1) & 7;
      const width = view.getInt32(e + 20, true);
      const height = view.getInt32(e + 24, true);
      const samples = width * height * channels;
      if (channels === 0 || width < 0 || height < 0 || FRAME_HEADER_BYTES + samples * 2 > h.size) {
        errors.push(new DecodeError(FORMAT, offset + PACKET_HEADER_BYTES + i * h.size, `frame of ${width}x${height}x${channels} does not fit its ${h.size}-byte event`));
        continue;
      }
      const pixels = new Uint16Array(samples);
      const p0 = e + FRAME_HEADER_BYTES;
      for (let k = 0; k < samples; k++) pixels[k] = view.getUint16(p0 + 2 * k, true);
      if (channels >= 3) {
        // libcaer stores RGB(A); FrameRecord promises BGR(A).
        for (let k = 0; k < samples; k += channels) {
          const r = pixels[k]!;
          pixels[k] = pixels[k + 2]!;
          pixels[k + 2] = r;
        }
      }
      this.sideData.frame({
        kind: 'frame',
        t: timeBase + view.getInt32(e + h.tsOffset, true),
        exposureStart: timeBase + view.getInt32(e + 12, true),
        exposureEnd: timeBase + view.getInt32(e + 16, true),
        width,
        height,
        channels,
        pixels,
      });
    }
  }
}

function sniffAedat31(head: Uint8Array): number {
  return ascii(head.subarray(0, 10)) === '#!AER-DAT3' ? 1 : 0;
}

export const aedat31Format: FormatDescriptor = {
  name: 'aedat31',
  description: 'iniVation AEDAT 3.1 (cAER): # header to #!END-HEADER, 28-byte packet headers, polarity/special/frame/IMU packets',
  extensions: ['.aedat'],
  sniff: sniffAedat31,
  createDecoder: (options?: DecoderOptions) => new Aedat31Decoder(options),
};
