/**
 * Streaming AEDAT 4.0 writer: magic + IOHeader on the first output, then one packet
 * (i32 streamId | i32 size | payload) per at most `maxPacketEvents` events, and per side batch.
 *
 * Streams: 0 events (EVTS, sizeX/sizeY from options.geometry or the first packet), and unless
 * `sideStreams: false`, 1 frames (FRME), 2 IMU (IMUS), 3 triggers (TRIG) — the ids DV uses for a
 * DAVIS. Compression: LZ4 (default, lz4js) or NONE; ZSTD only with a caller-supplied `compress`.
 *
 * Data table: a streaming writer cannot seek back to the header, so by default the IOHeader says
 * dataTablePosition = −1 (no table), which DV, dv-processing and faery accept. With
 * `dataTable: true`, end() also appends a FileDataTable and `headerPatch` gives the 8 bytes to write
 * over the header's dataTablePosition (at a fixed offset) for readers that require a table
 * (aestream); left unpatched, the file still reads here (the table is recognised and skipped).
 */

import type { EventPacket, Geometry } from '../../../events/packet.js';
import type { SideBatch } from '../../../events/side.js';
import type { EncoderOptions, StreamEncoder } from '../../types.js';
import { lz4CompressFrame } from './compression.js';
import { buildInfoNode, buildIoHeader, type StreamDeclaration } from './io-header.js';
import {
  buildDataTablePayload,
  buildEventPayload,
  buildFramePayload,
  buildImuPayload,
  buildTriggerPayload,
  type DataDefinition,
} from './packet-writers.js';
import { Compression, COMPRESSION_NAMES, EVENTS_ID, FORMAT, FRAME_ID, IMU_ID, MAGIC, TRIGGER_ID } from './schema.js';
import { concatBytes } from '../../bytes.js';

export interface Aedat4EncoderOptions extends EncoderOptions {
  /** 'lz4' (default), 'none', or 'zstd' together with `compress`. */
  readonly compression?: 'lz4' | 'none' | 'zstd';
  /** Compresses one payload into one frame of `compression` (required for 'zstd'). */
  readonly compress?: (payload: Uint8Array) => Uint8Array;
  /** Most events per EVTS packet (default 8192). */
  readonly maxPacketEvents?: number;
  /** Declare the frame/IMU/trigger streams (default true); when false, encodeSide counts them as dropped. */
  readonly sideStreams?: boolean;
  /** Append a FileDataTable at end() (default false); see `headerPatch`. */
  readonly dataTable?: boolean;
  /** Trigger id → DV trigger source: 'auto' (default) or 'edge' (see triggerSourceOf). */
  readonly triggerMapping?: 'auto' | 'edge';
  /** Written as the streams' `source` (camera name) attribute. */
  readonly sourceName?: string;
}

export const STREAM_IDS = { events: 0, frames: 1, imu: 2, triggers: 3 } as const;
const DEFAULT_PACKET_EVENTS = 8192;

export class Aedat4Encoder implements StreamEncoder {
  readonly format = FORMAT;
  droppedSide = 0;
  /** Once end() wrote a data table: patch `bytes` at `offset` to point the IOHeader at it. */
  headerPatch: { readonly offset: number; readonly bytes: Uint8Array } | undefined;

  private readonly compression: number;
  private readonly compress: (payload: Uint8Array) => Uint8Array;
  private readonly maxPacketEvents: number;
  private readonly sideStreams: boolean;
  private readonly withTable: boolean;
  private readonly triggerMapping: 'auto' | 'edge';
  private started = false;
  private ended = false;
  private written = 0;
  private dataTablePositionAt = 0;
  private readonly table: DataDefinition[] = [];

  constructor(private readonly options: Aedat4EncoderOptions = {}) {
    const c = options.compression ?? 'lz4';
    if (c === 'zstd' && !options.compress) throw new Error(`aedat4 writer: ZSTD needs a 'compress' function (no ZSTD compressor is bundled); use 'lz4' or 'none'`);
    if (c !== 'lz4' && c !== 'none' && c !== 'zstd') throw new Error(`aedat4 writer: unknown compression '${String(c)}' (lz4, none, zstd)`);
    this.compression = c === 'lz4' ? Compression.LZ4 : c === 'zstd' ? Compression.ZSTD : Compression.NONE;
    this.compress = options.compress ?? (c === 'lz4' ? lz4CompressFrame : (p) => p);
    const max = options.maxPacketEvents ?? DEFAULT_PACKET_EVENTS;
    if (!Number.isInteger(max) || max < 1) throw new Error(`aedat4 writer: maxPacketEvents must be a positive integer, got ${max}`);
    this.maxPacketEvents = max;
    this.sideStreams = options.sideStreams ?? true;
    this.withTable = options.dataTable ?? false;
    this.triggerMapping = options.triggerMapping ?? 'auto';
  }

