/**
 * AEDAT 4.0 constants shared by the reader and the writer: the file magic, the IOHeader
 * compression enum, the stream type identifiers, the flatbuffer slot numbers of the DV schemas
 * (dv-processing / aestream / faery *.fbs), and the DV trigger types.
 *
 * File layout:  '#!AER-DAT4.0\r\n' | u32 n | IOHeader flatbuffer (n bytes, identifier 'IOHE')
 *               | { i32 streamId | i32 size | size bytes (one LZ4/ZSTD frame, or raw) }*
 *               | FileDataTable (identifier 'FTAB') at IOHeader.dataTablePosition, when >= 0.
 * Each packet payload, once decompressed, is a size-prefixed flatbuffer whose identifier is the
 * stream's typeIdentifier (EVTS, FRME, IMUS, TRIG, …).
 */

export const FORMAT = 'aedat4';

/** '#!AER-DAT4.0\r\n' */
export const MAGIC = new Uint8Array([0x23, 0x21, 0x41, 0x45, 0x52, 0x2d, 0x44, 0x41, 0x54, 0x34, 0x2e, 0x30, 0x0d, 0x0a]);

/** IOHeader.compression (enum CompressionType : int32). */
export const Compression = { NONE: 0, LZ4: 1, LZ4_HIGH: 2, ZSTD: 3, ZSTD_HIGH: 4 } as const;
export type CompressionCode = (typeof Compression)[keyof typeof Compression];
export const COMPRESSION_NAMES = ['NONE', 'LZ4', 'LZ4_HIGH', 'ZSTD', 'ZSTD_HIGH'] as const;

/** First four bytes of an LZ4 frame (04 22 4D 18) and of a ZSTD frame (28 B5 2F FD), read as LE int32. */
export const LZ4_MAGIC_I32 = 0x184d2204;
export const ZSTD_MAGIC_I32 = 0xfd2fb528 | 0;

/** Stream type identifiers (also the payload flatbuffers' file identifiers). */
export const EVENTS_ID = 'EVTS';
export const FRAME_ID = 'FRME';
export const IMU_ID = 'IMUS';
export const TRIGGER_ID = 'TRIG';
export const DATA_TABLE_ID = 'FTAB';
export const IO_HEADER_ID = 'IOHE';

/** Bytes per Event struct { t:int64; x:int16; y:int16; on:bool } (8-byte aligned). */
export const EVENT_STRIDE = 16;

/** Slot numbers (field index in declaration order) of the tables we read and write. */
export const IoHeaderSlot = { compression: 0, dataTablePosition: 1, infoNode: 2 } as const;
/** EventPacket, ImuPacket, TriggerPacket: one field, `elements`. */
export const ELEMENTS_SLOT = 0;
export const ImuSlot = {
  t: 0,
  temperature: 1,
  accelX: 2,
  accelY: 3,
  accelZ: 4,
  gyroX: 5,
  gyroY: 6,
  gyroZ: 7,
  magX: 8,
  magY: 9,
  magZ: 10,
} as const;
export const IMU_FIELDS = 11;
export const TriggerSlot = { t: 0, source: 1 } as const;
export const FrameSlot = {
  t: 0,
  startOfFrame: 1,
  endOfFrame: 2,
  exposureStart: 3,
  exposureEnd: 4,
  format: 5,
  width: 6,
  height: 7,
  positionX: 8,
  positionY: 9,
  pixels: 10,
} as const;
export const FRAME_FIELDS = 11;
/** FileDataDefinition { byte_offset:int64; packet_info:PacketHeader (struct i32,i32); num_elements, timestamp_start, timestamp_end:int64 }. */
export const DataDefinitionSlot = { byteOffset: 0, packetInfo: 1, numElements: 2, timestampStart: 3, timestampEnd: 4 } as const;

/** Frame.format (OpenCV type codes): channels per pixel. */
export const FrameFormat = { GRAY: 0, BGR: 16, BGRA: 24 } as const;
export function channelsOfFrameFormat(format: number): number {
  return format === FrameFormat.GRAY ? 1 : format === FrameFormat.BGR ? 3 : format === FrameFormat.BGRA ? 4 : 0;
}
export function frameFormatOfChannels(channels: number): number {
  return channels === 3 ? FrameFormat.BGR : channels === 4 ? FrameFormat.BGRA : FrameFormat.GRAY;
}

/**
 * DV TriggerSource (int8). A TriggerBatch keeps the DV type as `id`; `value` is the edge:
 * 0 for the falling/ending kinds, 1 for everything else (rising, pulse, begin, reset).
 */
export const TriggerSource = {
  TimestampReset: 0,
  ExternalSignalRisingEdge: 1,
  ExternalSignalFallingEdge: 2,
  ExternalSignalPulse: 3,
  ExternalGeneratorRisingEdge: 4,
  ExternalGeneratorFallingEdge: 5,
  FrameBegin: 6,
  FrameEnd: 7,
  ExposureBegin: 8,
  ExposureEnd: 9,
} as const;
export const TRIGGER_SOURCE_MAX = 9;

export function triggerEdgeValue(source: number): number {
  return source === TriggerSource.ExternalSignalFallingEdge ||
    source === TriggerSource.ExternalGeneratorFallingEdge ||
    source === TriggerSource.FrameEnd ||
    source === TriggerSource.ExposureEnd
    ? 0
    : 1;
}

/** Largest packet payload believed: beyond it a packet header is taken for corruption. */
export const MAX_PACKET_BYTES = 512 * 1024 * 1024;
/** Largest IOHeader believed (real ones are a few KiB of XML). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

const latin1 = new TextDecoder('latin1');
export function fourCC(bytes: Uint8Array, offset: number): string {
  return latin1.decode(bytes.subarray(offset, offset + 4));
}
