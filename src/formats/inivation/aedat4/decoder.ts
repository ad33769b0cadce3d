/**
 * Streaming AEDAT 4.0 decoder: bytes in any chunking → event packets (all EVTS streams, each
 * packet tagged with its stream id in `source.stream`) and side batches (IMU, triggers, frames).
 *
 * A small state machine asks for exactly N bytes at a time — magic (14), header length (4),
 * IOHeader (n), packet header (8), packet payload (size). A unit that lies inside one chunk is used
 * in place; otherwise its bytes are gathered across chunks first (a payload is always decompressed
 * whole). Decoding stops at IOHeader.dataTablePosition, so the trailing FileDataTable is never read
 * as packets; with no table (−1) it runs to the end of the stream, and a table that follows anyway
 * (LZ4/ZSTD magic where a packet header should be, or an 'FTAB' payload) also ends the packets.
 *
 * Faults: a bad magic or unreadable IOHeader is fatal. A payload that does not decompress or parse
 * is reported and skipped. An implausible packet header (negative or huge size) is reported and
 * the decoder scans forward for the next plausible one (declared stream, sane size, payload that
 * starts like a frame of the file's codec). Packets of undeclared streams are reported once per id
 * and skipped; declared streams of types this reader does not know (POSE, BBOX, …) are counted.
 */

import { PacketBuilder } from '../../../events/builder.js';
import { UNKNOWN_GEOMETRY, type EventPacket, type Geometry, type SourceInfo } from '../../../events/packet.js';
import { SideCollector } from '../../../events/side.js';
import { DecodeError, type DecodeResult, type DecoderOptions, type StreamDecoder } from '../../types.js';
import { compressionName, decompressPayload } from './compression.js';
import { parseIoHeader, type StreamInfo } from './io-header.js';
import { readEventPacket, readFramePacket, readImuPacket, readTriggerPacket } from './packets.js';
import {
  Compression,
  DATA_TABLE_ID,
  EVENTS_ID,
  FORMAT,
  fourCC,
  FRAME_ID,
  IMU_ID,
  IO_HEADER_ID,
  LZ4_MAGIC_I32,
  MAGIC,
  MAX_HEADER_BYTES,
  MAX_PACKET_BYTES,
  TRIGGER_ID,
  ZSTD_MAGIC_I32,
} from './schema.js';

const enum Step {
  Magic,
  HeaderLength,
  Header,
  PacketHeader,
  Payload,
  /** Looking for the next plausible packet header after a corrupt one. */
  Scan,
  /** Data table (or nothing decodable) reached: remaining bytes are ignored. */
  Done,
}

/** What was seen, by packet kind (for `inspect` and tests). */
export interface Aedat4Stats {
  packets: number;
  eventPackets: number;
  imuPackets: number;
  triggerPackets: number;
  framePackets: number;
  /** Packets of declared streams whose typeIdentifier this reader does not decode. */
  unknownTypePackets: number;
  /** Packets of stream ids the IOHeader does not declare. */
  unknownStreamPackets: number;
  /** Packets whose payload failed to decompress or parse. */
  corruptPackets: number;
  events: number;
  /** Bytes after the packets (the data table) that were not decoded. */
  trailingBytes: number;
}

interface Stream {
  readonly info: StreamInfo;
  readonly source: SourceInfo;
  readonly geometry: Geometry;
}

const SCAN_WINDOW = 12;

export class Aedat4Decoder implements StreamDecoder {
  readonly format = FORMAT;
  geometry: Geometry = UNKNOWN_GEOMETRY;
  header: Record<string, string> = {};
  bytesIn = 0;
  failed = false;
  readonly stats: Aedat4Stats = {
    packets: 0,
    eventPackets: 0,
    imuPackets: 0,
    triggerPackets: 0,
    framePackets: 0,
    unknownTypePackets: 0,
    unknownStreamPackets: 0,
    corruptPackets: 0,
    events: 0,
    trailingBytes: 0,
  };

  private step = Step.Magic;
  private need = MAGIC.length;
  /** Bytes of the current unit gathered across chunks. */
  private unit = new Uint8Array(64);
  private unitFill = 0;
  private unitStart = 0;

