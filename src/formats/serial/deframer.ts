/**
 * Incremental deframer for delimiter-based framings (COBS with 0x00, SLIP with 0xC0), with an
 * optional trailing CRC inside each frame. Bytes may arrive in any chunking; frames come out whole
 * through a FrameSink with their absolute byte offset.
 *
 * Resync: every delimiter starts a fresh frame, so garbage costs at most the frame it lands in.
 * Senders should also put a delimiter *before* each frame (the encoders here do): then garbage
 * becomes a frame of its own and the next valid frame is untouched. When garbage without a delimiter
 * runs straight into a valid frame and a CRC is in use, the deframer looks for a valid frame at later
 * start positions inside the rejected bytes (at most `recoverScan` positions and 64 KiB of decoding per
 * rejected frame; for COBS only the positions whose code chain ends exactly at the delimiter) and keeps it; without a
 * CRC there is no way to tell where the garbage ends, so that frame is reported bad.
 * A CRC-16 accepts a random suffix with probability 2^-16 per position tried; use CRC-32 on noisy
 * lines when that matters.
 */

import { appendCrc, checkCrc, crcBytes, type CrcKind, type Endian } from './crc.js';
import { cobsDecode, cobsEncode, cobsSuffixStarts, COBS_DELIMITER } from './cobs.js';
import { slipDecode, slipEncode, slipSuffixStarts, SLIP_END } from './slip.js';
import type { FrameSink } from './types.js';

export type FrameKind = 'cobs' | 'slip';

/** Bytes decoded and checksummed, at most, while looking for a valid frame inside one rejected frame. */
const RECOVER_BUDGET_BYTES = 65536;

export interface DeframerOptions {
  readonly crc?: CrcKind;
  /** Byte order of the CRC after the payload (default little). */
  readonly crcEndian?: Endian;
  /** Longest encoded frame accepted (default 4096 bytes); longer ones are dropped up to the next delimiter. */
  readonly maxFrameBytes?: number;
  /** Start positions tried inside a rejected frame to find a valid frame after garbage (default 256; 0 = off). Needs a CRC. */
  readonly recoverScan?: number;
}

interface Stuffing {
  readonly delimiter: number;
  encode(payload: Uint8Array): Uint8Array;
  decode(encoded: Uint8Array): Uint8Array | string;
}

const STUFFING: Record<FrameKind, Stuffing> = {
  cobs: { delimiter: COBS_DELIMITER, encode: cobsEncode, decode: cobsDecode },
  slip: { delimiter: SLIP_END, encode: slipEncode, decode: slipDecode },
};

/** One complete frame on the wire: delimiter, stuffed payload+CRC, delimiter. */
export function encodeFrame(kind: FrameKind, payload: Uint8Array, crc: CrcKind = 'none', crcEndian: Endian = 'little', leadingDelimiter = true): Uint8Array {
  const s = STUFFING[kind];
  const body = s.encode(appendCrc(payload, crc, crcEndian));
  const lead = leadingDelimiter ? 1 : 0;
  const out = new Uint8Array(body.length + lead + 1);
  if (lead) out[0] = s.delimiter;
  out.set(body, lead);
  out[out.length - 1] = s.delimiter;
  return out;
}

export class Deframer {
  private readonly s: Stuffing;
  private readonly crc: CrcKind;
  private readonly crcEndian: Endian;
  private readonly max: number;
  private readonly scan: number;
  private buf: Uint8Array;
  private len = 0;
  /** Absolute offset of buf[0]. */
  private start = 0;
  /** Total bytes pushed. */
  private pos = 0;
  /** Discarding an over-long frame up to the next delimiter. */
  private overflow = false;

  constructor(
    readonly kind: FrameKind,
    options: DeframerOptions = {},
  ) {
    this.s = STUFFING[kind];
    this.crc = options.crc ?? 'none';
    this.crcEndian = options.crcEndian ?? 'little';
    this.max = options.maxFrameBytes ?? 4096;
    this.scan = options.recoverScan ?? 256;
    if (!(this.max > 0)) throw new RangeError(`Deframer: maxFrameBytes must be > 0, got ${this.max}`);
    this.buf = new Uint8Array(Math.min(this.max, 256));
  }

