/**
 * Binary AER words <-> events, for a layout from aer-layout.ts. Two ways in:
 *  - `decodeFrame`: a frame payload (COBS/SLIP) holding whole words; a length that is not a multiple
 *    of the word size rejects the frame (parse).
 *  - `pushStream`: a raw, unframed word stream in any chunking. With a `sync` field in the layout, a
 *    word whose sync bits are wrong starts a resync: the decoder slides one byte at a time until
 *    `confirmWords` consecutive words have valid sync bits, and counts the skipped bytes as one bad
 *    frame (framing). Without a sync field every word is taken as it comes (no resync possible).
 * The encoder writes the same words; it clamps delta times that do not fit (keeping the running time
 * it sent, so later deltas catch up) and skips events whose x/y/address do not fit their fields.
 */

import type { EventPacket } from '../../events/packet.js';
import { addressToXY, getField, resolveLayout, setField, type AerLayout, type AerPreset } from './aer-layout.js';
import type { BadFrameReason } from './types.js';

export interface EventOut {
  push(x: number, y: number, t: number, p: number): void;
}

export type BadReport = (reason: BadFrameReason, offset: number, detail: string) => void;

export interface AerCodecOptions {
  /** µs added to decoded times / subtracted before encoding (default 0). */
  readonly timeBase?: number;
  /** Consecutive valid words needed to accept a word boundary after garbage in a raw stream (default 2). */
  readonly confirmWords?: number;
}

// Top-level helpers, not closures: they run once per word (and per byte while resyncing).
function r32(b: Uint8Array, k: number, little: boolean): number {
  return little ? (b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24)) >>> 0 : ((b[k]! << 24) | (b[k + 1]! << 16) | (b[k + 2]! << 8) | b[k + 3]!) >>> 0;
}

/** Low 32 bits of the word at b[i]; `hiOut[0]` receives the high 32 bits (0 for 2- and 4-byte words). */
function readWord(b: Uint8Array, i: number, bytes: number, little: boolean, hiOut: Uint32Array): number {
  if (bytes === 2) {
    hiOut[0] = 0;
    return little ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
  }
  if (bytes === 4) {
    hiOut[0] = 0;
    return r32(b, i, little);
  }
  hiOut[0] = r32(b, little ? i + 4 : i, little);
  return r32(b, little ? i : i + 4, little);
}

function w32(b: Uint8Array, k: number, v: number, little: boolean): void {
  for (let j = 0; j < 4; j++) b[k + (little ? j : 3 - j)] = (v >>> (8 * j)) & 0xff;
}

function writeWord(b: Uint8Array, i: number, bytes: number, little: boolean, lo: number, hi: number): void {
  if (bytes === 2) {
    b[i + (little ? 0 : 1)] = lo & 0xff;
    b[i + (little ? 1 : 0)] = (lo >>> 8) & 0xff;
  } else if (bytes === 4) w32(b, i, lo, little);
  else if (little) {
    w32(b, i, lo, little);
    w32(b, i + 4, hi, little);
  } else {
    w32(b, i, hi, little);
    w32(b, i + 4, lo, little);
  }
}

export class AerWordDecoder {
  readonly layout: AerLayout;
  private readonly little: boolean;
  private readonly tick: number;
  private readonly timeBase: number;
  private readonly confirm: number;
  /** Delta: running tick count. Absolute: wraps so far × 2^bits, plus the previous raw value. */
  private ticks = 0;
  private lastRaw = 0;
  private carry = new Uint8Array(0);
  private carryOffset = 0;
  private garbageStart = -1;
  private readonly hi = new Uint32Array(1);

  constructor(layout: AerLayout | AerPreset, options: AerCodecOptions = {}) {
    this.layout = resolveLayout(layout);
    this.little = this.layout.endian === 'little';
    this.tick = this.layout.tickUs ?? 1;
    this.timeBase = options.timeBase ?? 0;
    this.confirm = Math.max(1, options.confirmWords ?? 2);
  }