  encode(packet: EventPacket): Uint8Array {
    const parts: Uint8Array[] = [];
    this.start(parts, packet.geometry);
    for (let s = 0; s < packet.length; s += this.maxPacketEvents) {
      const e = Math.min(packet.length, s + this.maxPacketEvents);
      this.packet(parts, STREAM_IDS.events, buildEventPayload(packet, s, e), e - s, packet.t[s]!, packet.t[e - 1]!);
    }
    return concatBytes(parts);
  }

  encodeSide(batch: SideBatch): Uint8Array {
    const parts: Uint8Array[] = [];
    this.start(parts);
    if (!this.sideStreams || batch.kind === 'monitor') {
      this.droppedSide += batch.kind === 'frame' ? 1 : batch.length;
      return concatBytes(parts);
    }
    if (batch.kind === 'frame') {
      this.packet(parts, STREAM_IDS.frames, buildFramePayload(batch), 1, batch.t, batch.t);
    } else if (batch.length > 0) {
      const payload = batch.kind === 'imu' ? buildImuPayload(batch) : buildTriggerPayload(batch, this.triggerMapping);
      const id = batch.kind === 'imu' ? STREAM_IDS.imu : STREAM_IDS.triggers;
      this.packet(parts, id, payload, batch.length, batch.t[0]!, batch.t[batch.length - 1]!);
    }
    return concatBytes(parts);
  }

  end(): Uint8Array {
    if (this.ended) return new Uint8Array(0);
    const parts: Uint8Array[] = [];
    this.start(parts);
    this.ended = true;
    if (this.withTable) {
      const position = this.written;
      const table = this.compress(buildDataTablePayload(this.table));
      parts.push(table);
      this.written += table.length;
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigInt64(0, BigInt(position), true);
      this.headerPatch = { offset: this.dataTablePositionAt, bytes };
    }
    return concatBytes(parts);
  }

  private start(parts: Uint8Array[], geometry?: Geometry): void {
    if (this.ended) throw new Error('aedat4 writer: encode after end()');
    if (this.started) return;
    this.started = true;
    const g = this.options.geometry ?? geometry ?? { width: 0, height: 0 };
    const source = this.options.sourceName ?? 'spikeflow';
    const sized = (): StreamDeclaration['info'] => [
      ['sizeX', 'int', g.width],
      ['sizeY', 'int', g.height],
      ['source', 'string', source],
      ['tsOffset', 'long', 0],
    ];
    const streams: StreamDeclaration[] = [
      { id: STREAM_IDS.events, typeIdentifier: EVENTS_ID, outputName: 'events', description: 'Array of events (polarity ON/OFF).', info: sized() },
    ];
    if (this.sideStreams) {
      const plain: StreamDeclaration['info'] = [['source', 'string', source], ['tsOffset', 'long', 0]];
      streams.push(
        { id: STREAM_IDS.frames, typeIdentifier: FRAME_ID, outputName: 'frames', description: 'Standard frame (8-bit image).', info: sized() },
        { id: STREAM_IDS.imu, typeIdentifier: IMU_ID, outputName: 'imu', description: 'Inertial Measurement Unit data samples.', info: plain },
        { id: STREAM_IDS.triggers, typeIdentifier: TRIGGER_ID, outputName: 'triggers', description: 'External triggers and special signals.', info: plain },
      );
    }
    const info = buildInfoNode(streams, COMPRESSION_NAMES[this.compression]!, 'spikeflow');
    const header = buildIoHeader(this.compression, -1, info);
    parts.push(MAGIC, header.bytes);
    this.dataTablePositionAt = MAGIC.length + header.dataTablePositionAt;
    this.written = MAGIC.length + header.bytes.length;
  }

  private packet(parts: Uint8Array[], streamId: number, payload: Uint8Array, elements: number, tStart: number, tEnd: number): void {
    const body = this.compress(payload);
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setInt32(0, streamId, true);
    dv.setInt32(4, body.length, true);
    parts.push(head, body);
    if (this.withTable) {
      this.table.push({ byteOffset: this.written + 8, streamId, size: body.length, numElements: elements, timestampStart: tStart, timestampEnd: tEnd });
    }
    this.written += 8 + body.length;
  }
}