  /** Bytes pushed so far. */
  get bytesIn(): number {
    return this.pos;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    const d = this.s.delimiter;
    let i = 0;
    while (i < chunk.length) {
      let j = chunk.indexOf(d, i);
      const hit = j >= 0;
      if (!hit) j = chunk.length;
      this.append(chunk, i, j, sink);
      if (hit) {
        this.pos += 1;
        this.close(sink);
        this.start = this.pos;
      }
      i = j + (hit ? 1 : 0);
    }
  }

  /** End of stream: a frame without its closing delimiter is reported as truncated. */
  end(sink: FrameSink): void {
    if (this.len > 0 || this.overflow) sink.bad('framing', this.start, `truncated ${this.kind} frame (${this.pos - this.start} bytes, no closing delimiter)`);
    this.reset();
  }

  /** Forget a partial frame (e.g. after a reconnect); offsets keep counting. */
  reset(): void {
    this.len = 0;
    this.overflow = false;
    this.start = this.pos;
  }

  private append(chunk: Uint8Array, from: number, to: number, sink: FrameSink): void {
    const n = to - from;
    if (n === 0) return;
    this.pos += n;
    if (this.overflow) return;
    if (this.len + n > this.max) {
      this.overflow = true;
      this.len = 0;
      sink.bad('framing', this.start, `${this.kind} frame longer than ${this.max} bytes; dropped up to the next delimiter`);
      return;
    }
    if (this.len + n > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.max, Math.max(this.buf.length * 2, this.len + n)));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(chunk.subarray(from, to), this.len);
    this.len += n;
  }

  private close(sink: FrameSink): void {
    if (this.overflow) {
      this.overflow = false;
      return;
    }
    if (this.len === 0) return; // back-to-back delimiters: an empty frame is a resync marker, not an error
    const raw = this.buf.subarray(0, this.len);
    this.len = 0;
    const r = this.check(raw);
    if (typeof r !== 'string') {
      sink.frame(r, this.start);
      return;
    }
    const reason = r.startsWith('crc') ? 'crc' : 'framing';
    if (this.crc !== 'none' && this.scan > 0) {
      const found = this.kind === 'cobs' ? this.recoverCobs(raw) : this.recoverSlip(raw);
      if (found) {
        sink.bad(reason, this.start, `${r}; a valid frame follows ${found.at} bytes of garbage`);
        sink.frame(found.payload, this.start + found.at);
        return;
      }
    }
    sink.bad(reason, this.start, r);
  }

  /** The first valid frame starting inside `raw` (after 1…recoverScan bytes of garbage). */
  private recoverCobs(raw: Uint8Array): { at: number; payload: Uint8Array } | undefined {
    const last = Math.min(raw.length - crcBytes(this.crc) - 1, this.scan);
    const starts = cobsSuffixStarts(raw);
    // Bounds the work one bad frame can cost (line noise must not stall the reader).
    let budget = RECOVER_BUDGET_BYTES;
    for (let s = 1; s <= last; s++) {
      if (starts[s] === 0) continue;
      budget -= raw.length - s;
      if (budget < 0) return undefined;
      const q = this.check(raw.subarray(s));
      if (typeof q !== 'string') return { at: s, payload: q };
    }
    return undefined;
  }

  private recoverSlip(raw: Uint8Array): { at: number; payload: Uint8Array } | undefined {
    const last = Math.min(raw.length - crcBytes(this.crc) - 1, this.scan);
    const { bytes, starts } = slipSuffixStarts(raw);
    let budget = RECOVER_BUDGET_BYTES;
    for (let s = 1; s <= last; s++) {
      const u = starts[s]!;
      if (u < 0) continue;
      budget -= bytes.length - u;
      if (budget < 0) return undefined;
      const p = checkCrc(bytes.subarray(u), this.crc, this.crcEndian);
      if (p) return { at: s, payload: p.slice() };
    }
    return undefined;
  }

  /** Payload (copied out of the work buffer) or why the encoded frame is invalid. */
  private check(raw: Uint8Array): Uint8Array | string {
    const d = this.s.decode(raw);
    if (typeof d === 'string') return d;
    const p = checkCrc(d, this.crc, this.crcEndian);
    if (p === undefined) return d.length < crcBytes(this.crc) ? `crc: frame of ${d.length} bytes is shorter than its ${this.crc}` : `crc: ${this.crc} mismatch`;
    return p;
  }
}