  get wordBytes(): number {
    return this.layout.wordBytes;
  }

  private syncOk(lo: number, hi: number): boolean {
    const s = this.layout.sync;
    return !s || getField(lo, hi, s.field) === s.value;
  }

  /** One word → one event; a detail string when the word is not a valid event. */
  private event(lo: number, hi: number, arrivalUs: number, out: EventOut): string | undefined {
    const l = this.layout;
    if (!this.syncOk(lo, hi)) return `sync bits 0x${getField(lo, hi, l.sync!.field).toString(16)} (want 0x${l.sync!.value.toString(16)})`;
    let x: number;
    let y: number;
    if (l.address) [x, y] = addressToXY(getField(lo, hi, l.address), l.addressWidth);
    else {
      x = getField(lo, hi, l.x!);
      y = l.y ? getField(lo, hi, l.y) : 0;
    }
    if (x > 0xffff || y > 0xffff) return `x ${x} / y ${y} beyond 65535`;
    const p = l.p ? (getField(lo, hi, l.p) !== 0 ? 1 : 0) : 1;
    let t = arrivalUs;
    if (l.t) {
      const raw = getField(lo, hi, l.t);
      if ((l.time ?? 'delta') === 'delta') this.ticks += raw;
      else {
        const span = 2 ** l.t.bits;
        if (this.lastRaw - raw > span / 2) this.ticks += span;
        this.lastRaw = raw;
      }
      t = this.timeBase + (((l.time ?? 'delta') === 'delta' ? this.ticks : this.ticks + raw) * this.tick);
    }
    out.push(x, y, t, p);
    return undefined;
  }

  /** Events of a frame payload of whole words. */
  decodeFrame(payload: Uint8Array, offset: number, arrivalUs: number, out: EventOut, bad: BadReport): number {
    const w = this.layout.wordBytes;
    if (payload.length % w !== 0) {
      bad('parse', offset, `frame payload of ${payload.length} bytes is not a whole number of ${w}-byte AER words`);
      return 0;
    }
    let n = 0;
    for (let i = 0; i < payload.length; i += w) {
      const lo = readWord(payload, i, w, this.little, this.hi);
      const hi = this.hi[0]!;
      const why = this.event(lo, hi, arrivalUs, out);
      if (why) bad('parse', offset, `AER word ${i / w}: ${why}`);
      else n++;
    }
    return n;
  }

  /** A chunk of a raw word stream starting at absolute offset `offset`. */
  pushStream(chunk: Uint8Array, offset: number, arrivalUs: number, out: EventOut, bad: BadReport): number {
    let data = chunk;
    let base = offset;
    if (this.carry.length > 0) {
      data = new Uint8Array(this.carry.length + chunk.length);
      data.set(this.carry);
      data.set(chunk, this.carry.length);
      base = this.carryOffset;
    }
    const w = this.layout.wordBytes;
    let i = 0;
    let n = 0;
    while (i + w <= data.length) {
      if (this.garbageStart >= 0) {
        // Resyncing: accept a boundary only when `confirm` words in a row have valid sync bits.
        if (i + this.confirm * w > data.length) break;
        let ok = true;
        for (let k = 0; k < this.confirm && ok; k++) {
          const lo = readWord(data, i + k * w, w, this.little, this.hi);
          ok = this.syncOk(lo, this.hi[0]!);
        }
        if (!ok) {
          i++;
          continue;
        }
        bad('framing', this.garbageStart, `${base + i - this.garbageStart} bytes skipped to find the AER word boundary`);
        this.garbageStart = -1;
      }
      const lo = readWord(data, i, w, this.little, this.hi);
      const hi = this.hi[0]!;
      if (!this.syncOk(lo, hi)) {
        this.garbageStart = base + i;
        i++;
        continue;
      }
      const why = this.event(lo, hi, arrivalUs, out);
      if (why) bad('parse', base + i, `AER word: ${why}`);
      else n++;
      i += w;
    }
    this.carry = data.slice(i);
    this.carryOffset = base + i;
    return n;
  }

