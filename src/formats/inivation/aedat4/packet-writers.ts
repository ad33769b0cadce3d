/**
 * Builders for AEDAT 4.0 packet payloads (size-prefixed flatbuffers, before compression).
 *
 * EVTS is laid out by hand — a fixed 32-byte preamble then the 16-byte Event structs — so the
 * event copy is one typed-array loop:
 *   0 u32 size prefix (total − 4) | 4 u32 root = 16 | 8 'EVTS'
 *   12 vtable { u16 6, u16 8, u16 4 (elements at table+4) } + 2 pad
 *   20 table { i32 soffset 8 → vtable at 12; u32 elements → 28 }
 *   28 u32 event count | 32 Event[count]  (8-byte aligned from the buffer start, as DV writes it)
 * TRIG, IMUS, FRME and the FileDataTable are rare and go through the flatbuffers Builder.
 */

import { Builder } from 'flatbuffers';
import type { EventPacket } from '../../../events/packet.js';
import type { FrameRecord, ImuBatch, TriggerBatch } from '../../../events/side.js';
import {
  DATA_TABLE_ID,
  DataDefinitionSlot,
  ELEMENTS_SLOT,
  EVENT_STRIDE,
  FRAME_FIELDS,
  FRAME_ID,
  frameFormatOfChannels,
  FrameSlot,
  IMU_FIELDS,
  IMU_ID,
  ImuSlot,
  TRIGGER_ID,
  TRIGGER_SOURCE_MAX,
  triggerEdgeValue,
  TriggerSlot,
  TriggerSource,
} from './schema.js';

const EVTS_PREAMBLE = 32;
const TWO_32 = 4294967296;

/** EVTS payload for events [start, end) of `packet`. Times are rounded to whole µs (int64 in the file). */
export function buildEventPayload(packet: EventPacket, start: number, end: number): Uint8Array {
  const n = end - start;
  const total = EVTS_PREAMBLE + EVENT_STRIDE * n;
  const w = new Int32Array(total / 4);
  const bytes = new Uint8Array(w.buffer);
  w[0] = total - 4;
  w[1] = 16;
  bytes.set([0x45, 0x56, 0x54, 0x53], 8); // 'EVTS'
  w[3] = 6 | (8 << 16);
  w[4] = 4;
  w[5] = 8;
  w[6] = 4;
  w[7] = n;
  const X = packet.x;
  const Y = packet.y;
  const T = packet.t;
  const P = packet.p;
  for (let i = start, k = EVTS_PREAMBLE / 4; i < end; i++, k += 4) {
    const t = Math.round(T[i]!);
    const hi = Math.floor(t / TWO_32);
    w[k] = t - hi * TWO_32; // 0 .. 2^32-1, wrapped to int32 by the store
    w[k + 1] = hi;
    w[k + 2] = X[i]! | (Y[i]! << 16);
    w[k + 3] = P[i]! === 0 ? 0 : 1;
  }
  return bytes;
}

function finishPayload(b: Builder, root: number, identifier: string): Uint8Array {
  b.finishSizePrefixed(root, identifier);
  return b.asUint8Array().slice();
}

function vectorOfTables(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

function elementsTable(b: Builder, elements: readonly number[], identifier: string): Uint8Array {
  const vec = vectorOfTables(b, elements);
  b.startObject(1);
  b.addFieldOffset(ELEMENTS_SLOT, vec, 0);
  return finishPayload(b, b.endObject(), identifier);
}

/**
 * DV trigger source for a TriggerBatch record. In 'auto' mode an id that is a DV type whose edge
 * agrees with `value` is kept (AEDAT4 → AEDAT4 round trips); anything else — e.g. an EVT2 channel —
 * becomes ExternalSignalRising/FallingEdge by `value`. 'edge' mode always maps by `value`.
 */
export function triggerSourceOf(id: number, value: number, mapping: 'auto' | 'edge'): number {
  if (mapping === 'auto' && id <= TRIGGER_SOURCE_MAX && triggerEdgeValue(id) === (value ? 1 : 0)) return id;
  return value ? TriggerSource.ExternalSignalRisingEdge : TriggerSource.ExternalSignalFallingEdge;
}

export function buildTriggerPayload(batch: TriggerBatch, mapping: 'auto' | 'edge'): Uint8Array {
  const b = new Builder(64 + 32 * batch.length);
  const offsets: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    b.startObject(2);
    b.addFieldInt64(TriggerSlot.t, BigInt(Math.round(batch.t[i]!)), BigInt(0));
    b.addFieldInt8(TriggerSlot.source, triggerSourceOf(batch.id[i]!, batch.value[i]!, mapping), 0);
    offsets.push(b.endObject());
  }
  return elementsTable(b, offsets, TRIGGER_ID);
}

