/**
 * Readers for the decompressed AEDAT 4.0 packet payloads (size-prefixed flatbuffers, DV schemas):
 *
 *   EVTS  table EventPacket { elements:[Event]; }  struct Event { t:int64; x:int16; y:int16; on:bool; }
 *         → 16-byte stride, copied straight into the PacketBuilder's columns (hot path).
 *   IMUS  table ImuPacket { elements:[Imu]; }  table Imu { t:int64; temperature:float;
 *         accelerometerX/Y/Z:float (g); gyroscopeX/Y/Z:float (°/s); magnetometerX/Y/Z:float (µT); }
 *   TRIG  table TriggerPacket { elements:[Trigger]; }  table Trigger { t:int64; source:TriggerSource(int8); }
 *   FRME  table Frame { t, startOfFrame, endOfFrame, exposureStart, exposureEnd:int64; format:int8;
 *         sizeX, sizeY, positionX, positionY:int16; pixels:[uint8]; }   (one frame per packet)
 *
 * Every reader throws FlatbufferError on a malformed payload (the decoder reports and skips it).
 */

import type { PacketBuilder } from '../../../events/builder.js';
import type { SideCollector } from '../../../events/side.js';
import {
  fieldPos,
  float32Field,
  FlatbufferError,
  int16Field,
  int64Field,
  int8Field,
  openSizePrefixed,
  tableElement,
  vectorField,
} from './flatbuffer-access.js';
import {
  channelsOfFrameFormat,
  ELEMENTS_SLOT,
  EVENT_STRIDE,
  EVENTS_ID,
  FRAME_ID,
  FrameSlot,
  IMU_ID,
  ImuSlot,
  TRIGGER_ID,
  TriggerSlot,
  triggerEdgeValue,
} from './schema.js';

/** Int32 words over bytes[start, start+4*count): a view when 4-aligned, else a copy. */
function int32Words(bytes: Uint8Array, start: number, count: number): Int32Array {
  const at = bytes.byteOffset + start;
  if ((at & 3) === 0) return new Int32Array(bytes.buffer, at, count);
  return new Int32Array(bytes.slice(start, start + 4 * count).buffer);
}

/**
 * Append the events of an EVTS payload to `builder` (whose source/geometry the caller has set).
 * Returns the number of events.
 */
export function readEventPacket(payload: Uint8Array, builder: PacketBuilder): number {
  const root = openSizePrefixed(payload, EVENTS_ID);
  const { start, length } = vectorField(root, ELEMENTS_SLOT, EVENT_STRIDE);
  if (length === 0) return 0;
  const words = int32Words(payload, start, length * 4);
  const capacity = builder.capacity;
  let k = 0;
  for (let done = 0; done < length; ) {
    const batch = Math.min(capacity, length - done);
    builder.reserve(batch);
    const X = builder.x;
    const Y = builder.y;
    const T = builder.t;
    const P = builder.p;
    let n = builder.n;
    const end = n + batch;
    // Per event: words [t_lo, t_hi, x | y<<16, on | padding<<8]; the int64 time is rebuilt from
    // its halves (exact below 2^53) so no BigInt touches the hot path.
    for (; n < end; n++, k += 4) {
      T[n] = words[k + 1]! * 4294967296 + (words[k]! >>> 0);
      const xy = words[k + 2]!;
      X[n] = xy & 0xffff;
      Y[n] = xy >>> 16;
      P[n] = (words[k + 3]! & 0xff) === 0 ? 0 : 1;
    }
    builder.n = n;
    done += batch;
  }
  return length;
}

/** IMU samples of an IMUS payload into `side`. Absent temperature or magnetometer → NaN. */
export function readImuPacket(payload: Uint8Array, side: SideCollector): number {
  const root = openSizePrefixed(payload, IMU_ID);
  const { start, length } = vectorField(root, ELEMENTS_SLOT, 4);
  for (let i = 0; i < length; i++) {
    const s = tableElement(root.bb, start, i);
    const f = (slot: number) => float32Field(s, slot, 0);
    // DV omits fields at their default (0); a sensor without magnetometer omits all three.
    const hasMag = fieldPos(s, ImuSlot.magX, 4) !== 0 || fieldPos(s, ImuSlot.magY, 4) !== 0 || fieldPos(s, ImuSlot.magZ, 4) !== 0;
    side.imuSample(
      int64Field(s, ImuSlot.t, 0),
      [f(ImuSlot.accelX), f(ImuSlot.accelY), f(ImuSlot.accelZ)],
      [f(ImuSlot.gyroX), f(ImuSlot.gyroY), f(ImuSlot.gyroZ)],
      hasMag ? [f(ImuSlot.magX), f(ImuSlot.magY), f(ImuSlot.magZ)] : [NaN, NaN, NaN],
      float32Field(s, ImuSlot.temperature, NaN),
    );
  }
  return length;
}

/** Triggers of a TRIG payload into `side`: id = DV trigger source, value = its edge (see schema.ts). */
export function readTriggerPacket(payload: Uint8Array, side: SideCollector): number {
  const root = openSizePrefixed(payload, TRIGGER_ID);
  const { start, length } = vectorField(root, ELEMENTS_SLOT, 4);
  for (let i = 0; i < length; i++) {
    const tr = tableElement(root.bb, start, i);
    const source = int8Field(tr, TriggerSlot.source, 0);
    side.trigger(int64Field(tr, TriggerSlot.t, 0), source & 0xff, triggerEdgeValue(source));
  }
  return length;
}

/** The frame of a FRME payload into `side` (pixels copied out of the packet buffer). */
export function readFramePacket(payload: Uint8Array, side: SideCollector): number {
  const root = openSizePrefixed(payload, FRAME_ID);
  const width = int16Field(root, FrameSlot.width, 0);
  const height = int16Field(root, FrameSlot.height, 0);
  const format = int8Field(root, FrameSlot.format, 0);
  const { start, length } = vectorField(root, FrameSlot.pixels, 1);
  const area = width * height;
  let channels = channelsOfFrameFormat(format);
  if (channels === 0 && area > 0 && length % area === 0) channels = length / area;
  if (width < 0 || height < 0 || channels === 0 || length !== area * channels) {
    throw new FlatbufferError(`frame of ${width}x${height} (format ${format}) holds ${length} pixel bytes`);
  }
  const t = int64Field(root, FrameSlot.t, 0);
  side.frame({
    kind: 'frame',
    t,
    exposureStart: int64Field(root, FrameSlot.exposureStart, t),
    exposureEnd: int64Field(root, FrameSlot.exposureEnd, t),
    width,
    height,
    channels,
    pixels: payload.slice(start, start + length),
  });
  return 1;
}