  private compression = 0;
  private dataTablePosition = -1;
  private readonly streams = new Map<number, Stream>();
  private readonly reportedStreams = new Set<number>();
  private packetStream = 0;
  private packetStart = 0;
  private scanTail = new Uint8Array(0);
  private scanStart = 0;

  private readonly builder: PacketBuilder;
  private eventStream = -1;
  private readonly side = new SideCollector();
  private out: EventPacket[] = [];
  private errors: DecodeError[] = [];

  constructor(private readonly options: DecoderOptions = {}) {
    this.builder = new PacketBuilder(UNKNOWN_GEOMETRY, { format: FORMAT, uri: options.uri }, options.pool);
  }

  push(chunk: Uint8Array): DecodeResult {
    const base = this.bytesIn;
    this.bytesIn += chunk.length;
    if (!this.failed) this.feed(chunk, base);
    return this.result();
  }

  end(): DecodeResult {
    if (!this.failed) this.finish();
    return this.result(true);
  }

  private result(last = false): DecodeResult {
    const events = this.out;
    for (const p of last ? this.builder.finish() : this.builder.take()) events.push(p);
    this.out = [];
    const errors = this.errors;
    this.errors = [];
    return { events, side: this.side.take(), errors };
  }

  private error(offset: number, detail: string, fatal = false): void {
    this.errors.push(new DecodeError(FORMAT, offset, detail, fatal));
    if (fatal) {
      this.failed = true;
      this.step = Step.Done;
    }
  }

  /** Run the state machine over data[pos…]; `base` is the absolute offset of data[0]. */
  private feed(data: Uint8Array, base: number): void {
    let pos = 0;
    while (!this.failed) {
      if (this.step === Step.Done) {
        this.stats.trailingBytes += data.length - pos;
        return;
      }
      if (this.step === Step.Scan) {
        const found = this.scan(data.subarray(pos));
        if (!found) return;
        ({ data, base } = found);
        pos = 0;
        continue;
      }
      const need = this.need;
      let unit: Uint8Array;
      let unitOffset: number;
      if (this.unitFill === 0 && data.length - pos >= need) {
        unit = data.subarray(pos, pos + need);
        unitOffset = base + pos;
        pos += need;
      } else {
        if (pos >= data.length) return;
        if (this.unitFill === 0) this.unitStart = base + pos;
        const k = Math.min(need - this.unitFill, data.length - pos);
        this.gather(data.subarray(pos, pos + k), need);
        pos += k;
        if (this.unitFill < need) return;
        unit = this.unit.subarray(0, need);
        unitOffset = this.unitStart;
        this.unitFill = 0;
      }
      this.handle(unit, unitOffset);
    }
  }

  private gather(bytes: Uint8Array, need: number): void {
    const fill = this.unitFill + bytes.length;
    if (fill > this.unit.length) {
      // Grow geometrically (not straight to `need`): a bogus huge size in a truncated file costs nothing.
      const grown = new Uint8Array(Math.min(need, Math.max(fill, 2 * this.unit.length)));
      grown.set(this.unit.subarray(0, this.unitFill));
      this.unit = grown;
    }
    this.unit.set(bytes, this.unitFill);
    this.unitFill = fill;
  }

  private expect(step: Step, need: number): void {
    this.step = step;
    this.need = need;
  }

  private handle(unit: Uint8Array, offset: number): void {
    switch (this.step) {
      case Step.Magic:
        for (let i = 0; i < MAGIC.length; i++) {
          if (unit[i] !== MAGIC[i]) return this.error(offset, `not an AEDAT 4.0 stream: the file does not start with '#!AER-DAT4.0\\r\\n'`, true);
        }
        return this.expect(Step.HeaderLength, 4);
      case Step.HeaderLength: {
        const n = (unit[0]! | (unit[1]! << 8) | (unit[2]! << 16) | (unit[3]! << 24)) >>> 0;
        if (n < 8 || n > MAX_HEADER_BYTES) return this.error(offset, `implausible IOHeader length ${n}`, true);
        return this.expect(Step.Header, n);
      }
      case Step.Header:
        this.readHeader(unit, offset);
        return this.expect(Step.PacketHeader, 8);
      case Step.PacketHeader:
        return this.packetHeader(unit, offset);
      case Step.Payload:
        this.expect(Step.PacketHeader, 8);
        return this.payload(unit);
      default:
        return;
    }
  }