  /** End of a raw stream: leftover bytes are a truncated word (or unresolved garbage). */
  endStream(bad: BadReport): void {
    if (this.garbageStart >= 0) bad('framing', this.garbageStart, `${this.carryOffset + this.carry.length - this.garbageStart} bytes of garbage at the end of the stream`);
    else if (this.carry.length > 0) bad('framing', this.carryOffset, `truncated AER word (${this.carry.length} of ${this.layout.wordBytes} bytes)`);
    this.resetStream();
  }

  /** Drop a partial word (after a reconnect). Time state is kept: the device clock did not restart with the port. */
  resetStream(): void {
    this.carry = new Uint8Array(0);
    this.garbageStart = -1;
  }
}

export interface AerEncoderStats {
  events: number;
  /** Events skipped because x, y or the address did not fit their fields. */
  outOfRange: number;
  /** Delta times larger than the t field, clamped (later deltas catch up). */
  clampedTimes: number;
}

export class AerWordEncoder {
  readonly layout: AerLayout;
  readonly stats: AerEncoderStats = { events: 0, outOfRange: 0, clampedTimes: 0 };
  private readonly little: boolean;
  private readonly tick: number;
  private readonly timeBase: number;
  /** Delta layouts: ticks sent so far (what the decoder has summed). */
  private sent = 0;

  constructor(layout: AerLayout | AerPreset, options: AerCodecOptions = {}) {
    this.layout = resolveLayout(layout);
    this.little = this.layout.endian === 'little';
    this.tick = this.layout.tickUs ?? 1;
    this.timeBase = options.timeBase ?? 0;
  }

  /** Words for the events of `packet`. */
  encode(packet: Pick<EventPacket, 'length' | 'x' | 'y' | 't' | 'p'>): Uint8Array {
    const l = this.layout;
    const w = l.wordBytes;
    const out = new Uint8Array(packet.length * w);
    const fits = (v: number, bits: number) => v >= 0 && v < 2 ** bits;
    let o = 0;
    for (let i = 0; i < packet.length; i++) {
      const x = packet.x[i]!;
      const y = packet.y[i]!;
      let lo = 0;
      let hi = 0;
      if (l.address) {
        const width = l.addressWidth;
        const a = width === undefined ? (y === 0 ? x : -1) : x < width ? y * width + x : -1;
        if (!fits(a, l.address.bits)) {
          this.stats.outOfRange++;
          continue;
        }
        [lo, hi] = setField(lo, hi, l.address, a);
      } else {
        if (!fits(x, l.x!.bits) || (l.y ? !fits(y, l.y.bits) : y !== 0)) {
          this.stats.outOfRange++;
          continue;
        }
        [lo, hi] = setField(lo, hi, l.x!, x);
        if (l.y) [lo, hi] = setField(lo, hi, l.y, y);
      }
      if (l.p) [lo, hi] = setField(lo, hi, l.p, packet.p[i] ? 1 : 0);
      if (l.t) {
        const ticks = Math.round((packet.t[i]! - this.timeBase) / this.tick);
        let raw: number;
        if ((l.time ?? 'delta') === 'delta') {
          const max = 2 ** l.t.bits - 1;
          let d = ticks - this.sent;
          if (d < 0 || d > max) {
            this.stats.clampedTimes++;
            d = Math.max(0, Math.min(max, d));
          }
          this.sent += d;
          raw = d;
        } else raw = ((ticks % 2 ** l.t.bits) + 2 ** l.t.bits) % 2 ** l.t.bits;
        [lo, hi] = setField(lo, hi, l.t, raw);
      }
      if (l.sync) [lo, hi] = setField(lo, hi, l.sync.field, l.sync.value);
      writeWord(out, o, w, this.little, lo, hi);
      o += w;
      this.stats.events++;
    }
    return o === out.length ? out : out.slice(0, o);
  }
}