/** IMU samples; NaN values (absent) are left out of the table, every other value is stored. */
export function buildImuPayload(batch: ImuBatch): Uint8Array {
  const b = new Builder(64 + 64 * batch.length);
  const offsets: number[] = [];
  const put = (slot: number, v: number) => {
    // Default `null` forces the store, so a genuine 0.0 is not mistaken for "absent".
    if (!Number.isNaN(v)) b.addFieldFloat32(slot, v, null);
  };
  for (let i = 0; i < batch.length; i++) {
    b.startObject(IMU_FIELDS);
    b.addFieldInt64(ImuSlot.t, BigInt(Math.round(batch.t[i]!)), BigInt(0));
    put(ImuSlot.temperature, batch.temperature[i]!);
    put(ImuSlot.accelX, batch.accel[3 * i]!);
    put(ImuSlot.accelY, batch.accel[3 * i + 1]!);
    put(ImuSlot.accelZ, batch.accel[3 * i + 2]!);
    put(ImuSlot.gyroX, batch.gyro[3 * i]!);
    put(ImuSlot.gyroY, batch.gyro[3 * i + 1]!);
    put(ImuSlot.gyroZ, batch.gyro[3 * i + 2]!);
    put(ImuSlot.magX, batch.mag[3 * i]!);
    put(ImuSlot.magY, batch.mag[3 * i + 1]!);
    put(ImuSlot.magZ, batch.mag[3 * i + 2]!);
    offsets.push(b.endObject());
  }
  return elementsTable(b, offsets, IMU_ID);
}

/**
 * One FRME payload. DV frames are 8-bit: 16-bit pixels (AEDAT 3.1 APS frames) keep their high
 * byte, as DV's own converters do. Start/end of frame are not known here: the exposure bounds are used.
 */
export function buildFramePayload(frame: FrameRecord): Uint8Array {
  const px = frame.pixels;
  let pixels: Uint8Array;
  if (px instanceof Uint8Array) pixels = px;
  else {
    pixels = new Uint8Array(px.length);
    for (let i = 0; i < px.length; i++) pixels[i] = px[i]! >>> 8;
  }
  const b = new Builder(256 + pixels.length);
  const vec = b.createByteVector(pixels);
  const t = (v: number) => BigInt(Math.round(v));
  b.startObject(FRAME_FIELDS);
  b.addFieldInt64(FrameSlot.t, t(frame.t), BigInt(0));
  b.addFieldInt64(FrameSlot.startOfFrame, t(frame.exposureStart), BigInt(0));
  b.addFieldInt64(FrameSlot.endOfFrame, t(frame.exposureEnd), BigInt(0));
  b.addFieldInt64(FrameSlot.exposureStart, t(frame.exposureStart), BigInt(0));
  b.addFieldInt64(FrameSlot.exposureEnd, t(frame.exposureEnd), BigInt(0));
  b.addFieldOffset(FrameSlot.pixels, vec, 0);
  b.addFieldInt16(FrameSlot.width, frame.width, 0);
  b.addFieldInt16(FrameSlot.height, frame.height, 0);
  b.addFieldInt8(FrameSlot.format, frameFormatOfChannels(frame.channels), 0);
  return finishPayload(b, b.endObject(), FRAME_ID);
}

/** One row of the FileDataTable: where a packet lies and what it holds. */
export interface DataDefinition {
  /** Offset of the packet's payload (after its 8-byte header). */
  readonly byteOffset: number;
  readonly streamId: number;
  readonly size: number;
  readonly numElements: number;
  readonly timestampStart: number;
  readonly timestampEnd: number;
}

export function buildDataTablePayload(rows: readonly DataDefinition[]): Uint8Array {
  const b = new Builder(64 + 64 * rows.length);
  const offsets: number[] = [];
  for (const r of rows) {
    b.startObject(5);
    b.addFieldInt64(DataDefinitionSlot.byteOffset, BigInt(r.byteOffset), BigInt(0));
    // PacketHeader struct { stream_id:int32; size:int32 } stored inline (written back to front).
    b.prep(4, 8);
    b.writeInt32(r.size);
    b.writeInt32(r.streamId);
    b.addFieldStruct(DataDefinitionSlot.packetInfo, b.offset(), 0);
    b.addFieldInt64(DataDefinitionSlot.numElements, BigInt(r.numElements), BigInt(0));
    b.addFieldInt64(DataDefinitionSlot.timestampStart, BigInt(Math.round(r.timestampStart)), BigInt(0));
    b.addFieldInt64(DataDefinitionSlot.timestampEnd, BigInt(Math.round(r.timestampEnd)), BigInt(0));
    offsets.push(b.endObject());
  }
  return elementsTable(b, offsets, DATA_TABLE_ID);
}