  private readHeader(bytes: Uint8Array, offset: number): void {
    let h;
    try {
      h = parseIoHeader(bytes);
    } catch (e) {
      return this.error(offset, `unreadable IOHeader: ${(e as Error).message}`, true);
    }
    if (h.identifier !== IO_HEADER_ID) this.error(offset + 4, `IOHeader identifier is '${h.identifier}', not '${IO_HEADER_ID}'`);
    if (h.compression < Compression.NONE || h.compression > Compression.ZSTD_HIGH) {
      return this.error(offset, `unknown compression ${h.compression} in the IOHeader`, true);
    }
    this.compression = h.compression;
    this.dataTablePosition = h.dataTablePosition;
    const header: Record<string, string> = {
      compression: compressionName(h.compression),
      dataTablePosition: String(h.dataTablePosition),
      streams: h.streams.map((s) => `${s.id}:${s.typeIdentifier}`).join(','),
    };
    for (const s of h.streams) {
      for (const [k, v] of Object.entries(s.attributes)) header[`stream.${s.id}.${k}`] = v;
      if (!this.geometry.width && s.typeIdentifier === EVENTS_ID && s.sizeX > 0 && s.sizeY > 0) {
        this.geometry = { width: s.sizeX, height: s.sizeY };
      }
    }
    for (const s of h.streams) {
      const geometry = s.sizeX > 0 && s.sizeY > 0 ? { width: s.sizeX, height: s.sizeY } : this.geometry;
      this.streams.set(s.id, { info: s, geometry, source: { format: FORMAT, uri: this.options.uri, stream: s.id } });
    }
    this.header = header;
  }

  private beyondPackets(offset: number): boolean {
    return this.dataTablePosition >= 0 && offset >= this.dataTablePosition;
  }

  private packetHeader(unit: Uint8Array, offset: number): void {
    if (this.beyondPackets(offset)) {
      this.step = Step.Done;
      this.stats.trailingBytes += 8;
      return;
    }
    const id = unit[0]! | (unit[1]! << 8) | (unit[2]! << 16) | (unit[3]! << 24);
    const size = unit[4]! | (unit[5]! << 8) | (unit[6]! << 16) | (unit[7]! << 24);
    const stream = this.streams.get(id);
    if (!stream && (id === LZ4_MAGIC_I32 || id === ZSTD_MAGIC_I32)) {
      // A compressed FileDataTable where the IOHeader promised none (−1).
      this.step = Step.Done;
      this.stats.trailingBytes += 8;
      return;
    }
    if (size < 0 || size > MAX_PACKET_BYTES || id < 0) {
      this.error(offset, `implausible packet header (stream ${id}, size ${size}); scanning for the next packet`);
      this.step = Step.Scan;
      this.scanTail = unit.slice(1);
      this.scanStart = offset + 1;
      return;
    }
    this.packetStream = id;
    this.packetStart = offset;
    this.expect(Step.Payload, size);
  }

