/**
 * Bit layouts of binary AER words as microcontrollers and FPGAs send them over a serial line.
 *
 * A word is 2, 4 or 8 bytes in either byte order; each field is `bits` wide starting at bit `shift`
 * (bit 0 = least significant bit of the word as an integer). Fields are at most 32 bits wide.
 * An event carries either x/y fields or one `address` field (x = address mod addressWidth,
 * y = ⌊address / addressWidth⌋; without addressWidth x = address, y = 0). Polarity: the `p` field
 * (non-zero = ON), or 1 when the layout has none (spikes). Time: the `t` field as ticks since the
 * previous event (`time: 'delta'`) or as a wrapping counter (`'absolute'`, unwrapped by the half-range
 * rule), times `tickUs`; without a t field events get the arrival time of their bytes.
 * An optional `sync` field must hold a constant: words that do not are rejected, which lets a raw
 * (unframed) word stream find the word boundary again after garbage.
 */

import type { Endian } from './crc.js';

export interface BitField {
  readonly shift: number;
  readonly bits: number;
}

export interface AerLayout {
  readonly wordBytes: 2 | 4 | 8;
  readonly endian: Endian;
  readonly x?: BitField;
  readonly y?: BitField;
  readonly address?: BitField;
  readonly p?: BitField;
  readonly t?: BitField;
  /** How the t field counts (default 'delta'). */
  readonly time?: 'delta' | 'absolute';
  /** Microseconds per t tick (default 1). */
  readonly tickUs?: number;
  readonly addressWidth?: number;
  readonly sync?: { readonly field: BitField; readonly value: number };
}

export type AerPreset = 'dt16-x8-y7-p1' | 'addr32-ts32' | 'addr15-p1' | 'xytp64';

/**
 * dt16-x8-y7-p1: 32-bit LE word, bits 0–15 µs since the previous event, x 16–23, y 24–30, p 31
 *   (a 256×128 sensor; a gap over 65.5 ms must be bridged by the sender with a repeated event).
 * addr32-ts32: 64-bit big-endian word, 32-bit address in the first four bytes and an absolute
 *   32-bit µs timestamp in the last four (the jAER / AEDAT 2 record).
 * addr15-p1: 16-bit LE word, 15-bit address and polarity bit 15; stamped on arrival.
 * xytp64: 64-bit LE word, absolute 32-bit µs timestamp in bits 0–31, x 32–43, y 44–55, p 56, and the
 *   sync nibble 0xA in bits 60–63 so a raw stream resynchronises after garbage.
 */
export const AER_PRESETS: Readonly<Record<AerPreset, AerLayout>> = Object.freeze({
  'dt16-x8-y7-p1': { wordBytes: 4, endian: 'little', t: { shift: 0, bits: 16 }, x: { shift: 16, bits: 8 }, y: { shift: 24, bits: 7 }, p: { shift: 31, bits: 1 }, time: 'delta' },
  'addr32-ts32': { wordBytes: 8, endian: 'big', t: { shift: 0, bits: 32 }, address: { shift: 32, bits: 32 }, time: 'absolute' },
  'addr15-p1': { wordBytes: 2, endian: 'little', address: { shift: 0, bits: 15 }, p: { shift: 15, bits: 1 } },
  xytp64: {
    wordBytes: 8,
    endian: 'little',
    t: { shift: 0, bits: 32 },
    x: { shift: 32, bits: 12 },
    y: { shift: 44, bits: 12 },
    p: { shift: 56, bits: 1 },
    time: 'absolute',
    sync: { field: { shift: 60, bits: 4 }, value: 0xa },
  },
});

export function resolveLayout(layout: AerLayout | AerPreset): AerLayout {
  const l = typeof layout === 'string' ? AER_PRESETS[layout] : layout;
  if (!l) throw new RangeError(`unknown AER preset '${String(layout)}' (known: ${Object.keys(AER_PRESETS).join(', ')})`);
  validateLayout(l);
  return l;
}

function validateLayout(l: AerLayout): void {
  if (l.wordBytes !== 2 && l.wordBytes !== 4 && l.wordBytes !== 8) throw new RangeError(`AER layout: wordBytes must be 2, 4 or 8, got ${l.wordBytes}`);
  if (l.endian !== 'little' && l.endian !== 'big') throw new RangeError(`AER layout: endian must be 'little' or 'big', got ${String(l.endian)}`);
  const fields: [string, BitField | undefined][] = [['x', l.x], ['y', l.y], ['address', l.address], ['p', l.p], ['t', l.t], ['sync', l.sync?.field]];
  const used: [string, BitField][] = [];
  for (const [name, f] of fields) {
    if (!f) continue;
    if (!Number.isInteger(f.shift) || !Number.isInteger(f.bits) || f.bits < 1 || f.bits > 32 || f.shift < 0 || f.shift + f.bits > l.wordBytes * 8) {
      throw new RangeError(`AER layout: field ${name} {shift ${f.shift}, bits ${f.bits}} does not fit a ${l.wordBytes * 8}-bit word (1–32 bits)`);
    }
    for (const [other, g] of used) {
      if (f.shift < g.shift + g.bits && g.shift < f.shift + f.bits) throw new RangeError(`AER layout: fields ${other} and ${name} overlap`);
    }
    used.push([name, f]);
  }
  if (l.address && (l.x || l.y)) throw new RangeError('AER layout: give either an address field or x/y fields, not both');
  if (!l.address && !l.x) throw new RangeError('AER layout: needs an address field or an x field');
  if (l.tickUs !== undefined && !(l.tickUs > 0)) throw new RangeError(`AER layout: tickUs must be > 0, got ${l.tickUs}`);
  if (l.addressWidth !== undefined && !(Number.isInteger(l.addressWidth) && l.addressWidth > 0)) throw new RangeError(`AER layout: addressWidth must be a positive integer, got ${l.addressWidth}`);
  if (l.sync && !(Number.isInteger(l.sync.value) && l.sync.value >= 0 && l.sync.value < 2 ** l.sync.field.bits)) throw new RangeError(`AER layout: sync value ${l.sync.value} does not fit ${l.sync.field.bits} bits`);
}

/** Field value from the word's low and high 32-bit halves (hi = 0 for 2- and 4-byte words). */
export function getField(lo: number, hi: number, f: BitField): number {
  const { shift, bits } = f;
  const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (shift >= 32) return ((hi >>> (shift - 32)) & mask) >>> 0;
  if (shift + bits <= 32) return ((lo >>> shift) & mask) >>> 0;
  const lowBits = 32 - shift;
  const low = lo >>> shift;
  const high = (hi & ((1 << (bits - lowBits)) - 1)) >>> 0;
  return low + high * 2 ** lowBits;
}

/** [lo, hi] with field `f` set to `v` (v must fit). */
export function setField(lo: number, hi: number, f: BitField, v: number): [number, number] {
  const { shift, bits } = f;
  if (shift >= 32) return [lo, (hi | (v << (shift - 32))) >>> 0];
  if (shift + bits <= 32) return [(lo | (v << shift)) >>> 0, hi];
  const lowBits = 32 - shift;
  const low = v % 2 ** lowBits;
  const high = Math.floor(v / 2 ** lowBits);
  return [(lo | (low << shift)) >>> 0, (hi | high) >>> 0];
}

/** x, y for an address: x = a mod width, y = ⌊a / width⌋, or (a, 0) without a width. */
export function addressToXY(address: number, width: number | undefined): [number, number] {
  if (width === undefined) return [address, 0];
  return [address % width, Math.floor(address / width)];
}
