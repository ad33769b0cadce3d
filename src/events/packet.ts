/**
 * EventPacket: one batch of address-events as struct-of-arrays typed arrays.
 *
 * One Rx emission carries one packet; no per-event objects exist on the hot path.
 * `t` is microseconds in a Float64Array: integers are exact up to 2^53 µs (285 years),
 * which covers AEDAT4's Unix-epoch int64 times.
 *
 * A packet may be a view (subarray) of a larger packet: `slicePacket` never copies.
 */

export interface Geometry {
  readonly width: number;
  readonly height: number;
}

/** Where a packet came from. Kept small: it is shared by every packet of a stream. */
export interface SourceInfo {
  /** Format name as in the registry, e.g. 'evt3', 'aedat4', or a live source kind ('emulator', 'udp-spif'). */
  readonly format: string;
  /** File path, URL or device name. */
  readonly uri?: string;
  /** Stream id inside a multi-stream container (AEDAT4 stream id, AEDAT3 source id). */
  readonly stream?: number;
}

export interface EventPacket {
  /** Number of valid events; the arrays are exactly this long. */
  readonly length: number;
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  /** Timestamps in microseconds. Non-decreasing within a packet for well-formed sources. */
  readonly t: Float64Array;
  /** 1 = ON (brightness increase), 0 = OFF. */
  readonly p: Uint8Array;
  readonly geometry: Geometry;
  readonly source: SourceInfo;
}

export const UNKNOWN_GEOMETRY: Geometry = Object.freeze({ width: 0, height: 0 });

/** Wrap existing arrays (all the same length) as a packet, without copying. */
export function packetOf(
  x: Uint16Array,
  y: Uint16Array,
  t: Float64Array,
  p: Uint8Array,
  geometry: Geometry,
  source: SourceInfo,
): EventPacket {
  const n = x.length;
  if (y.length !== n || t.length !== n || p.length !== n) {
    throw new RangeError(`packetOf: array lengths differ (x ${n}, y ${y.length}, t ${t.length}, p ${p.length})`);
  }
  return { length: n, x, y, t, p, geometry, source };
}

/**
 * Zeroed x, y, t, p arrays of `length` events carved from one ArrayBuffer (t first, for its 8-byte
 * alignment): one allocation and one object for the collector to track instead of four, which
 * matters at millions of events per second in short-lived packets.
 */
export function eventArrays(length: number): { x: Uint16Array; y: Uint16Array; t: Float64Array; p: Uint8Array } {
  return eventArraysIn(new ArrayBuffer(length * 13), length);
}

/** eventArrays' layout over an existing buffer of at least 13 × length bytes (t, then x, y, p). */
export function eventArraysIn(b: ArrayBuffer, length: number): { x: Uint16Array; y: Uint16Array; t: Float64Array; p: Uint8Array } {
  return { t: new Float64Array(b, 0, length), x: new Uint16Array(b, 8 * length, length), y: new Uint16Array(b, 10 * length, length), p: new Uint8Array(b, 12 * length, length) };
}

/** A fresh packet with zeroed arrays of the given length. */
export function allocatePacket(length: number, geometry: Geometry, source: SourceInfo): EventPacket {
  const { x, y, t, p } = eventArrays(length);
  return packetOf(x, y, t, p, geometry, source);
}

/** Build a packet from plain arrays (tests, small inputs). Copies. */
export function packetFromArrays(
  events: { x: ArrayLike<number>; y: ArrayLike<number>; t: ArrayLike<number>; p: ArrayLike<number> },
  geometry: Geometry = UNKNOWN_GEOMETRY,
  source: SourceInfo = { format: 'memory' },
): EventPacket {
  return packetOf(Uint16Array.from(events.x), Uint16Array.from(events.y), Float64Array.from(events.t), Uint8Array.from(events.p), geometry, source);
}

export const EMPTY_PACKET: EventPacket = allocatePacket(0, UNKNOWN_GEOMETRY, { format: 'none' });

/** Events [start, end) as views of the same memory: O(1), no copy. */
export function slicePacket(packet: EventPacket, start: number, end: number = packet.length): EventPacket {
  const s = Math.max(0, Math.min(start, packet.length));
  const e = Math.max(s, Math.min(end, packet.length));
  if (s === 0 && e === packet.length) return packet;
  return {
    length: e - s,
    x: packet.x.subarray(s, e),
    y: packet.y.subarray(s, e),
    t: packet.t.subarray(s, e),
    p: packet.p.subarray(s, e),
    geometry: packet.geometry,
    source: packet.source,
  };
}

/**
 * Concatenate packets. A single non-empty packet is returned as is (no copy);
 * otherwise one copy into fresh arrays. Geometry and source come from the first packet.
 */
export function concatPackets(packets: readonly EventPacket[]): EventPacket {
  const nonEmpty = packets.filter((p) => p.length > 0);
  if (nonEmpty.length === 0) return packets[0] ?? EMPTY_PACKET;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  let n = 0;
  for (const pk of nonEmpty) n += pk.length;
  const out = allocatePacket(n, nonEmpty[0]!.geometry, nonEmpty[0]!.source);
  let o = 0;
  for (const pk of nonEmpty) {
    out.x.set(pk.x, o);
    out.y.set(pk.y, o);
    out.t.set(pk.t, o);
    out.p.set(pk.p, o);
    o += pk.length;
  }
  return out;
}

/** Deep copy, e.g. before handing a pooled packet to a consumer that keeps it. */
export function clonePacket(packet: EventPacket): EventPacket {
  return packetOf(packet.x.slice(), packet.y.slice(), packet.t.slice(), packet.p.slice(), packet.geometry, packet.source);
}

/** Same geometry-free event content (x, y, t, p) in the same order. */
export function packetsEqual(a: EventPacket, b: EventPacket): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a.x[i] !== b.x[i] || a.y[i] !== b.y[i] || a.t[i] !== b.t[i] || a.p[i] !== b.p[i]) return false;
  }
  return true;
}

/** Count of ON events (p = 1). */
export function countOn(packet: EventPacket): number {
  let on = 0;
  const p = packet.p;
  for (let i = 0; i < p.length; i++) on += p[i]!;
  return on;
}
