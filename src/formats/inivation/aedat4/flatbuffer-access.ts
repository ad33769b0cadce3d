/**
 * Checked flatbuffer reading on top of the `flatbuffers` runtime's ByteBuffer: hand-written
 * accessors for the handful of DV tables (no generated code). Every position is checked against
 * the buffer, so a corrupt packet throws a FlatbufferError (caught by the decoder and reported)
 * instead of producing garbage or looping over a bogus vector length.
 *
 * Offsets are absolute positions in the given bytes: a size-prefixed buffer keeps its 4-byte
 * prefix, so positions line up with the alignment DV used when building it.
 */

import { ByteBuffer } from 'flatbuffers';
import { fourCC } from './schema.js';

export class FlatbufferError extends Error {}

export interface FlatTable {
  readonly bb: ByteBuffer;
  /** Absolute position of the table. */
  readonly pos: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new FlatbufferError(what);
}

/** Validate a table position and its vtable; returns the table. */
export function tableAt(bb: ByteBuffer, pos: number): FlatTable {
  const size = bb.capacity();
  check(pos >= 0 && pos + 4 <= size, `table position ${pos} outside the ${size}-byte flatbuffer`);
  const vt = pos - bb.readInt32(pos);
  check(vt >= 0 && vt + 4 <= size, `vtable of the table at ${pos} is outside the flatbuffer`);
  const vtLength = bb.readUint16(vt);
  check(vtLength >= 4 && (vtLength & 1) === 0 && vt + vtLength <= size, `bad vtable length ${vtLength} at ${vt}`);
  check(pos + bb.readUint16(vt + 2) <= size, `table at ${pos} runs past the end of the flatbuffer`);
  return { bb, pos };
}

/**
 * Open a size-prefixed flatbuffer (u32 size | u32 root | 4-char identifier | …): checks that the
 * prefix matches the byte count and the identifier matches, and returns the root table.
 */
export function openSizePrefixed(bytes: Uint8Array, identifier: string): FlatTable {
  check(bytes.length >= 12, `payload of ${bytes.length} bytes is too short for a flatbuffer`);
  const bb = new ByteBuffer(bytes);
  const size = bb.readUint32(0);
  check(size + 4 === bytes.length, `flatbuffer size prefix ${size} does not match the ${bytes.length - 4} payload bytes`);
  const id = fourCC(bytes, 8);
  check(id === identifier, `flatbuffer identifier '${printable(id)}' where '${identifier}' was expected`);
  return tableAt(bb, 4 + bb.readUint32(4));
}

/** Open a flatbuffer without size prefix (the IOHeader: its length comes before it in the file). */
export function openRoot(bytes: Uint8Array): { table: FlatTable; identifier: string } {
  check(bytes.length >= 8, `${bytes.length} bytes are too short for a flatbuffer`);
  const bb = new ByteBuffer(bytes);
  return { table: tableAt(bb, bb.readUint32(0)), identifier: fourCC(bytes, 4) };
}

/** Absolute position of field `slot`, or 0 when the field is absent (default value). */
export function fieldPos(t: FlatTable, slot: number, bytes: number): number {
  const o = t.bb.__offset(t.pos, 4 + 2 * slot);
  if (o === 0) return 0;
  check(t.pos + o + bytes <= t.bb.capacity(), `field ${slot} of the table at ${t.pos} runs past the end`);
  return t.pos + o;
}

export function has(t: FlatTable, slot: number): boolean {
  return t.bb.__offset(t.pos, 4 + 2 * slot) !== 0;
}

/** int64 as a Number, exact up to 2^53 (DV times are µs since the Unix epoch), without BigInt. */
export function readInt64(bb: ByteBuffer, pos: number): number {
  return bb.readInt32(pos + 4) * 4294967296 + bb.readUint32(pos);
}

export function int64Field(t: FlatTable, slot: number, dflt: number): number {
  const p = fieldPos(t, slot, 8);
  return p === 0 ? dflt : readInt64(t.bb, p);
}
export function int32Field(t: FlatTable, slot: number, dflt: number): number {
  const p = fieldPos(t, slot, 4);
  return p === 0 ? dflt : t.bb.readInt32(p);
}
export function int16Field(t: FlatTable, slot: number, dflt: number): number {
  const p = fieldPos(t, slot, 2);
  return p === 0 ? dflt : t.bb.readInt16(p);
}
export function int8Field(t: FlatTable, slot: number, dflt: number): number {
  const p = fieldPos(t, slot, 1);
  return p === 0 ? dflt : t.bb.readInt8(p);
}
export function float32Field(t: FlatTable, slot: number, dflt: number): number {
  const p = fieldPos(t, slot, 4);
  return p === 0 ? dflt : t.bb.readFloat32(p);
}

/** A vector field: absolute position of its first element and its length (0/0 when absent). */
export function vectorField(t: FlatTable, slot: number, elementBytes: number): { start: number; length: number } {
  const p = fieldPos(t, slot, 4);
  if (p === 0) return { start: 0, length: 0 };
  const lengthPos = p + t.bb.readUint32(p);
  check(lengthPos + 4 <= t.bb.capacity(), `vector of field ${slot} starts outside the flatbuffer`);
  const length = t.bb.readUint32(lengthPos);
  const start = lengthPos + 4;
  check(start + length * elementBytes <= t.bb.capacity(), `vector of ${length} elements (field ${slot}) runs past the end of the flatbuffer`);
  return { start, length };
}

/** Element `i` of a vector of tables. */
export function tableElement(bb: ByteBuffer, vectorStart: number, i: number): FlatTable {
  const p = vectorStart + 4 * i;
  return tableAt(bb, p + bb.readUint32(p));
}

export function stringField(t: FlatTable, slot: number): string | undefined {
  const v = vectorField(t, slot, 1);
  if (v.start === 0) return undefined;
  return new TextDecoder().decode(t.bb.bytes().subarray(v.start, v.start + v.length));
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