  private payload(payload: Uint8Array): void {
    const id = this.packetStream;
    const offset = this.packetStart;
    const stream = this.streams.get(id);
    this.stats.packets++;
    if (!stream) {
      // Uncompressed FileDataTable misread as a packet: its "payload" starts with the identifier.
      if (this.compression === Compression.NONE && payload.length >= 4 && fourCC(payload, 0) === DATA_TABLE_ID) {
        this.stats.packets--;
        this.stats.trailingBytes += 8 + payload.length;
        this.step = Step.Done;
        return;
      }
      this.stats.unknownStreamPackets++;
      if (!this.reportedStreams.has(id)) {
        this.reportedStreams.add(id);
        this.error(offset, `packet of undeclared stream ${id} (${payload.length} bytes) skipped`);
      }
      return;
    }
    const type = stream.info.typeIdentifier;
    if (type !== EVENTS_ID && type !== IMU_ID && type !== TRIGGER_ID && type !== FRAME_ID) {
      this.stats.unknownTypePackets++;
      return;
    }
    try {
      const flat = decompressPayload(this.compression, payload);
      if (type === EVENTS_ID) {
        this.selectEventStream(stream);
        this.stats.events += readEventPacket(flat, this.builder);
        this.stats.eventPackets++;
      } else if (type === IMU_ID) {
        readImuPacket(flat, this.side);
        this.stats.imuPackets++;
      } else if (type === TRIGGER_ID) {
        readTriggerPacket(flat, this.side);
        this.stats.triggerPackets++;
      } else {
        readFramePacket(flat, this.side);
        this.stats.framePackets++;
      }
    } catch (e) {
      this.stats.corruptPackets++;
      this.error(offset, `${type} packet of stream ${id} (${payload.length} bytes) skipped: ${(e as Error).message}`);
    }
  }

  /** Events of another stream start a new packet, so each packet carries one stream's source and geometry. */
  private selectEventStream(stream: Stream): void {
    if (this.eventStream === stream.info.id) return;
    if (this.builder.pending > 0) for (const p of this.builder.take()) this.out.push(p);
    this.builder.source = stream.source;
    this.builder.geometry = stream.geometry;
    this.eventStream = stream.info.id;
  }

  /**
   * Scan data (after the bytes kept from earlier chunks) for a plausible packet header. Returns the
   * bytes to resume from (starting at that header) or undefined when more input is needed.
   */
  private scan(data: Uint8Array): { data: Uint8Array; base: number } | undefined {
    const tail = this.scanTail;
    const buf = new Uint8Array(tail.length + data.length);
    buf.set(tail);
    buf.set(data, tail.length);
    const start = this.scanStart;
    for (let p = 0; p + SCAN_WINDOW <= buf.length; p++) {
      if (this.beyondPackets(start + p)) {
        this.step = Step.Done;
        this.stats.trailingBytes += buf.length - p;
        return undefined;
      }
      if (this.plausiblePacketAt(buf, p)) {
        this.expect(Step.PacketHeader, 8);
        this.scanTail = new Uint8Array(0);
        return { data: buf.subarray(p), base: start + p };
      }
    }
    const keep = Math.min(buf.length, SCAN_WINDOW - 1);
    this.scanTail = buf.slice(buf.length - keep);
    this.scanStart = start + buf.length - keep;
    return undefined;
  }

  private plausiblePacketAt(b: Uint8Array, p: number): boolean {
    const id = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    const size = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    if (!this.streams.has(id) || size < 12 || size > MAX_PACKET_BYTES) return false;
    const head = b[p + 8]! | (b[p + 9]! << 8) | (b[p + 10]! << 16) | (b[p + 11]! << 24);
    switch (this.compression) {
      case Compression.NONE:
        return head === size - 4;
      case Compression.LZ4:
      case Compression.LZ4_HIGH:
        return head === LZ4_MAGIC_I32;
      default:
        return head === ZSTD_MAGIC_I32;
    }
  }

  private finish(): void {
    const at = this.unitFill > 0 ? this.unitStart : this.bytesIn;
    switch (this.step) {
      case Step.Magic:
      case Step.HeaderLength:
      case Step.Header:
        this.error(at, `stream ends inside the file header (${this.bytesIn} bytes)`, true);
        break;
      case Step.PacketHeader:
        if (this.beyondPackets(at)) {
          this.stats.trailingBytes += this.unitFill;
        } else if (this.unitFill > 0) {
          this.error(at, `stream ends inside a packet header (${this.unitFill} of 8 bytes)`);
        } else if (this.dataTablePosition > this.bytesIn) {
          this.error(this.bytesIn, `stream ends at byte ${this.bytesIn}, before the data table the IOHeader places at ${this.dataTablePosition}`);
        }
        break;
      case Step.Payload:
        this.error(this.packetStart, `truncated packet of stream ${this.packetStream}: ${this.unitFill} of ${this.need} payload bytes`);
        break;
      default:
        break;
    }
    this.unitFill = 0;
    this.step = Step.Done;
  }
}
